"""Three ``python -m gateway serve`` processes sharing a real redis-server on 127.0.0.1.

A stream published with WHIP on node A is played with the Flashphoner wire on nodes B and C
(real aiortc peers, frames decoded): each edge relays it from A once. A player leaving ends its
edge's relay; A killed with SIGKILL tells the players on B within 5 s, and the name can be
published again on B.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.cluster.directory import RedisDirectory
from tests.adapters.flashphoner.conftest import WcsClient
from tests.adapters.whip.clients import accept, loopback_pc, post_offer, publisher_offer
from tests.core.media.clients import ClientSubscriber
from tests.gateway.conftest import ROOT, clean_env

from .conftest import free_port

SECRET = "cluster-test-secret"
DEADLINE = 30.0


@dataclass
class Node:
    name: str
    url: str
    proc: asyncio.subprocess.Process
    log: Path

    @property
    def ws_url(self) -> str:
        return self.url.replace("http", "ws", 1) + "/"


def node_config(name: str, port: int, redis_url: str, state: Path) -> str:
    return f"""
[[listeners]]
host = "127.0.0.1"
port = {port}

[log]
format = "json"
level = "info"
access_log = false

[media]
host_addresses = ["127.0.0.1"]

[gateway]
node_id = "{name}"
shutdown_timeout = 3.0

[storage]
state_dir = "{state}"

[cluster]
redis_url = "{redis_url}"
secret = "{SECRET}"
heartbeat_interval = 0.5
node_ttl = 2.0

