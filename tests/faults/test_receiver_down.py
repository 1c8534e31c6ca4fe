"""The upload server and the webhook receiver down while a recording ends: nothing is lost.

An RTM client session records through a running gateway with ``upload_url`` and
``webhook_url`` on a loopback port where nothing listens yet. The recording and the session
end, the gateway's attempts fail (logged ``job_attempted`` with ``ok`` false), and only then
is a real aiohttp server started on that port: the recording and every webhook arrive.
"""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import aiohttp
import av
from aiohttp import web

from tests.adapters.rtm.clients import RtmClient
from tests.adapters.rtm.conftest import Receiver
from tests.faults.harness import free_port, start_gateway, wait_until


async def test_recording_and_webhooks_are_delivered_when_the_receiver_comes_back(
    tmp_path: Path,
) -> None:
    gateway = await start_gateway(tmp_path)
    port = free_port()
    receiver_url = f"http://127.0.0.1:{port}"
    receiver = Receiver()
    runner: web.AppRunner | None = None

    http = aiohttp.ClientSession()
    client = RtmClient(http, f"{gateway.ws}/api/v2/io", "agent-1")
    try:
        await client.connect()
        await client.start_session("s-1", webhook_url=f"{receiver_url}/hook")
        await client.state("ACTIVE", within=20)
        await client.send("recording_start", {"upload_url": f"{receiver_url}/upload/rec1"})
        started = await client.next("recording_state", state="STARTED")
        rec_id = started["data"]["recording_id"]
        began = time.monotonic()
        # Two seconds of media, waited for in the client's own received frames.
        await wait_until(lambda: time.monotonic() - began > 2.0, within=5, step=0.1)
        await client.send("recording_stop")
        await client.next("recording_state", state="STOPPED", recording_id=rec_id, within=20)
        stopped = time.monotonic()
        await client.send("session_stop")
        await client.state("TERMINATED", within=10)

        def failed_attempts() -> int:
            return sum(
                1
                for e in gateway.lines()
                if e.get("event") == "job_attempted" and e.get("ok") is False
            )

        # Both the upload and the webhooks have been tried against the closed port.
        await wait_until(lambda: failed_attempts() >= 2, within=15, what="failed attempts")

        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_put("/upload/{name}", receiver.put)
        app.router.add_post("/hook", receiver.post)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        up = time.monotonic()

        def statuses() -> list[str]:
            return [json.loads(body).get("status") for _, body in receiver.posts]

        await wait_until(
            lambda: (
                "rec1" in receiver.uploads
                and {"upload_ready", "session_finished"} <= set(statuses())
            ),
            within=30,
            step=0.1,
            what="every delivery after the receiver came back",
        )
        print(
            f"receiver down for {up - stopped:.2f} s after the recording stopped "
            f"({failed_attempts()} failed attempts); everything delivered "
            f"{time.monotonic() - up:.2f} s after it came up"
        )
        with av.open(io.BytesIO(receiver.uploads["rec1"])) as container:
            frames = sum(1 for _ in container.decode(video=0))
        assert frames > 10, frames
        assert statuses().count("session_finished") == 1
    finally:
        await client.close()
        await http.close()
        if runner is not None:
            await runner.cleanup()
        assert await gateway.stop() == 0
