"""A real ``python -m gateway serve`` for the fault tests, and the clients they kill."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.adapters.antmedia.clients import Client as AntClient
from tests.adapters.flashphoner.conftest import WcsClient
from tests.adapters.rtm.clients import RtmClient
from tests.adapters.whip.clients import Player, accept, player_offer, post_offer
from tests.core.media.clients import ClientSubscriber
from tests.gateway.conftest import ROOT, clean_env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_config(port: int, state: Path, *, host: str = "127.0.0.1", extra: str = "") -> str:
    return f"""
[[listeners]]
host = "{host}"
port = {port}

[log]
format = "json"
level = "info"
access_log = false

[media]
host_addresses = ["{host}"]

[gateway]
shutdown_timeout = 3.0

[storage]
state_dir = "{state}/state"

[dialects.flashphoner]
ping_interval = 0
video_rate_interval = 0
recording_directory = "{state}/fp"

[dialects.rtm]
recordings_dir = "{state}/rtm"
local_delivery_dir = "{state}/rtm/done"
{extra}
"""


@dataclass
class Gateway:
    url: str
    proc: asyncio.subprocess.Process
    log: Path
    name: str = "gateway"

    @property
    def ws(self) -> str:
        return self.url.replace("http", "ws", 1)

    def lines(self) -> list[dict[str, Any]]:
        found = []
        for line in self.log.read_text().splitlines():
            try:
                found.append(json.loads(line))
            except ValueError:
                continue
        return found

    async def stop(self) -> int:
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 15)
            except TimeoutError:
                self.proc.kill()
        return await self.proc.wait()


async def start_gateway(
    tmp: Path,
    *,
    name: str = "gateway",
    port: int | None = None,
    config: str | None = None,
    host: str = "127.0.0.1",
    extra: str = "",
) -> Gateway:
    port = port or free_port()
    path = tmp / f"{name}.toml"
    path.write_text(config or base_config(port, tmp / name, host=host, extra=extra))
    log = tmp / f"{name}.log"
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "gateway", "serve", "--config", str(path)),
            cwd=ROOT,
            env=clean_env(),
            stdout=out,
            stderr=out,
        )
    gateway = Gateway(f"http://{host}:{port}", proc, log, name)
    await wait_ready(gateway)
    return gateway


async def wait_ready(gateway: Gateway, within: float = 30.0) -> None:
    end = time.monotonic() + within
    async with aiohttp.ClientSession() as http:
        while True:
            if gateway.proc.returncode is not None:
                raise AssertionError(f"gateway exited: {gateway.log.read_text()[-3000:]}")
            try:
                async with http.get(f"{gateway.url}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            assert time.monotonic() < end, "the gateway did not become ready"
            await asyncio.sleep(0.1)


async def admin(http: aiohttp.ClientSession, gateway: Gateway, path: str) -> Any:
    async with http.get(f"{gateway.url}/api/v1/{path}") as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()


async def wait_until(
    predicate: Any, *, within: float, step: float = 0.05, what: str = "condition"
) -> float:
    """Poll the (async) ``predicate`` until true; returns the seconds it took."""
    start = time.monotonic()
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - start
        if time.monotonic() - start > within:
            raise AssertionError(f"{what} not reached within {within} s")
        await asyncio.sleep(step)


async def client_process(module: str, *args: str) -> asyncio.subprocess.Process:
    """``python -m module args``; returns once it printed ``ready``."""
    proc = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", module, *args),
        cwd=ROOT,
        env=clean_env(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert line.strip() == b"ready", line
    return proc


@dataclass
class Players:
    """One player of each dialect on stream ``name`` and RTM session ``rtm_session``."""

    antmedia: AntClient
    flashphoner: WcsClient
    flashphoner_peer: ClientSubscriber
    whep: Player
    whep_location: str
    supervisor: RtmClient
    http: aiohttp.ClientSession
    closers: list[Any] = field(default_factory=list)

    async def close(self) -> None:
        for client in (self.antmedia, self.flashphoner, self.flashphoner_peer, self.whep):
            try:
                await client.close()
            except Exception:
                pass
        try:
            await self.supervisor.close()
        except Exception:
            pass
        await self.http.close()


async def play_everywhere(gateway: Gateway, name: str, rtm_session: str) -> Players:
    http = aiohttp.ClientSession()
    antmedia = await AntClient.connect(f"{gateway.ws}/WebRTCAppEE/websocket")
    await antmedia.play(name)

    flashphoner = await WcsClient.open(f"{gateway.ws}/")
    await flashphoner.connect()
    peer = ClientSubscriber()
    offer = await peer.offer(("video",))
    await flashphoner.send(
        "playStream",
        {
            "mediaSessionId": "fp-play",
            "name": name,
            "published": False,
            "hasVideo": True,
            "hasAudio": False,
            "status": "PENDING",
            "mediaProvider": "WebRTC",
            "sdp": offer,
        },
    )
    await peer.accept_answer((await flashphoner.expect("setRemoteSDP", within=20))["data"][1])
    await flashphoner.status("fp-play", "PLAYING", within=20)

    whep = Player()
    created = await post_offer(http, f"{gateway.url}/whep/{name}", await player_offer(whep.pc))
    await accept(whep.pc, created.answer)

    supervisor = RtmClient(http, f"{gateway.ws}/api/v2/supervisor_io", "sup-1")
    await supervisor.connect()
    supervisor.session_id = "sup-session"
    await supervisor.send(
        "supervisor_join_session",
        {"sdp": await supervisor.offer(recv=True), "session_id_to_monitor": rtm_session},
    )
    await supervisor.state("ACTIVE", within=20)
    players = Players(antmedia, flashphoner, peer, whep, created.location, supervisor, http)
    await asyncio.wait_for(whep.enough.wait(), 20)
    await peer.wait_frames("video", 5, within=20)
    return players


async def metrics(http: aiohttp.ClientSession, gateway: Gateway) -> dict[str, float]:
    """The gateway's unlabelled gauges (``switchboard_*``), summed over their labels."""
    async with http.get(f"{gateway.url}/metrics") as resp:
        text = await resp.text()
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("switchboard_") and " " in line:
            name, value = line.rsplit(" ", 1)
            name = name.split("{", 1)[0]
            values[name] = values.get(name, 0.0) + float(value)
    return values
