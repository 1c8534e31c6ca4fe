"""Cluster relay benchmark: CPU per relayed packet on the edge, and the latency a relay adds.

    python -m tests.perf.relay --players 4 --seconds 15 --json

A redis-server and two ``python -m gateway serve`` nodes on 127.0.0.1: the origin A and the
edge B. This process publishes a VP8 stream to A with WHIP (each frame's brightness encodes its
number), plays it directly from A with one WHEP player, and through B with ``--players`` WHEP
players; every player decodes. Over the measurement window it reads the CPU time of both node
processes and the packets the publisher sent, and compares when each numbered frame was decoded
by the direct player and by the relayed ones.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import numpy as np
import psutil
from aiortc import RTCPeerConnection
from av import VideoFrame

from tests.adapters.whip.clients import accept, loopback_pc, player_offer, post_offer
from tests.core.media.clients import PacedVideoTrack, Receiver, local_offer
from tests.gateway.cluster.conftest import REDIS_SERVER, free_port
from tests.gateway.cluster.test_cluster import Node, find_all, start_node, wait_ready

WIDTH, HEIGHT, FPS = 320, 240, 15
LEVELS = 12  # frame number modulo LEVELS, as brightness steps of 20


class CountingTrack(PacedVideoTrack):
    def __init__(self) -> None:
        noise = np.random.default_rng(1)
        frames = []
        for i in range(LEVELS):
            rgb = np.full((HEIGHT, WIDTH, 3), 20 + 20 * i, dtype=np.uint8)
            # The lower half is noise, so that a frame takes many packets (~1 Mbps).
            rgb[HEIGHT // 2 :] = noise.integers(0, 256, (HEIGHT // 2, WIDTH, 3), dtype=np.uint8)
            frames.append(VideoFrame.from_ndarray(rgb, format="rgb24"))
        super().__init__(frames, FPS)


class TimedPlayer(Receiver):
    """Decodes, and notes when each frame number arrived."""

    def __init__(self) -> None:
        super().__init__(loopback_pc())
        self.arrivals: list[tuple[float, int]] = []

    def on_frame(self, frame: Any, mid: str) -> None:
        luma = frame.to_ndarray(format="gray")[HEIGHT // 4 : HEIGHT // 2, :].mean()
        self.arrivals.append((time.monotonic(), frame_number(float(luma))))


def frame_number(luma: float) -> int:
    # rgb (v, v, v) has luma 16 + 219 * v / 255 in limited range.
    value = (luma - 16) * 255 / 219
    return round((value - 20) / 20) % LEVELS


def added_latency(direct: list[tuple[float, int]], relayed: list[tuple[float, int]]) -> list[float]:
    """For each relayed frame, its arrival minus the direct player's of the same number
    (the nearest within half a cycle)."""
    out = []
    half = LEVELS / FPS / 2
    for at, number in relayed:
        near = [at - t for t, n in direct if n == number and abs(at - t) < half]
        if near:
            out.append(min(near, key=abs))
    return out


async def start_redis(tmp: Path) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    proc = await asyncio.create_subprocess_exec(
        REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no", "--dir", str(tmp),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            await asyncio.sleep(0.05)
    return proc, f"redis://127.0.0.1:{port}/0"


async def play(http: aiohttp.ClientSession, node: Node) -> TimedPlayer:
    player = TimedPlayer()
    created = await post_offer(http, f"{node.url}/whep/bench", await player_offer(player.pc))
    await accept(player.pc, created.answer)
    return player


def packets_sent(pc: RTCPeerConnection) -> int:
    # aiortc keeps the count for its sender reports only (a private name).
    return sum(
        int(getattr(t.sender, "_RTCRtpSender__packet_count", 0)) for t in pc.getTransceivers()
    )


async def run(players: int, seconds: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="relay-bench-"))
    redis, redis_url = await start_redis(tmp)
    nodes = [await start_node(n, redis_url, tmp) for n in ("a", "b")]
    opened: list[TimedPlayer] = []
    publisher = loopback_pc()
    try:
        await asyncio.gather(*(wait_ready(n) for n in nodes))
        a, b = nodes
        async with aiohttp.ClientSession() as http:
            publisher.addTransceiver(CountingTrack(), direction="sendonly")
            created = await post_offer(http, f"{a.url}/whip/bench", await local_offer(publisher))
            await accept(publisher, created.answer)
            for _ in range(100):
                found = await find_all(http, a)
                if found and found[0]["status"] == "PUBLISHING":
                    break
                await asyncio.sleep(0.1)
            direct = await play(http, a)
            opened.append(direct)
            relayed = [await play(http, b) for _ in range(players)]
            opened += relayed
            await asyncio.sleep(3)  # warm up: ICE, DTLS, first keyframes
            procs = {n.name: psutil.Process(n.proc.pid) for n in nodes}
            cpu0 = {k: sum(p.cpu_times()[:2]) for k, p in procs.items()}
            sent0, t0 = packets_sent(publisher), time.monotonic()
            for player in opened:
                player.arrivals.clear()
            await asyncio.sleep(seconds)
            cpu1 = {k: sum(p.cpu_times()[:2]) for k, p in procs.items()}
            sent1, t1 = packets_sent(publisher), time.monotonic()
    finally:
        for player in opened:
            await player.close()
        await publisher.close()
        for node in nodes:
            node.proc.terminate()
            await node.proc.wait()
        redis.terminate()
        await redis.wait()
    packets = sent1 - sent0
    edge_cpu = cpu1["b"] - cpu0["b"]
    origin_cpu = cpu1["a"] - cpu0["a"]
    delays = [d for p in relayed for d in added_latency(direct.arrivals, p.arrivals)]
    return {
        "players_on_edge": players,
        "seconds": round(t1 - t0, 1),
        "video": f"VP8 {WIDTH}x{HEIGHT} {FPS} fps",
        "packets_in_per_s": round(packets / (t1 - t0), 1),
        "edge_cpu_percent": round(100 * edge_cpu / (t1 - t0), 1),
        "edge_cpu_us_per_relayed_packet": round(1e6 * edge_cpu / max(packets, 1), 1),
        "edge_cpu_us_per_forwarded_packet": round(1e6 * edge_cpu / max(packets * players, 1), 1),
        "origin_cpu_percent": round(100 * origin_cpu / (t1 - t0), 1),
        "frames_compared": len(delays),
        "added_latency_ms_median": round(1000 * statistics.median(delays), 2) if delays else None,
        "added_latency_ms_p90": (
            round(1000 * statistics.quantiles(delays, n=10)[-1], 2) if len(delays) > 10 else None
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--players", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args()
    figures = asyncio.run(run(args.players, args.seconds))
    for key, value in figures.items():
        print(f"{key:36} {value}")
    if args.json:
        print(json.dumps(figures))
    sys.exit(0)


if __name__ == "__main__":
    main()
