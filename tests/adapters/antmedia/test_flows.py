"""The Ant Media state machine against real aiortc peers speaking the wire format."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

import pytest

from adapters.antmedia import codec
from tests.adapters.antmedia.clients import Client, first_video_frame
from tests.adapters.antmedia.conftest import Running, StartGateway

pytestmark = pytest.mark.timeout(60)

Connect = Callable[..., Awaitable[Client]]


def member_ids(id_mapping: Mapping[str, str]) -> set[str]:
    """The stream ids behind an ``idMapping``, as conference apps read them: each track id
    is ``ARDAMSv`` or ``ARDAMSa`` followed by the stream id."""
    return {track_id[len("ARDAMSx") :] for track_id in id_mapping.values()}


@pytest.fixture
async def gateway(start_gateway: StartGateway) -> Running:
    return await start_gateway(bitrate_measurement_interval_s=0.5)


@pytest.fixture
async def connect(gateway: Running) -> AsyncIterator[Connect]:
    clients: list[Client] = []

    async def open_client(app: str = "WebRTCAppEE", running: Running | None = None) -> Client:
        client = await Client.connect((running or gateway).ws_url(app))
        clients.append(client)
        return client

    yield open_client
    for client in clients:
        await client.close()


async def test_ping_pong_and_query_string(connect: Connect) -> None:
    client = await connect()
    await client.send(codec.Ping())
    await client.expect(codec.Pong)


async def test_publish_then_play_decodes_frames(connect: Connect, gateway: Running) -> None:
    pub = await connect()
    await pub.publish("cam1")
    viewer = await connect("LiveApp")  # another application, the same default namespace
    offer = await viewer.play("cam1")
    assert offer.id_mapping is not None
    # Track ids as Ant Media names them: ARDAMSv / ARDAMSa and the stream id.
    assert sorted(offer.id_mapping.values()) == ["ARDAMSacam1", "ARDAMSvcam1"]
    candidates = [m for m in viewer.received if isinstance(m, codec.TakeCandidate)]
    assert candidates and all(isinstance(c.label, int) for c in candidates)
    await viewer.expect(codec.PlayStarted, lambda m: m.stream_id == "cam1")
    frame = await first_video_frame(viewer.pcs["cam1"])
    assert (frame.width, frame.height) == (320, 240)

    await viewer.send(codec.GetStreamInfo("cam1"))
    info = await viewer.expect(codec.StreamInformation)
    assert info.stream_info[0].stream_width == 320
    assert info.stream_info[0].stream_height == 240
    assert info.stream_info[0].video_codec and "VP8" in info.stream_info[0].video_codec
    measurement = await viewer.expect(codec.BitrateMeasurement, within=5)
    assert measurement.stream_id == "cam1"

    await pub.send(codec.Stop("cam1"))
    await pub.expect(codec.PublishFinished, lambda m: m.stream_id == "cam1")
    await viewer.expect(codec.PlayFinished, lambda m: m.stream_id == "cam1")


async def test_publish_again_after_stop_on_the_same_connection(connect: Connect) -> None:
    pub = await connect()
    await pub.publish("again")
    await pub.send(codec.Stop("again"))
    await pub.expect(codec.PublishFinished)
    await pub.pcs.pop("again").close()
    await pub.publish("again")


async def test_audio_only_publish_and_play(connect: Connect) -> None:
    pub = await connect()
    await pub.publish("radio", video=False)
    viewer = await connect()
    offer = await viewer.play("radio")
    assert "m=video" not in offer.sdp and "m=audio" in offer.sdp
    await viewer.expect(codec.PlayStarted)


@pytest.mark.parametrize(
    ("frame", "definition"),
    [
        ('{"command":"publish"}', "noStreamNameSpecified"),
        ('{"command":"publish","streamId":""}', "noStreamNameSpecified"),
        ('{"command":"publish","streamId":"bad name!"}', "invalidStreamName"),
        ('{"command":"play","streamId":"nobody"}', "no_stream_exist"),
        ('{"command":"joinRoom","streamId":"x"}', "no_room_specified"),
        ('{"command":"leave","streamId":"nobody"}', "no_peer_associated_before"),
        ('{"command":"takeCandidate"}', "noStreamNameSpecified"),
        ("{not json", "missingParameter"),
        ('{"command":"fly"}', "unsupported_command"),
    ],
)
async def test_refusals(connect: Connect, frame: str, definition: str) -> None:
    client = await connect()
    await client.send_raw(frame)
    await client.error(definition)
    await client.send(codec.Ping())  # the connection stays usable
    await client.expect(codec.Pong)


async def test_stream_id_in_use_and_already_publishing(connect: Connect) -> None:
    first = await connect()
    await first.send(codec.Publish("taken"))
    await first.expect(codec.Start)
    await first.send(codec.Publish("taken"))
    await first.error("already_publishing")
    second = await connect()
    await second.send(codec.Publish("taken"))
    error = await second.error("streamIdInUse")
    assert error.stream_id == "taken"


async def test_already_playing(connect: Connect) -> None:
    pub = await connect()
    await pub.publish("twice")
    viewer = await connect()
    await viewer.play("twice")
    await viewer.send(codec.Play("twice"))
    await viewer.error("already_playing")


async def test_publish_timeout(start_gateway: StartGateway) -> None:
    running = await start_gateway(publish_timeout_ms=300)
    client = await Client.connect(running.ws_url())
    try:
        await client.send(codec.Publish("silent"))
        await client.expect(codec.Start)
        error = await client.error("publishTimeoutError", within=5)
        assert error.stream_id == "silent"
        await client.expect(codec.PublishFinished)
        assert not running.hub.streams()
    finally:
        await client.close()


async def test_viewer_limit(start_gateway: StartGateway) -> None:
    running = await start_gateway(max_viewers_per_stream=1)
    pub = await Client.connect(running.ws_url())
    one = await Client.connect(running.ws_url())
    two = await Client.connect(running.ws_url())
    try:
        await pub.publish("popular")
        await one.play("popular")
        await two.send(codec.Play("popular"))
        await two.error("viewerLimitReached")
    finally:
        for c in (pub, one, two):
            await c.close()


async def test_high_resource_usage(start_gateway: StartGateway) -> None:
    running = await start_gateway(min_free_ram_mb=10**9)  # more than any machine has
    client = await Client.connect(running.ws_url())
    try:
        await client.send(codec.Publish("heavy"))
        await client.error("highResourceUsage")
        await client.send(codec.Play("heavy"))
        await client.error("highResourceUsage")
    finally:
        await client.close()


async def test_bad_sdp_is_not_set_remote_description(connect: Connect) -> None:
    client = await connect()
    await client.send(codec.Publish("garbled"))
    await client.expect(codec.Start)
    await client.send(codec.TakeConfiguration("garbled", "offer", "v=0\r\nnonsense\r\n"))
    await client.error("notSetRemoteDescription")


async def test_ice_server_config(start_gateway: StartGateway) -> None:
    running = await start_gateway(
        ice_servers=[{"urls": ["turn:127.0.0.1:3478"], "username": "u", "credential": "p"}]
    )
    client = await Client.connect(running.ws_url())
    try:
        await client.send(codec.GetIceServerConfig())
        config = await client.expect(codec.IceServerConfig)
        assert config == codec.IceServerConfig("turn:127.0.0.1:3478", "u", "p")
    finally:
        await client.close()


async def test_ice_server_config_empty_by_default(connect: Connect) -> None:
    client = await connect()
    await client.send(codec.GetIceServerConfig())
    assert await client.expect(codec.IceServerConfig) == codec.IceServerConfig()


async def test_toggle_video_stops_and_resumes_packets(connect: Connect) -> None:
    pub = await connect()
    await pub.publish("muted")
    viewer = await connect()
    await viewer.play("muted")
    await viewer.expect(codec.PlayStarted)
    pc = viewer.pcs["muted"]
    await first_video_frame(pc)

    async def video_packets() -> int:
        stats = await pc.getStats()
        return sum(
            s.packetsReceived
            for s in stats.values()
            if s.type == "inbound-rtp" and s.kind == "video"
        )

    await viewer.send(codec.ToggleVideo("muted", "muted", False))
    await asyncio.sleep(0.5)
    before = await video_packets()
    await asyncio.sleep(1.0)
    assert await video_packets() - before <= 2
    await viewer.send(codec.ToggleVideo("muted", "muted", True))
    await asyncio.sleep(1.5)
    assert await video_packets() - before > 5


async def test_conference_room(connect: Connect) -> None:
    alice = await connect()
    await alice.send(codec.JoinRoom("room1", stream_id="alice"))
    joined = await alice.expect(codec.JoinedTheRoom)
    assert joined.stream_id == "alice" and joined.streams == ()
    await alice.send(codec.Publish("alice", main_track="room1"))
    await alice.expect(codec.Start)
    bob = await connect()
    await bob.send(codec.JoinRoom("room1"))
    bob_joined = await bob.expect(codec.JoinedTheRoom)
    assert bob_joined.stream_id and bob_joined.stream_id != "alice"
    bob_id = bob_joined.stream_id
    await bob.publish(bob_id)
    await alice.expect(codec.StreamJoined, lambda m: m.stream_id == bob_id)

    # alice plays the room (her own stream excluded) and gets bob's stream
    offer = await alice.play("room1", track_list=("!alice",))
    assert offer.id_mapping and member_ids(offer.id_mapping) == {bob_id}
    await alice.expect(codec.PlayStarted, lambda m: m.stream_id == "room1")

    carol = await connect()
    await carol.send(codec.JoinRoom("room1", stream_id="carol"))
    await carol.expect(codec.JoinedTheRoom)
    await carol.publish("carol")
    renegotiation = await alice.expect(
        codec.TakeConfiguration,
        lambda m: (
            m.stream_id == "room1" and bool(m.id_mapping) and "carol" in member_ids(m.id_mapping)
        ),  # type: ignore[union-attr]
    )
    await alice.answer_offer(renegotiation)

    await alice.send(codec.GetRoomInfo("room1", "alice"))
    info = await alice.expect(codec.RoomInformation)
    assert set(info.streams) == {bob_id, "carol"}
    await alice.send(codec.GetTrackList("room1"))
    tracks = await alice.expect(codec.TrackList)
    assert set(tracks.track_list) == {bob_id, "carol"}

    await carol.send(codec.LeaveFromRoom("room1"))
    await carol.expect(codec.LeavedFromRoom)
    left = await bob.expect(codec.StreamLeaved)
    assert left.stream_id == "carol"
    again = await alice.expect(
        codec.TakeConfiguration,
        lambda m: (
            m.stream_id == "room1"
            and m.id_mapping is not None
            and "carol" not in member_ids(m.id_mapping)
        ),
    )
    await alice.answer_offer(again)


async def test_p2p_relay(connect: Connect) -> None:
    one = await connect()
    two = await connect()
    await one.send(codec.Join("pair"))
    await one.expect(codec.Joined)
    await two.send(codec.Join("pair", mode="both"))
    await two.expect(codec.Joined)
    await one.expect(codec.Start, lambda m: m.stream_id == "pair")
    await one.send(codec.TakeConfiguration("pair", "offer", "v=0\r\n"))
    relayed = await two.expect(codec.TakeConfiguration)
    assert relayed.sdp == "v=0\r\n" and relayed.type == "offer"
    await two.send(codec.TakeCandidate("pair", "candidate:1 1 udp 1 10.0.0.1 9 typ host", 0, "0"))
    assert (await one.expect(codec.TakeCandidate)).label == 0
    await two.send(codec.Leave("pair"))
    await one.expect(codec.Stop, lambda m: m.stream_id == "pair")
    await one.send(codec.TakeConfiguration("pair", "offer", "v=0\r\n"))
    await one.error("no_peer_associated_before")


async def test_server_will_stop_on_graceful_shutdown(start_gateway: StartGateway) -> None:
    running = await start_gateway()
    client = await Client.connect(running.ws_url())
    try:
        await client.send(codec.Ping())
        await client.expect(codec.Pong)
        await running.dialect.stop(graceful=True)
        await client.expect(codec.ServerWillStop)
    finally:
        await client.close()


async def test_room_play_decodes_every_member(connect: Connect) -> None:
    members = []
    for name in ("m1", "m2", "m3"):
        member = await connect()
        await member.send(codec.JoinRoom("decoders", stream_id=name))
        await member.expect(codec.JoinedTheRoom)
        await member.publish(name)
        members.append(member)
    viewer = await connect()
    offer = await viewer.play("decoders")
    while offer.id_mapping is not None and len(member_ids(offer.id_mapping)) < 3:
        offer = await viewer.expect(codec.TakeConfiguration, lambda m: m.type == "offer")
        await viewer.answer_offer(offer)
    assert offer.id_mapping is not None
    assert member_ids(offer.id_mapping) == {"m1", "m2", "m3"}
    receivers = [r for r in viewer.pcs["decoders"].getReceivers() if r.track.kind == "video"]
    frames = await asyncio.gather(*(asyncio.wait_for(r.track.recv(), 10) for r in receivers))
    assert [(f.width, f.height) for f in frames] == [(320, 240)] * 3


async def test_publish_token_control(start_gateway: StartGateway) -> None:
    running = await start_gateway(apps={"Secure": {"publish_token_control": True}})
    secure = await Client.connect(running.ws_url("Secure"))
    open_app = await Client.connect(running.ws_url("Open"))
    try:
        await secure.send(codec.Publish("guarded", token="wrong"))
        error = await secure.error("unauthorized_access")
        assert error.stream_id == "guarded"
        await open_app.send(codec.Publish("guarded"))
        await open_app.expect(codec.Start)
    finally:
        await secure.close()
        await open_app.close()
