"""Supervisors, and every way an RTM session ends."""

from __future__ import annotations

import asyncio

import aiohttp
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from .clients import RtmClient
from .conftest import StartRtm

KEY = "a-master-key-long-enough-for-hs256!"
BAD_OFFER = {"type": "offer", "sdp": "v=0\r\nthis is not a session description\r\n"}


async def active_client(rtm: object, client_id: str, session_id: str) -> RtmClient:
    client: RtmClient = rtm.client(client_id)  # type: ignore[attr-defined]
    await client.connect()
    await client.start_session(session_id)
    await client.state("ACTIVE")
    return client


async def test_supervisors_watch_an_active_client(start_rtm: StartRtm) -> None:
    rtm = await start_rtm(max_supervisors=1)
    hook = f"{rtm.receiver.url}/hook"
    agent = await active_client(rtm, "agent", "a-1")

    supervisor = rtm.client("sup-1")
    await supervisor.connect()
    supervisor.session_id = "v-1"
    await supervisor.send(
        "supervisor_join_session",
        {
            "sdp": await supervisor.offer(recv=True),
            "session_id_to_monitor": "a-1",
            "webhook_url": hook,
        },
    )
    await supervisor.state("SETUP")
    await supervisor.state("ACTIVE")
    track = next(t.receiver.track for t in supervisor.pc.getTransceivers() if t.kind == "video")
    frame = await asyncio.wait_for(track.recv(), 10)
    assert isinstance(frame, VideoFrame)
    assert (frame.width, frame.height) == (320, 240)

    # a second supervisor is one too many; a supervisor of nobody has no agent
    second = rtm.client("sup-2")
    await second.connect()
    await second.send("supervisor_join_session", {"sdp": BAD_OFFER, "session_id_to_monitor": "a-1"})
    assert (await second.state("TERMINATED"))["termination_cause"] == "MAX_SUPERVISORS_PER_AGENT"
    third = rtm.client("sup-3")
    await third.connect()
    await third.send("supervisor_join_session", {"sdp": BAD_OFFER, "session_id_to_monitor": "nope"})
    assert (await third.state("TERMINATED"))["termination_cause"] == "NO_ACTIVE_AGENT"

    # the same client id cannot have two sessions
    twin = rtm.client("agent")
    await twin.connect()
    twin.session_id = "a-2"
    await twin.send("session_start", {"sdp": BAD_OFFER})
    assert (await twin.state("TERMINATED"))["termination_cause"] == "TWO_TIMER"

    await agent.send("session_stop")
    assert (await agent.state("TERMINATED"))["termination_cause"] == "TERM_BY_CLIENT"
    end = await supervisor.state("TERMINATED")
    assert end["termination_cause"] == "AGENT_SESSION_TERM"
    for _ in range(50):
        if rtm.hooks("supervisor_session_finished"):
            break
        await asyncio.sleep(0.05)
    (finished,) = rtm.hooks("supervisor_session_finished")
    assert finished["termination_cause"] == "AGENT_SESSION_TERM"
    for client in (agent, supervisor, second, third, twin):
        await client.close()
    try:
        await asyncio.wait_for(track.recv(), 1)
    except (MediaStreamError, TimeoutError):
        pass


async def test_sdp_error(start_rtm: StartRtm) -> None:
    rtm = await start_rtm()
    client = rtm.client("bad")
    await client.connect()
    client.session_id = "b-1"
    await client.send("session_start", {"sdp": BAD_OFFER})
    await client.state("SETUP")
    assert (await client.state("TERMINATED"))["termination_cause"] == "SDP_ERROR"
    await client.close()


async def test_silence_duration_peer_loss_and_shutdown(start_rtm: StartRtm) -> None:
    rtm = await start_rtm(no_packet_timeout=1.0, max_duration=2.5)
    quiet = rtm.client("quiet")
    await quiet.connect()
    quiet.session_id = "q-1"
    await quiet.send("session_start", {"sdp": await quiet.offer(audio=False)})
    long = await active_client(rtm, "long", "l-1")
    lost = await active_client(rtm, "lost", "p-1")
    await quiet.state("ACTIVE")
    assert quiet.video is not None
    quiet.video.running.clear()  # the camera stalls

    await lost.pc.close()  # the peer connection goes, the socket stays
    assert (await lost.state("TERMINATED"))["termination_cause"] == "PEERCONN_FAILED"
    assert (await quiet.state("TERMINATED"))["termination_cause"] == "NO_PACKET_RECEIVED"
    assert (await long.state("TERMINATED"))["termination_cause"] == "MAX_DURATION_REACHED"

    # Started only now, so that its own maximum duration (2.5 s) cannot end it first.
    stays = await active_client(rtm, "stays", "t-1")
    await rtm.dialect.stop(graceful=True)
    assert (await stays.state("TERMINATED"))["termination_cause"] == "SERVICE_SHUTDOWN"
    for client in (quiet, long, lost, stays):
        await client.close()


async def test_tokens_from_the_master_key(start_rtm: StartRtm) -> None:
    rtm = await start_rtm(master_key=KEY)
    http: aiohttp.ClientSession = rtm.http
    async with http.post(f"{rtm.base}/auth_v2/client", json={"master_key": "nope"}) as r:
        assert r.status == 401
    async with http.post(
        f"{rtm.base}/auth_v2/client", json={"master_key": KEY, "client_id": "c-9"}
    ) as r:
        assert r.status == 201
        token = (await r.json())["auth_token"]
    async with http.post(
        f"{rtm.base}/api/v2/session", headers={"Authorization": f"Bearer {token}"}
    ) as r:
        assert r.status == 201
        created = await r.json()
    assert created["ws_endpoint"].endswith("/api/v2/io")
    assert created["ice_credentials"] == {"iceServers": []}

    refused = rtm.client("c-9")
    try:
        await refused.connect()
        raise AssertionError("a socket without a token was accepted")
    except aiohttp.WSServerHandshakeError as exc:
        assert exc.status == 401
    client = rtm.client("c-9")
    await client.connect(params={"token": token})
    client.session_id = created["session_id"]
    await client.send("session_start", {"sdp": BAD_OFFER})
    await client.state("SETUP")  # the token was taken; the offer is what fails
    assert (await client.state("TERMINATED"))["termination_cause"] == "SDP_ERROR"
    await client.close()
    await refused.pc.close()
