"""Redis restarted under a two-node cluster: the nodes re-register and a stream published
after the restart on one node plays on the other."""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
from pathlib import Path

import aiohttp
import pytest

from gateway.cluster.directory import RedisDirectory
from tests.adapters.whip.clients import accept, loopback_pc, post_offer, publisher_offer
from tests.faults.harness import free_port, wait_until
from tests.gateway.cluster.conftest import REDIS_SERVER
from tests.gateway.cluster.test_cluster import play, start_node
from tests.gateway.cluster.test_cluster import wait_ready as node_ready


def redis(port: int, tmp: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(tmp)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.mark.skipif(
    not os.path.exists(REDIS_SERVER),
    reason="redis-server is not installed (tests/setup-deps.sh installs it)",
)
async def test_the_cluster_recovers_from_a_redis_restart(tmp_path: Path) -> None:
    port = free_port()
    url = f"redis://127.0.0.1:{port}/0"
    server = redis(port, tmp_path)
    directory = RedisDirectory.from_url(url, prefix="switchboard", node_id="t", node_ttl=1)

    async def registered() -> list[str]:
        try:
            return sorted(n.node_id for n in await directory.nodes())
        except Exception:
            return []

    nodes = [await start_node(n, url, tmp_path) for n in ("a", "b")]
    publisher = loopback_pc()
    player = None
    try:
        await asyncio.gather(*(node_ready(n) for n in nodes))
        await wait_until(lambda: _is(registered(), ["a", "b"]), within=10, what="registered")

        server.kill()
        server.wait(10)
        await asyncio.sleep(1.0)  # the nodes' heartbeats fail against the closed port
        server = redis(port, tmp_path)
        restarted = time.monotonic()
        back = await wait_until(
            lambda: _is(registered(), ["a", "b"]), within=15, step=0.1, what="re-registered"
        )
        print(f"redis restarted -> both nodes registered again: {back:.2f} s")
        assert all(n.proc.returncode is None for n in nodes)

        a, b = nodes
        async with aiohttp.ClientSession() as http:
            created = await post_offer(http, f"{a.url}/whip/cam1", await publisher_offer(publisher))
            await accept(publisher, created.answer)

            async def live() -> bool:
                async with http.get(f"{a.url}/api/v1/streams") as resp:
                    streams = (await resp.json())["streams"]
                return any(x["name"] == "cam1" and x["state"] == "live" for x in streams)

            await wait_until(live, within=15, what="cam1 live on a")
            player = await play(b, "cam1")
            await player[1].wait_frames("video", 10, within=20)
        print(f"redis restarted -> frames on the other node: {time.monotonic() - restarted:.2f} s")
    finally:
        if player is not None:
            await player[0].close()
            await player[1].close()
        await publisher.close()
        for node in nodes:
            if node.proc.returncode is None:
                node.proc.terminate()
        for node in nodes:
            await node.proc.wait()
        await directory.close()
        server.terminate()
        server.wait(10)


async def _is(values: object, expected: list[str]) -> bool:
    return await values == expected  # type: ignore[misc]
