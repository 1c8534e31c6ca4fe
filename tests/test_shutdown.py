"""SIGTERM to a real ``python -m gateway serve``: every connected client hears it in its own
dialect, and the process exits within a bounded time."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from adapters.antmedia import codec as ant
from tests.adapters.antmedia.clients import Client as AntClient
from tests.adapters.rtm.clients import RtmClient
from tests.adapters.whip.clients import accept, loopback_pc, post_offer, publisher_offer
from tests.faults.harness import play_everywhere, start_gateway
from tests.fuzz.serving import RawClient

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(port: int, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            try:
                async with http.get(f"http://127.0.0.1:{port}/readyz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise AssertionError("the gateway did not become ready")


async def test_sigterm_tells_every_client_and_exits_in_time(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "switchboard.toml"
    config.write_text(
        f"""
[[listeners]]
host = "127.0.0.1"
port = {port}

[media]
host_addresses = ["127.0.0.1"]

[gateway]
shutdown_timeout = 3.0

[storage]
state_dir = "{tmp_path}/state"

[dialects.flashphoner]
ping_interval = 0
video_rate_interval = 0
recording_directory = "{tmp_path}/fp"

[dialects.rtm]
recordings_dir = "{tmp_path}/rtm"
local_delivery_dir = "{tmp_path}/rtm/done"
"""
    )
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SWITCHBOARD__")}
    env["PYTHONPATH"] = str(ROOT)
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "gateway", "serve", "--config", str(config)),
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    clients: list[RawClient] = []
    try:
        await wait_ready(port)
        base = f"ws://127.0.0.1:{port}"
        antmedia = await RawClient.connect(f"{base}/WebRTCAppEE/websocket")
        flashphoner = await RawClient.connect(f"{base}/")
        rtm = await RawClient.connect(f"{base}/api/v2/io")
        clients += [antmedia, flashphoner, rtm]
        await flashphoner.ws.send_str(
            json.dumps({"message": "connection", "data": [{"appKey": "defaultApp"}]})
        )
        await flashphoner.wait_for(lambda m: m.get("message") == "getUserData")
        await antmedia.ws.send_str(json.dumps({"command": "ping"}))
        await antmedia.wait_for(lambda m: m.get("command") == "pong")

        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        await antmedia.wait_for(
            lambda m: (
                m.get("command") == "notification" and m.get("definition") == "server_will_stop"
            )
        )
        for client in clients:
            await client.wait_closed(within=10)
        assert flashphoner.ws.close_code == 1001  # going away
        code = await asyncio.wait_for(process.wait(), 15)
        elapsed = time.monotonic() - started
        assert code == 0
        assert elapsed < 10, elapsed
    finally:
        for client in clients:
            await client.close()
        if process.returncode is None:
            process.kill()
            await process.wait()


async def test_sigterm_with_running_streams_tells_every_client_and_finishes_recordings(
    tmp_path: Path,
) -> None:
    """A WHIP, an Ant Media and an RTM publisher (recording) and a player of each dialect are
    live when SIGTERM arrives: each hears it in its dialect, the recording is finished and
    delivered, and the process exits within the bound."""
    gateway = await start_gateway(tmp_path)
    http = aiohttp.ClientSession()
    whip = loopback_pc()
    ant_publisher = await AntClient.connect(f"{gateway.ws}/WebRTCAppEE/websocket")
    agent = RtmClient(http, f"{gateway.ws}/api/v2/io", "agent")
    players = None
    try:
        created = await post_offer(http, f"{gateway.url}/whip/cam1", await publisher_offer(whip))
        await accept(whip, created.answer)
        await ant_publisher.publish("am1")
        await agent.connect()
        await agent.start_session("a-1")
        await agent.state("ACTIVE", within=20)
        await agent.send("recording_start", {})
        await agent.next("recording_state", state="STARTED")
        players = await play_everywhere(gateway, "cam1", "a-1")
        whep, whip_closed, whep_closed = players.whep.pc, asyncio.Event(), asyncio.Event()
        whip.on(
            "connectionstatechange", lambda: whip.connectionState == "closed" and whip_closed.set()
        )
        whep.on(
            "connectionstatechange", lambda: whep.connectionState == "closed" and whep_closed.set()
        )

        started = time.monotonic()
        gateway.proc.send_signal(signal.SIGTERM)
        told: dict[str, float] = {}

        async def hear(name: str, waiting: Any) -> None:
            await waiting
            told[name] = time.monotonic() - started

        stop_notice = lambda m: m.definition == "server_will_stop"  # noqa: E731
        await asyncio.wait_for(
            asyncio.gather(
                hear(
                    "antmedia publisher server_will_stop",
                    ant_publisher.expect(ant.Notification, stop_notice),
                ),
                hear(
                    "antmedia player server_will_stop",
                    players.antmedia.expect(ant.Notification, stop_notice),
                ),
                hear(
                    "flashphoner player FAILED 'Server shutdown'",
                    players.flashphoner.expect(
                        "notifyStreamStatusEvent",
                        lambda f: (
                            f["data"][0]["mediaSessionId"] == "fp-play"
                            and f["data"][0]["status"] == "FAILED"
                            and f["data"][0].get("info") == "Server shutdown"
                        ),
                    ),
                ),
                hear(
                    "rtm agent TERMINATED SERVICE_SHUTDOWN",
                    agent.next(
                        "session_state", state="TERMINATED", termination_cause="SERVICE_SHUTDOWN"
                    ),
                ),
                hear(
                    "rtm supervisor TERMINATED SERVICE_SHUTDOWN",
                    players.supervisor.next(
                        "session_state", state="TERMINATED", termination_cause="SERVICE_SHUTDOWN"
                    ),
                ),
                hear("whip publisher closed", whip_closed.wait()),
                hear("whep player closed", whep_closed.wait()),
            ),
            10,
        )
        code = await asyncio.wait_for(gateway.proc.wait(), 15)
        elapsed = time.monotonic() - started
        for name, seconds in sorted(told.items(), key=lambda i: i[1]):
            print(f"SIGTERM -> {name}: {seconds:.2f} s")
        print(f"SIGTERM -> exit {code}: {elapsed:.2f} s")
        assert code == 0
        assert elapsed < 10, elapsed
        # The recording was finished and its delivery queued in the durable queue (done
        # already, or pending until the next start) ...
        state = tmp_path / "gateway" / "state" / "deliveries.sqlite"
        with contextlib.closing(sqlite3.connect(state)) as db:
            jobs = list(db.execute("select state from jobs"))
        assert len(jobs) == 1 and jobs[0][0] in ("pending", "done"), jobs
        # ... and a restart finds it delivered or delivers it.
        gateway = await start_gateway(tmp_path)
        done = tmp_path / "gateway" / "rtm" / "done"
        for _ in range(100):
            if list(done.rglob("*.webm")):
                break
            await asyncio.sleep(0.1)
        (delivered,) = list(done.rglob("*.webm"))
        assert await asyncio.to_thread(os.path.getsize, delivered) > 1000
    finally:
        if players is not None:
            await players.close()
        await ant_publisher.close()
        await agent.close()
        await whip.close()
        await http.close()
        await gateway.stop()
