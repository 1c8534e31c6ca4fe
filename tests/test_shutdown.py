"""SIGTERM to a real ``python -m gateway serve``: every connected client hears it in its own
dialect, and the process exits within a bounded time."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

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
