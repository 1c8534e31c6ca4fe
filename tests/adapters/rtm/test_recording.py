"""An aiortc RTM client records; the file is PUT to a real HTTP server; webhooks fire."""

from __future__ import annotations

import asyncio
import io
import time
from pathlib import Path

import av

from adapters.hookspecs import GatewayContext
from adapters.rtm.dialect import RtmDialect
from core.delivery import Backoff, DeliveryQueue
from core.names import StreamKey
from gateway.http_client import AiohttpClient

from .conftest import FAST, StartRtm


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


async def test_failed_upload_is_reported_kept_and_retried(start_rtm: StartRtm) -> None:
    rtm = await start_rtm()
    rtm.receiver.statuses = [500]
    hook = f"{rtm.receiver.url}/hook"
    client = rtm.client("agent-2")
    await client.connect()
    await client.start_session("s-2", webhook_url=hook)
    await client.state("ACTIVE")

    await client.send("recording_start", {"upload_url": f"{rtm.receiver.url}/upload/r2"})
    rec_id = (await client.next("recording_state", state="STARTED"))["data"]["recording_id"]
    await asyncio.sleep(1.0)
    await client.send("recording_stop")
    await client.next("recording_state", state="STOPPED", recording_id=rec_id)
    await client.next("recording_state", state="FAILED", recording_id=rec_id)
    await wait_for(lambda: rtm.hooks("upload_failed"))
    (failed,) = rtm.hooks("upload_failed")
    assert failed["upload_status_code"] == 500 and failed["rec_id"] == rec_id
    # the retry delivers the file kept on disk
    await wait_for(lambda: "r2" in rtm.receiver.uploads and rtm.hooks("upload_ready"))

    # closing the socket finishes and uploads a recording still running
    await client.send("recording_start", {"upload_url": f"{rtm.receiver.url}/upload/r3"})
    await client.next("recording_state", state="STARTED")
    await asyncio.sleep(1.0)
    await client.close()
    await wait_for(lambda: "r3" in rtm.receiver.uploads and rtm.hooks("session_finished"))
    (finished,) = rtm.hooks("session_finished")
    assert finished["termination_cause"] == "CONN_ERROR"
    with av.open(io.BytesIO(rtm.receiver.uploads["r3"])) as container:
        assert len(container.streams.video) == len(container.streams.audio) == 1


async def test_a_restart_in_the_middle_of_an_upload_still_delivers(
    start_rtm: StartRtm, tmp_path: Path
) -> None:
    rtm = await start_rtm(deliveries_backoff=Backoff(initial=60))
    rtm.receiver.statuses = [500]
    client = rtm.client("agent-3")
    await client.connect()
    await client.start_session("s-3", webhook_url=f"{rtm.receiver.url}/hook")
    await client.state("ACTIVE")
    await client.send("recording_start", {"upload_url": f"{rtm.receiver.url}/upload/r4"})
    rec_id = (await client.next("recording_state", state="STARTED"))["data"]["recording_id"]
    await asyncio.sleep(1.0)
    await client.send("recording_stop")
    await client.next("recording_state", state="FAILED", recording_id=rec_id)
    await client.close()
    await rtm.dialect.stop(graceful=True)
    await rtm.deliveries.close()  # the gateway stops; the next try was a minute away

    http = AiohttpClient(timeout=5)
    deliveries = DeliveryQueue(tmp_path / "deliveries.sqlite", http, backoff=FAST)
    RtmDialect(
        GatewayContext(
            name="rtm",
            settings=rtm.dialect.settings,
            hub=rtm.hub,
            services={"deliveries": deliveries, "webhooks": rtm.webhooks},
        )
    )
    await deliveries.start()
    await deliveries.queue.retry_now()
    await wait_for(lambda: "r4" in rtm.receiver.uploads and rtm.hooks("upload_ready"))
    (ready,) = rtm.hooks("upload_ready")
    assert ready["rec_id"] == rec_id
    await deliveries.close()
    await http.close()


async def test_h264_session_records_to_mp4(start_rtm: StartRtm, tmp_path: Path) -> None:
    rtm = await start_rtm()
    client = rtm.client("agent-4")
    await client.connect()
    client.session_id = "s-4"
    offer = await client.offer(audio=True, video=True, prefer="video/H264")
    await client.send("session_start", {"sdp": offer})
    await client.state("ACTIVE")
    await client.send("recording_start", {})  # no upload_url: the local directory
    await client.next("recording_state", state="STARTED")
    await asyncio.sleep(1.5)
    await client.send("recording_stop")
    await client.next("recording_state", state="STOPPED")
    done = tmp_path / "done"
    await wait_for(lambda: any(done.glob("*.mp4")))
    (path,) = done.glob("*.mp4")
    with av.open(str(path)) as container:
        assert container.streams.video[0].codec_context.name == "h264"
        pictures = [f for f in container.decode(video=0)]
    assert pictures and (pictures[0].width, pictures[0].height) == (320, 240)
    await client.close()
