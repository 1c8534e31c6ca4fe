"""``python -m gateway serve`` as a real process: readiness, listeners, SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from collections.abc import Callable

import aiohttp

from tests.gateway.conftest import ECHO_PLUGIN, ISOLATED, ROOT, clean_env
from tests.gateway.echo_dialect import GOODBYE

DEADLINE = 30.0


async def wait_ready(proc: asyncio.subprocess.Process, url: str) -> None:
    """Poll /readyz until it answers 200, the process dies, or the deadline passes."""
    end = time.monotonic() + DEADLINE
    async with aiohttp.ClientSession() as http:
        while True:
            if proc.returncode is not None:
                _, err = await proc.communicate()
                raise AssertionError(f"the gateway exited {proc.returncode}: {err.decode()}")
            try:
                async with http.get(f"{url}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            assert time.monotonic() < end, "the gateway did not become ready"
            await asyncio.sleep(0.05)


async def test_sigterm_stops_gracefully_and_exits_0(free_port: Callable[[], int]) -> None:
    ports = [free_port(), free_port()]
    listen = [arg for port in ports for arg in ("--listen", f"127.0.0.1:{port}")]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "serve",
        "--plugin",
        ECHO_PLUGIN,
        "--log-format",
        "json",
        *listen,
        *ISOLATED,
        cwd=ROOT,
        env=clean_env(SWITCHBOARD__DIALECTS__ECHO__GREETING="hi"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        await wait_ready(proc, urls[0])
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{urls[1]}/healthz") as resp:
                assert resp.status == 200
            async with http.ws_connect(f"{urls[1]}/echo") as ws:
                assert await ws.receive_str(timeout=5) == "hi"
                proc.send_signal(signal.SIGTERM)
                assert await ws.receive_str(timeout=10) == GOODBYE
        _, err = await asyncio.wait_for(proc.communicate(), DEADLINE)
        stderr = err.decode()
        assert proc.returncode == 0, stderr
        assert '"event": "dialect_stopped"' in stderr
        assert '"event": "gateway_stopped"' in stderr
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.communicate()
