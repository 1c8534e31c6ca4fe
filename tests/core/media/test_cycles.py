"""Publish, subscribe, close, a hundred times: nothing may be left behind."""

from __future__ import annotations

import asyncio
import os

import psutil

from core.media import MediaEngine
from tests.core.media.clients import ClientPublisher, ClientSubscriber, PatternVideoTrack
from tests.core.media.conftest import publish, subscribe_server_offer


def _udp_sockets() -> int:
    return len(psutil.Process().net_connections(kind="udp"))


async def _cycle(engine: MediaEngine) -> None:
    client_pub = ClientPublisher(video_track=PatternVideoTrack(160, 120))
    publisher = await publish(engine, client_pub)
    client = ClientSubscriber()
    subscriber = await subscribe_server_offer(engine, publisher, client)
    await asyncio.wait_for(subscriber.first_media_sent.wait(), 10)
    await subscriber.close()
    await publisher.close()
    await client.close()
    await client_pub.close()


async def test_hundred_cycles_leave_nothing(engine: MediaEngine) -> None:
    await _cycle(engine)  # warm up lazily created pools and threads
    await asyncio.sleep(0)
    tasks = len(asyncio.all_tasks())
    fds = len(os.listdir("/proc/self/fd"))
    udp = _udp_sockets()
    for _ in range(100):
        await _cycle(engine)
    assert engine.endpoint_count == 0
    # Let closed transports run their last callbacks.
    for _ in range(10):
        await asyncio.sleep(0)
    assert len(asyncio.all_tasks()) <= tasks, [t.get_coro() for t in asyncio.all_tasks()]
    assert _udp_sockets() <= udp
    assert len(os.listdir("/proc/self/fd")) <= fds
