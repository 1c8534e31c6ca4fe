"""The forwarding plane with real aiortc peers on 127.0.0.1."""

from __future__ import annotations

import asyncio

from core.media import MediaEngine
from tests.core.media.clients import ClientPublisher, ClientSubscriber, DecodeErrors
from tests.core.media.conftest import publish, subscribe_server_offer


async def test_one_publisher_three_subscribers(engine: MediaEngine) -> None:
    client_pub = ClientPublisher()
    publisher = await publish(engine, client_pub)
    await asyncio.wait_for(publisher.media_flowing.wait(), 10)
    clients = [ClientSubscriber() for _ in range(3)]
    with DecodeErrors() as errors:
        subs = [await subscribe_server_offer(engine, publisher, c) for c in clients]
        for client in clients:
            await client.wait_frames("video", 30)
            await client.wait_frames("audio", 20)
    for client in clients:
        assert set(client.video_sizes) == {(640, 480)}
    assert errors.count == 0
    stats = publisher.stats()
    assert stats["video"].width == 640 and stats["video"].height == 480
    assert stats["video"].codec == "video/VP8"
    assert stats["audio"].packets > 0
    for sub in subs:
        sent = sub.stats()
        assert sent["video"].packets > 0 and sent["audio"].packets > 0
        assert sub.first_media_sent.is_set()
    await client_pub.close()
    for client in clients:
        await client.close()