[dialects.flashphoner]
ping_interval = 0
video_rate_interval = 0
"""


async def start_node(
    name: str,
    redis_url: str,
    tmp: Path,
    *,
    disable: tuple[str, ...] = ("antmedia", "rtm"),
    every_interface: bool = False,
) -> Node:
    """Start a node serving the dialects not in ``disable``; ``every_interface`` lets it
    gather on every address, as browser peers on this host need."""
    port = free_port()
    text = node_config(name, port, redis_url, tmp / f"state-{name}")
    if every_interface:
        text = text.replace('host_addresses = ["127.0.0.1"]', "host_addresses = []")
    config = tmp / f"{name}.toml"
    config.write_text(text)
    log = tmp / f"{name}.log"
    flags = [arg for dialect in disable for arg in ("--disable", dialect)]
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway", "serve", "--config", str(config), *flags,
            cwd=ROOT, env=clean_env(), stdout=out, stderr=out,
        )  # fmt: skip
    return Node(name, f"http://127.0.0.1:{port}", proc, log)


@contextlib.asynccontextmanager
async def running(*started: Node) -> AsyncIterator[tuple[Node, ...]]:
    """Wait until every node is ready; on the way out stop them (SIGTERM, then SIGKILL)."""
    try:
        await asyncio.gather(*(wait_ready(n) for n in started))
        yield started
    finally:
        for node in started:
            if node.proc.returncode is None:
                node.proc.send_signal(signal.SIGTERM)
        for node in started:
            try:
                await asyncio.wait_for(node.proc.wait(), 10)
            except TimeoutError:
                node.proc.kill()
                await node.proc.wait()


async def wait_ready(node: Node) -> None:
    end = time.monotonic() + DEADLINE
    async with aiohttp.ClientSession() as http:
        while True:
            if node.proc.returncode is not None:
                raise AssertionError(f"{node.name} exited: {node.log.read_text()[-3000:]}")
            try:
                async with http.get(f"{node.url}/readyz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            assert time.monotonic() < end, f"{node.name} did not become ready"
            await asyncio.sleep(0.1)


@pytest.fixture
async def nodes(redis_url: str, tmp_path: Path) -> AsyncIterator[dict[str, Node]]:
    started = {n: await start_node(n, redis_url, tmp_path) for n in ("a", "b", "c")}
    async with running(*started.values()):
        yield started


def stream_object(msid: str, name: str, sdp: str) -> dict[str, Any]:
    return {
        "mediaSessionId": msid,
        "name": name,
        "published": False,
        "hasVideo": True,
        "hasAudio": False,
        "status": "PENDING",
        "mediaProvider": "WebRTC",
        "sdp": sdp,
    }


async def play(node: Node, name: str) -> tuple[WcsClient, ClientSubscriber, str]:
    client = await WcsClient.open(node.ws_url)
    await client.connect()
    peer = ClientSubscriber()
    msid = f"play-{node.name}"
    await client.send("playStream", stream_object(msid, name, await peer.offer(("video",))))
    await peer.accept_answer((await client.expect("setRemoteSDP", within=20))["data"][1])
    await client.status(msid, "PLAYING", within=20)
    return client, peer, msid


async def find_all(http: aiohttp.ClientSession, node: Node) -> list[dict[str, Any]]:
    async with http.post(f"{node.url}/rest-api/stream/find_all", json={}) as resp:
        return [] if resp.status == 404 else list(json.loads(await resp.text()))


async def test_origin_to_edge_relay_and_origin_death(nodes: dict[str, Node]) -> None:
    a, b, c = nodes["a"], nodes["b"], nodes["c"]
    publisher = loopback_pc()
    players: list[tuple[WcsClient, ClientSubscriber, str]] = []
    async with aiohttp.ClientSession() as http:
        try:
            created = await post_offer(http, f"{a.url}/whip/cam1", await publisher_offer(publisher))
            await accept(publisher, created.answer)
            for _ in range(100):
                found = await find_all(http, a)
                if found and found[0]["status"] == "PUBLISHING":
                    break
                await asyncio.sleep(0.1)
            for edge in (b, c):
                players.append(await play(edge, "cam1"))
            for _, peer, _ in players:
                await peer.wait_frames("video", 10, within=20)
                assert peer.video_sizes[-1] == (320, 240)
            # B and C each carry the stream as a relay from A.
            relayed = [s for s in await find_all(http, b) if s["published"]]
            assert [(s["name"], s["mediaProvider"]) for s in relayed] == [("cam1", "cluster")]

            # C's only player leaves: C's relay ends.
            client_c, peer_c, _ = players.pop()
            await client_c.close()
            await peer_c.close()
            for _ in range(100):
                if not await find_all(http, c):
                    break
                await asyncio.sleep(0.1)
            assert await find_all(http, c) == []

            # A dies: B's player hears it within 5 s, and B can publish the name again.
            client_b, _, msid_b = players[0]
            killed = time.monotonic()
            a.proc.send_signal(signal.SIGKILL)
            frame = await client_b.expect(
                "notifyStreamStatusEvent",
                lambda f: (
                    f["data"][0]["mediaSessionId"] == msid_b
                    and f["data"][0]["status"] in ("STOPPED", "FAILED")
                ),
                within=5,
            )
            told = time.monotonic() - killed
            assert told < 5, told
            assert frame["data"][0]["status"] == "STOPPED"

            republisher = loopback_pc()
            try:
                offer = await publisher_offer(republisher)
                end = time.monotonic() + 5
                while True:
                    async with http.post(
                        f"{b.url}/whip/cam1",
                        data=offer,
                        headers={"Content-Type": "application/sdp"},
                    ) as resp:
                        if resp.status == 201:
                            break
                    assert time.monotonic() < end, "the name stayed taken"
                    await asyncio.sleep(0.2)
            finally:
                await republisher.close()
        finally:
            for client, peer, _ in players:
                await client.close()
                await peer.close()
            await publisher.close()


async def test_workers_start_one_node_each_and_stop_together(
    redis_url: str, tmp_path: Path
) -> None:
    port = free_port()
    config = tmp_path / "w.toml"
    config.write_text(node_config("w", port, redis_url, tmp_path / "state"))
    log = tmp_path / "workers.log"
    stderr = log.open("wb")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway",
        "serve",
        "--config",
        str(config),
        "--workers",
        "2",
        "--disable",
        "antmedia",
        "--disable",
        "rtm",
        cwd=ROOT,
        env=clean_env(),
        stdout=asyncio.subprocess.DEVNULL,
        stderr=stderr,
    )
    directory = RedisDirectory.from_url(redis_url, prefix="switchboard", node_id="t", node_ttl=1)
    try:
        await wait_ready(Node("w", f"http://127.0.0.1:{port}", proc, tmp_path / "none"))
        # The second worker may register well after the first one serves on a busy machine.
        deadline = asyncio.get_running_loop().time() + 60
        while len(nodes := await directory.nodes()) < 2:
            assert asyncio.get_running_loop().time() < deadline, log.read_text()[-3000:]
            await asyncio.sleep(0.1)
        assert sorted(n.node_id for n in nodes) == ["w-0", "w-1"], log.read_text()[-3000:]
        assert len({n.url for n in nodes}) == 2  # each has its own relay listener
        # ... and its own durable queues: two processes must not deliver the same jobs.
        for name in ("w-0", "w-1"):
            assert (tmp_path / "state" / name / "deliveries.sqlite").exists()
            assert (tmp_path / "state" / name / "webhooks.sqlite").exists()
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
        assert await directory.nodes() == []  # both left the cluster
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        await directory.close()
        stderr.close()
