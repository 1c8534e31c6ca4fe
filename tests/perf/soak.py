"""Publish, play and stop, over and over, and watch what the process holds.

    python -m tests.perf.soak --cycles 1000 [--every 50] [--json]

One cycle: a WHIP publisher, a WHEP player that waits for the stream's media, then an Ant
Media, a Flashphoner and an RTM signalling connection (connect, ping, disconnect), then
everything closed. Every ``--every`` cycles it samples the gateway process's RSS, its asyncio
task count, its open file descriptors and the media plane's open endpoints (peer
connections). A leak shows as a rising column.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
from typing import Any

import aiohttp
import psutil

from gateway.logging import configure_logging
from tests.adapters.whip.clients import (
    accept,
    loopback_pc,
    player_offer,
    post_offer,
    publisher_offer,
)
from tests.fuzz.serving import RawClient, Served, serve, settled

PINGS = {
    "antmedia": '{"command": "ping"}',
    "flashphoner": '{"message": "ping", "data": [null]}',
    "rtm": '{"type": "msg ping", "client_id": "c", "session_id": "", "data": {}}',
}


async def cycle(served: Served, http: aiohttp.ClientSession, n: int) -> None:
    name = f"soak{n}"
    publisher, player = loopback_pc(), loopback_pc()
    try:
        created = await post_offer(
            http, served.url(f"/whip/{name}"), await publisher_offer(publisher)
        )
        await accept(publisher, created.answer)
        await settled(
            lambda: (
                bool(served.hub.streams_by_key)
                and all(s.live for s in served.hub.streams_by_key.values())
            ),
            within=15,
        )
        played = await post_offer(http, served.url(f"/whep/{name}"), await player_offer(player))
        await accept(player, played.answer)
        for dialect, ping in PINGS.items():
            client = await RawClient.connect(served.ws_url(dialect))
            await client.ws.send_str(ping)
            await client.wait_for(lambda m: isinstance(m, dict) and "pong" in json.dumps(m))
            await client.close()
        for location in (played.location, created.location):
            async with http.delete(served.url(location)) as r:
                assert r.status == 200
    finally:
        await player.close()
        await publisher.close()
    await settled(lambda: not served.hub.sessions and served.endpoint_count() == 0, within=15)


def sample(served: Served, n: int, started: float) -> dict[str, Any]:
    gc.collect()
    process = psutil.Process()
    return {
        "cycle": n,
        "seconds": round(time.monotonic() - started, 1),
        "rss_mb": round(process.memory_info().rss / 2**20, 1),
        "tasks": len(asyncio.all_tasks()),
        "fds": process.num_fds(),
        "endpoints": served.endpoint_count(),
        "sessions": len(served.hub.sessions),
    }


async def soak(cycles: int, every: int) -> list[dict[str, Any]]:
    samples = []
    async with serve(limits={"messages_per_second": 0}) as served, aiohttp.ClientSession() as http:
        started = time.monotonic()
        await cycle(served, http, 0)  # warm up imports and caches
        samples.append(sample(served, 0, started))
        for n in range(1, cycles + 1):
            await cycle(served, http, n)
            if n % every == 0 or n == cycles:
                samples.append(sample(served, n, started))
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    configure_logging(level="warning")
    samples = asyncio.run(soak(args.cycles, args.every))
    if args.json:
        print(json.dumps(samples, indent=2))
    else:
        print("| cycle | seconds | RSS MiB | tasks | fds | endpoints | sessions |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for s in samples:
            print(
                f"| {s['cycle']} | {s['seconds']} | {s['rss_mb']} | {s['tasks']} | {s['fds']} "
                f"| {s['endpoints']} | {s['sessions']} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
