"""An aiortc RTM client records; the file is PUT to a real HTTP server; webhooks fire."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import av

from core.names import StreamKey

from .conftest import StartRtm


async def wait_for(predicate: object, within: float = 10) -> None:
    deadline = time.monotonic() + within
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise TimeoutError
        await asyncio.sleep(0.05)


async def test_session_records_uploads_and_fires_webhooks(
    start_rtm: StartRtm, tmp_path: Path
) -> None:
    rtm = await start_rtm()
    hook = f"{rtm.receiver.url}/hook"
    client = rtm.client("agent-1")
    await client.connect()
    await client.start_session("s-1", webhook_url=hook)
    assert await client.state("SETUP") == {"state": "SETUP"}
    answer = await client.next("sdp_update")
    assert answer["data"]["sdp"]["type"] == "answer"
    assert (answer["client_id"], answer["session_id"]) == ("agent-1", "s-1")
    assert await client.next("candidate")
    await client.state("ACTIVE")
    # an ordinary core stream that any dialect can play
    assert rtm.hub.find_stream(StreamKey("default", "agent-1")) is not None

    await client.send("msg ping")
    assert (await client.next("msg pong"))["session_id"] == "s-1"

    await client.send("recording_start", {"upload_url": f"{rtm.receiver.url}/upload/rec1"})
    started = await client.next("recording_state", state="STARTED")
    rec_id = started["data"]["recording_id"]
    began = time.monotonic()
    await asyncio.sleep(2.5)
    await client.send("recording_stop")
    await client.next("recording_state", state="STOPPED", recording_id=rec_id)
    recorded = time.monotonic() - began

    await wait_for(lambda: "rec1" in rtm.receiver.uploads and rtm.hooks("upload_ready"))
    path = tmp_path / "uploaded.webm"
    path.write_bytes(rtm.receiver.uploads["rec1"])
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "vp8"
        assert container.streams.audio[0].codec_context.name == "opus"
        duration = (container.duration or 0) / 1e6
        pictures = sum(1 for _ in container.decode(video=0))
    (ready,) = rtm.hooks("upload_ready")
    assert ready["rec_id"] == rec_id and ready["client_id"] == "agent-1"
    assert abs(ready["recording_file_duration_ms"] / 1000 - duration) < 0.05
    assert ready["recording_file_size_bytes"] == len(rtm.receiver.uploads["rec1"])
    # the file holds what was sent between start and stop, less the wait for a keyframe
    assert recorded - 0.8 < duration <= recorded + 0.1
    assert pictures >= duration * 10
    for key in ("recording_started_at", "recording_first_frame_written_at", "recording_stopped_at"):
        assert ready[key].endswith("Z")
    assert ready["recording_first_peerframe_captured_at"]

    await client.send("session_stop")
    await client.state("SHUTDOWN")
    assert await client.state("TERMINATED") == {
        "state": "TERMINATED",
        "termination_cause": "TERM_BY_CLIENT",
    }
    await wait_for(lambda: rtm.hooks("session_finished"))
    (finished,) = rtm.hooks("session_finished")
    assert finished["termination_cause"] == "TERM_BY_CLIENT"
    assert finished["session_id"] == "s-1"
    await client.close()
