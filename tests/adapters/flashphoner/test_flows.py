"""The connection state machine with real aiortc peers speaking the WCS wire format."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

from adapters.flashphoner.settings import FlashphonerSettings
from tests.core.media.clients import ClientPublisher, ClientSubscriber, PatternVideoTrack

from .conftest import Gateway, WcsClient, start_gateway, stop_gateway


def msid() -> str:
    return str(uuid.uuid1())


def stream_object(mid: str, name: str, sdp: str, *, published: bool) -> dict[str, Any]:
    return {
        "mediaSessionId": mid,
        "name": name,
        "published": published,
        "hasVideo": True,
        "hasAudio": True,
        "status": "PENDING",
        "record": False,
        "mediaProvider": "WebRTC",
        "sdp": sdp,
    }


def small_publisher() -> ClientPublisher:
    return ClientPublisher(video_track=PatternVideoTrack(320, 240, 15))


async def publish(client: WcsClient, name: str) -> tuple[str, ClientPublisher, dict[str, Any]]:
    peer = small_publisher()
    mid = msid()
    await client.send("publishStream", stream_object(mid, name, await peer.offer(), published=True))
    answer = await client.expect("setRemoteSDP")
    assert answer["data"][0] == mid
    assert "a=candidate:" in answer["data"][1]
    await peer.accept_answer(answer["data"][1])
    status = await client.status(mid, "PUBLISHING")
    return mid, peer, status


async def test_connect_echoes_the_client_and_reports_the_version(
    clients: Callable[[], Any],
) -> None:
    client: WcsClient = await clients()
    user_data = await client.connect(custom={"user": "alice"}, clientOSVersion="x")
    obj = user_data["data"][0]
    assert obj["status"] == "ESTABLISHED"
    assert obj["authToken"]
    assert obj["custom"] == {"user": "alice"} and obj["clientOSVersion"] == "x"
    version = await client.expect("getVersion")
    assert isinstance(version["data"][0], str)
    await client.send("ping", None)
    assert (await client.expect("pong"))["data"] == [None]


async def test_server_pings_and_every_frame_carries_data(settings: FlashphonerSettings) -> None:
    gw = await start_gateway(settings.model_copy(update={"ping_interval": 0.2}))
    client = await WcsClient.open(gw.ws_url)
    try:
        await client.connect()
        ping = await client.expect("ping", within=3)
        assert isinstance(ping["data"], list)
        await client.send("pong", None)
        assert all(isinstance(f.get("data"), list) for f in client.frames)
    finally:
        await client.close()
        await stop_gateway(gw)


async def test_publish_play_events_rates_and_stops(
    gateway: Gateway, clients: Callable[[], Any]
) -> None:
    pub: WcsClient = await clients()
    player: WcsClient = await clients()
    await pub.connect()
    await player.connect()
    pub_id, pub_peer, publishing = await publish(pub, "cam1")
    assert publishing["name"] == "cam1" and publishing["published"] is True
    assert publishing["videoCodec"] == "VP8" and publishing["audioCodec"] == "opus"
    assert (publishing["width"], publishing["height"]) == (320, 240)

    await player.send("availableStream", {"mediaSessionId": msid(), "name": "cam1"})
    available = await player.expect("availableStream")
    assert available["data"][0]["status"] == "true"

    sub_peer = ClientSubscriber()
    play_id = msid()
    offer = await sub_peer.offer()
    await player.send("playStream", stream_object(play_id, "cam1", offer, published=False))
    codec_frame = await player.expect("notifyAudioCodec")
    assert codec_frame["data"] == [play_id, {"name": "opus"}]
    answer = await player.expect("setRemoteSDP")
    await sub_peer.accept_answer(answer["data"][1])
    playing = await player.status(play_id, "PLAYING")
    assert playing["videoCodec"] == "VP8"
    video_format = await player.expect("notifyVideoFormat")
    assert video_format["data"][0]["streamerVideoWidth"] == 320
    assert video_format["data"][0]["status"]
    await sub_peer.wait_frames("video", 10)
    assert sub_peer.video_sizes[-1] == (320, 240)

    inbound = await pub.expect("inboundVideoRate", lambda f: f["data"][0]["videoRate"] > 0)
    assert inbound["data"][0]["mediaSessionId"] == pub_id
    assert inbound["data"][0]["width"] == 320
    outbound = await player.expect("outboundVideoRate", lambda f: f["data"][0]["videoRate"] > 0)
    assert outbound["data"][0]["mediaSessionId"] == play_id

    await pub.send(
        "sendStreamEvent", {"mediaSessionId": pub_id, "type": "data", "payload": {"n": 1}}
    )
    event = await player.expect("notifyStreamEvent")
    assert event["data"][0] == {"mediaSessionId": play_id, "type": "data", "payload": {"n": 1}}

    await player.send("stopStream", {"mediaSessionId": play_id, "name": "cam1"})
    stopped = await player.status(play_id, "STOPPED")
    assert stopped["info"] == "Stopped by user"

    await pub.send("unPublishStream", {"mediaSessionId": pub_id, "name": "cam1"})
    unpublished = await pub.status(pub_id, "UNPUBLISHED")
    assert unpublished["info"] == "Stopped by publisher stop"
    await pub_peer.close()
    await sub_peer.close()
    assert not gateway.hub.streams()


async def test_players_hear_the_publisher_leave(
    gateway: Gateway, clients: Callable[[], Any]
) -> None:
    pub: WcsClient = await clients()
    player: WcsClient = await clients()
    await pub.connect()
    await player.connect()
    _, pub_peer, _ = await publish(pub, "cam2")
    sub_peer = ClientSubscriber()
    play_id = msid()
    await player.send(
        "playStream", stream_object(play_id, "cam2", await sub_peer.offer(), published=False)
    )
    await sub_peer.accept_answer((await player.expect("setRemoteSDP"))["data"][1])
    await player.status(play_id, "PLAYING")
    await pub.close()  # the publisher's socket goes away
    stopped = await player.status(play_id, "STOPPED")
    assert stopped["info"] == "Stopped by publisher stop"
    await pub_peer.close()
    await sub_peer.close()
    for _ in range(50):
        if gateway.hub.media.endpoint_count == 0:
            break
        await asyncio.sleep(0.05)
    assert gateway.hub.media.endpoint_count == 0


async def test_errors_in_wcs_words(gateway: Gateway, clients: Callable[[], Any]) -> None:
    client: WcsClient = await clients()
    early = msid()
    await client.send("playStream", stream_object(early, "x", "v=0", published=False))
    assert (await client.status(early, "FAILED"))["info"] == "Session not ready"
    await client.connect()

    sub_peer = ClientSubscriber()
    missing = msid()
    await client.send(
        "playStream", stream_object(missing, "nothing", await sub_peer.offer(), published=False)
    )
    failed = await client.status(missing, "FAILED")
    assert failed["info"] == "Stream not found"
    await sub_peer.close()

    await client.send("availableStream", {"mediaSessionId": "a1", "name": "nothing"})
    available = await client.expect("availableStream")
    assert available["data"][0] == {"id": "a1", "status": "false", "info": "Stream not found"}

    bad = msid()
    await client.send("publishStream", stream_object(bad, "cam3", "not an sdp", published=True))
    assert (await client.status(bad, "FAILED"))["info"] == "Failed by error"
    assert not gateway.hub.streams()

    await client.ws.send_str("{not json")
    assert (await client.expect("fail"))["data"][0]["info"]
    await client.send("fly", {})
    assert "fly" in (await client.expect("fail"))["data"][0]["info"]
    await client.send("publishStream", {"mediaSessionId": "m9"})
    assert (await client.status("m9", "FAILED"))["info"] == "Failed by error"
    await client.send("snapshot", {"mediaSessionId": "m9", "name": "x"})
    assert (await client.expect("fail"))["data"][0]["apiMethod"] == "snapshot"


async def test_a_name_in_use_fails_in_wcs_words(
    gateway: Gateway, clients: Callable[[], Any]
) -> None:
    first: WcsClient = await clients()
    second: WcsClient = await clients()
    await first.connect()
    await second.connect()
    peer = small_publisher()
    one = msid()
    offer = await peer.offer()
    await first.send("publishStream", stream_object(one, "same", offer, published=True))
    await first.expect("setRemoteSDP")
    other = small_publisher()
    two = msid()
    await second.send(
        "publishStream", stream_object(two, "same", await other.offer(), published=True)
    )
    failed = await second.status(two, "FAILED")
    assert failed["info"] == "Stream name is already in use"
    await peer.close()
    await other.close()
