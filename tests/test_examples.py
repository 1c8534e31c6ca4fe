"""The example clients run: each answers --help, and they publish and play across dialects
through a real gateway process on loopback."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = ROOT / "examples" / "clients"
PYTHON = sys.executable

pytestmark = pytest.mark.timeout(90)


def env() -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.upper().startswith("SWITCHBOARD__")}
    return clean | {"PYTHONPATH": str(ROOT)}


@pytest.mark.parametrize("client", sorted(p.name for p in CLIENTS.glob("[!_]*.py")))
def test_every_client_answers_help(client: str) -> None:
    done = subprocess.run(
        [PYTHON, str(CLIENTS / client), "--help"], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_the_cluster_examples_are_valid_toml() -> None:
    for name in ("node-a.toml", "node-b.toml"):
        with (ROOT / "examples" / "cluster" / name).open("rb") as f:
            assert tomllib.load(f)["gateway"]["node_id"]


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    process = await asyncio.create_subprocess_exec(
        PYTHON,
        "-m",
        "gateway",
        "serve",
        "--listen",
        f"127.0.0.1:{port}",
        cwd=ROOT,
        env=env()
        | {
            "SWITCHBOARD__MEDIA__HOST_ADDRESSES": '["127.0.0.1"]',
            "SWITCHBOARD__STORAGE__STATE_DIR": str(tmp_path / "state"),
            "SWITCHBOARD__DIALECTS__RTM__LOCAL_DELIVERY_DIR": str(tmp_path / "rtm-done"),
            "SWITCHBOARD__DIALECTS__RTM__RECORDINGS_DIR": str(tmp_path / "rtm-work"),
            "SWITCHBOARD__LOG__LEVEL": "warning",
        },
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            for _ in range(200):
                try:
                    async with http.get(f"http://{base}/readyz") as response:
                        if response.status == 200:
                            break
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the gateway did not start")
        yield base
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 20)


async def run(client: str, *args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        PYTHON,
        str(CLIENTS / client),
        *args,
        env=env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def finish(process: asyncio.subprocess.Process) -> str:
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    text = out.decode()
    assert process.returncode == 0, text
    return text


async def test_antmedia_publish_plays_over_whep_and_flashphoner(gateway: str) -> None:
    publisher = await run(
        "antmedia.py", "publish", "demo", "--url", f"ws://{gateway}/WebRTCAppEE/websocket",
        "--seconds", "12",
    )  # fmt: skip
    await asyncio.sleep(3)  # published and live
    whep = await run("whip.py", "play", "demo", "--url", f"http://{gateway}", "--frames", "20")
    assert "decoded" in await finish(whep)
    wcs = await run("flashphoner.py", "play", "demo", "--url", f"ws://{gateway}/", "--frames", "20")
    assert "PLAYING" in await finish(wcs)
    assert "publish_started" in await finish(publisher)


async def test_whip_publish_plays_with_antmedia(gateway: str) -> None:
    publisher = await run(
        "whip.py", "publish", "demo", "--url", f"http://{gateway}", "--seconds", "8"
    )
    await asyncio.sleep(2)
    player = await run(
        "antmedia.py", "play", "demo", "--url", f"ws://{gateway}/LiveApp/websocket",
        "--frames", "20",
    )  # fmt: skip
    assert "play_started" in await finish(player)
    await finish(publisher)


async def test_the_gateway_serves_the_example_pages(gateway: str) -> None:
    pages = ["/examples/", "/examples/whip.html", "/examples/antmedia/publish.html"]
    pages += ["/examples/flashphoner/play.html"]
    if (ROOT / "tests" / "e2e" / "node_modules" / "@antmedia").is_dir():
        pages += ["/examples/sdk/@antmedia/webrtc_adaptor/dist/browser/webrtc_adaptor.js"]
        pages += ["/examples/sdk/@flashphoner/websdk/flashphoner.js"]
    async with aiohttp.ClientSession() as http:
        for page in pages:
            async with http.get(f"http://{gateway}{page}") as response:
                assert response.status == 200, page


async def test_rtm_client_records(gateway: str) -> None:
    out = await finish(
        await run("rtm.py", "agent-1", "--url", f"ws://{gateway}/api/v2/io", "--seconds", "2")
    )
    assert "recording_state STARTED" in out and "TERMINATED" in out
