"""Negotiation failures, candidates and configuration."""

from __future__ import annotations

import pytest

from core.errors import BadSdp, CodecNotSupported
from core.media import MediaConfig, MediaEngine
from tests.core.media.clients import ClientPublisher, ClientSubscriber
from tests.core.media.conftest import publish


async def test_vp8_stream_to_h264_only_subscriber(engine: MediaEngine) -> None:
    client_pub = ClientPublisher(audio=False)
    publisher = await publish(engine, client_pub)
    client = ClientSubscriber()
    subscriber = engine.subscriber(name="h264-only")
    subscriber.attach(publisher)
    offer = await client.offer(kinds=("video",), video_codec="video/H264")
    with pytest.raises(CodecNotSupported, match="VP8"):
        await subscriber.accept_offer(offer)
    for c in (client_pub, client):
        await c.close()


@pytest.mark.parametrize(
    "text", ["", "garbage", "v=0\r\nm=video\r\n", "v=0\r\no=- 1 1 IN IP4 x\r\n"]
)
async def test_garbage_sdp(engine: MediaEngine, text: str) -> None:
    publisher = engine.publisher(name="p")
    with pytest.raises(BadSdp):
        await publisher.accept_offer(text)
    subscriber = engine.subscriber(name="s")
    with pytest.raises(BadSdp):
        await subscriber.accept_answer(text)


async def test_candidates(engine: MediaEngine) -> None:
    client_pub = ClientPublisher(audio=False)
    publisher = await publish(engine, client_pub)
    candidates = publisher.local_candidates()
    assert candidates and all(c.candidate.startswith("candidate:") for c in candidates)
    assert all(" 127.0.0.1 " in c.candidate for c in candidates)
    assert candidates[0].sdp_mline_index == 0
    with pytest.raises(BadSdp):
        await publisher.add_remote_candidate("candidate:nonsense")
    with pytest.raises(BadSdp):
        await publisher.add_remote_candidate("not a candidate")
    remote = "a=candidate:1 1 udp 2130706431 127.0.0.1 9 typ host"
    await publisher.add_remote_candidate(remote, sdp_mid="0")
    await publisher.add_remote_candidate("")
    await client_pub.close()


async def test_default_host_addresses_include_loopback() -> None:
    engine = MediaEngine(MediaConfig())
    publisher = engine.publisher(name="p")
    assert "127.0.0.1" in publisher._addresses
    assert MediaConfig().ice_servers == ()
    await engine.close()
    assert engine.endpoint_count == 0


async def test_publisher_offer_pulls_media(engine: MediaEngine) -> None:
    """The gateway as a client: a recvonly offer answered by a sending peer."""
    from aiortc import RTCSessionDescription

    from core.media import _aiortc
    from tests.core.media.clients import LOOPBACK, SineAudioTrack, loopback_pc

    publisher = engine.publisher(name="pull")
    offer = await publisher.create_offer(kinds=("audio",))
    remote = loopback_pc()
    await remote.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    for transceiver in remote.getTransceivers():
        transceiver.sender.replaceTrack(SineAudioTrack())
        transceiver.direction = "sendonly"
    _aiortc.restrict_gathering(remote, LOOPBACK)
    await remote.setLocalDescription(await remote.createAnswer())
    await publisher.accept_answer(remote.localDescription.sdp)
    assert [t.kind for t in publisher.tracks] == ["audio"]
    import asyncio

    await asyncio.wait_for(publisher.media_flowing.wait(), 10)
    await remote.close()
