"""The forwarding plane with real aiortc peers on 127.0.0.1."""

from __future__ import annotations

import asyncio
import time

from core.media import MediaEngine
from tests.core.media.clients import ClientPublisher, ClientSubscriber, DecodeErrors
from tests.core.media.conftest import publish, subscribe_client_offer, subscribe_server_offer


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


async def test_late_joiner_gets_a_frame_quickly(engine: MediaEngine) -> None:
    client_pub = ClientPublisher()
    publisher = await publish(engine, client_pub)
    early = ClientSubscriber()
    await subscribe_server_offer(engine, publisher, early)
    await early.wait_frames("video", 150, within=20)  # 5 s of video
    late = ClientSubscriber()
    with DecodeErrors() as errors:
        started = time.monotonic()
        await subscribe_server_offer(engine, publisher, late)
        await asyncio.wait_for(late.first_video.wait(), 10)
        first_frame = time.monotonic() - started
        await late.wait_frames("video", 15)
    print(f"late joiner: first decoded frame {first_frame * 1000:.0f} ms after negotiation")
    assert errors.count == 0
    assert set(late.video_sizes) == {(640, 480)}
    assert first_frame < 3.0
    for client in (client_pub, early, late):
        await client.close()


async def test_loss_is_repaired_by_nack(engine: MediaEngine) -> None:
    client_pub = ClientPublisher()
    publisher = await publish(engine, client_pub)
    lossy = ClientSubscriber(loss=0.02, seed=7)
    with DecodeErrors() as errors:
        subscriber = await subscribe_server_offer(engine, publisher, lossy)
        await lossy.wait_frames("video", 150, within=30)
    sent = subscriber.stats()["video"]
    print(f"dropped {lossy.dropped} packets, {sent.nack_count} NACKed, {sent.pli_count} PLIs")
    assert lossy.dropped > 0
    assert sent.nack_count > 0
    assert sent.retransmitted > 0  # answered from the packet cache
    assert errors.count == 0
    assert set(lossy.video_sizes) == {(640, 480)}
    # Frames keep coming: the last second of the wait decoded at a steady rate.
    times = lossy.video_times
    assert times[-1] - times[-30] < 2.0
    for client in (client_pub, lossy):
        await client.close()


async def test_publisher_leaving_ends_media(engine: MediaEngine) -> None:
    client_pub = ClientPublisher()
    publisher = await publish(engine, client_pub)
    reasons: list[str] = []
    publisher.on_close(reasons.append)
    clients = [ClientSubscriber() for _ in range(2)]
    subs = [await subscribe_server_offer(engine, publisher, c) for c in clients]
    for client in clients:
        await client.wait_frames("video", 5)
    await client_pub.close()  # the client goes away: DTLS shutdown
    await asyncio.wait_for(publisher.closed.wait(), 15)
    assert reasons and reasons[0] in ("closed", "failed")
    for sub in subs:
        assert not sub.closed.is_set()
        assert sub.sources() == []
        before = sub.stats()["video"].packets
        assert sub.stats()["video"].packets == before
    assert engine.endpoint_count == 2
    for client in clients:
        await client.close()


async def test_client_offer_negotiation(engine: MediaEngine) -> None:
    client_pub = ClientPublisher()
    publisher = await publish(engine, client_pub)
    client = ClientSubscriber()
    subscriber = await subscribe_client_offer(engine, publisher, client)
    await client.wait_frames("video", 10)
    await client.wait_frames("audio", 10)
    assert sorted(subscriber.mids_of(publisher)) == ["0", "1"]
    assert subscriber.sources() == [publisher]
    for c in (client_pub, client):
        await c.close()


async def test_h264_publish_path(engine: MediaEngine) -> None:
    client_pub = ClientPublisher(audio=False, video_codec="video/H264")
    publisher = await publish(engine, client_pub)
    assert [t.codec.mime_type for t in publisher.tracks] == ["video/H264"]
    client = ClientSubscriber()
    with DecodeErrors() as errors:
        await subscribe_client_offer(engine, publisher, client, kinds=("video",))
        await client.wait_frames("video", 20)
    assert errors.count == 0
    assert set(client.video_sizes) == {(640, 480)}
    stats = publisher.stats()["video"]
    assert (stats.width, stats.height) == (640, 480)
    for c in (client_pub, client):
        await c.close()


async def test_audio_only_and_video_only(engine: MediaEngine) -> None:
    audio_pub = ClientPublisher(video=False)
    video_pub = ClientPublisher(audio=False)
    audio = await publish(engine, audio_pub)
    video = await publish(engine, video_pub)
    assert [t.kind for t in audio.tracks] == ["audio"]
    assert [t.kind for t in video.tracks] == ["video"]
    listener, viewer = ClientSubscriber(), ClientSubscriber()
    await subscribe_server_offer(engine, audio, listener)
    await subscribe_client_offer(engine, video, viewer, kinds=("video",))
    await listener.wait_frames("audio", 25)
    await viewer.wait_frames("video", 15)
    assert not listener.video_sizes and not viewer.audio_frames
    for c in (audio_pub, video_pub, listener, viewer):
        await c.close()


async def test_two_sources_on_one_subscriber(engine: MediaEngine) -> None:
    pubs = [ClientPublisher(audio=False), ClientPublisher(audio=False)]
    first = await publish(engine, pubs[0])
    second = await publish(engine, pubs[1])
    client = ClientSubscriber()
    subscriber = await subscribe_server_offer(engine, first, client)
    await client.wait_frames("video", 10)
    subscriber.attach(second)
    await subscriber.accept_answer(await client.answer(await subscriber.create_offer()))
    assert len(subscriber.mids_of(second)) == 1
    await client.wait_frames("video", 40)  # both streams decode: twice the frame rate
    assert subscriber.sources() == [first, second]
    subscriber.set_enabled("video", False, source=first)
    subscriber.detach(second)
    assert subscriber.sources() == [first]
    await subscriber.accept_answer(await client.answer(await subscriber.create_offer()))
    packets = subscriber.stats()["video"].packets
    subscriber.set_enabled("video", True, source=first)
    await client.wait_frames("video", 10)
    assert subscriber.stats()["video"].packets > packets
    for c in (*pubs, client):
        await c.close()


async def test_two_sources_attached_before_the_first_offer(engine: MediaEngine) -> None:
    pubs = [ClientPublisher(), ClientPublisher()]
    first = await publish(engine, pubs[0])
    second = await publish(engine, pubs[1])
    for publisher in (first, second):
        await asyncio.wait_for(publisher.media_flowing.wait(), 10)
    client = ClientSubscriber()
    subscriber = engine.subscriber(name="room")
    subscriber.attach(first)
    subscriber.attach(second)
    with DecodeErrors() as errors:
        await subscriber.accept_answer(await client.answer(await subscriber.create_offer()))
        mids = subscriber.mids_of(first) + subscriber.mids_of(second)
        assert len(mids) == 4
        await client.wait_frames("video", 60, within=20)
        await client.wait_frames("audio", 50, within=20)
        # Every mid of both sources decodes, not just twice as many frames of one.
        for _ in range(100):
            if all(client.frames_by_mid.get(mid, 0) >= 10 for mid in mids):
                break
            await asyncio.sleep(0.1)
    assert {mid: client.frames_by_mid.get(mid, 0) >= 10 for mid in mids} == dict.fromkeys(
        mids, True
    ), client.frames_by_mid
    assert errors.count == 0
    sent = subscriber.stats()["video"]
    assert sent.packets > 0
    for c in (*pubs, client):
        await c.close()
