"""Fan-out benchmark: CPU of the forwarding process per forwarded RTP packet.

    python -m tests.perf.fanout --subscribers 5,10,20 --seconds 15 --runs 2 --baseline --json

Three kinds of processes, all on 127.0.0.1: the forwarding process (the media plane behind a
tiny HTTP/JSON signalling endpoint), one publisher process (1 Mbps VP8 640x480 30 fps + Opus)
and subscriber processes (at most ``--peers-per-process`` peers each, niced by ``--nice`` so
that their decoding does not take the forwarding process' core) whose aiortc peers really
decode: lean peers by default (packets handled as they arrive, frames decoded on the event
loop), aiortc's own receive loop and decoder threads with ``--stock-clients``. The
forwarding process' own CPU time is read before and after a measurement window.

Figures: the marginal cost per forwarded packet as the slope of CPU against forwarded packets
over the subscriber counts (median over ``--runs``), the same between consecutive counts
((cpu(N2) - cpu(N1)) / (packets(N2) - packets(N1))), and the forwarding function alone
(:mod:`tests.perf.forward_micro`). ``--baseline`` runs aiortc's stock MediaRelay (decode once,
re-encode per subscriber) the same way.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import itertools
import json
import multiprocessing as mp
import os
import resource
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import av
import numpy as np

LOOPBACK = "127.0.0.1"


# -- forwarding process -------------------------------------------------------------------


def _quiet() -> None:
    """Warnings and errors only, on stderr: stdout carries the figures."""
    import logging

    import structlog

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


def _pin(cpus: frozenset[int]) -> None:
    """Run this process (and the threads it starts) on ``cpus`` only, if any are given."""
    if cpus:
        os.sched_setaffinity(0, cpus)


def _server_main(mode: str, port_queue: Any, cpus: frozenset[int]) -> None:
    _pin(cpus)
    _quiet()
    asyncio.run(_server(mode, port_queue))


async def _server(mode: str, port_queue: Any) -> None:
    from aiohttp import web

    stop = asyncio.Event()
    state: dict[str, Any] = {"publisher": None, "subscribers": []}

    if mode == "forward":
        from core.media import MediaConfig, MediaEngine

        engine = MediaEngine(MediaConfig(host_addresses=(LOOPBACK,)))

        async def publish(sdp: str) -> str:
            publisher = engine.publisher(name="bench")
            state["publisher"] = publisher
            answer = await publisher.accept_offer(sdp)
            return answer

        async def subscribe(sdp: str) -> str:
            subscriber = engine.subscriber(name="bench")
            subscriber.attach(state["publisher"])
            state["subscribers"].append(subscriber)
            return await subscriber.accept_offer(sdp)

        async def counters() -> tuple[int, int, int]:
            ingress = sum(s.packets for s in state["publisher"].stats().values())
            egress = [s for sub in state["subscribers"] for s in sub.stats().values()]
            forwarded = sum(s.packets for s in egress)
            return ingress, forwarded, sum(s.retransmitted for s in egress)

        async def close() -> None:
            await engine.close()

    else:
        from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
        from aiortc.contrib.media import MediaRelay

        from core.media import _aiortc

        relay = MediaRelay()
        tracks: list[Any] = []
        pcs: list[Any] = []

        async def answer(pc: Any, sdp: str) -> str:
            await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
            _aiortc.restrict_gathering(pc, [LOOPBACK])
            await pc.setLocalDescription(await pc.createAnswer())
            return str(pc.localDescription.sdp)

        async def publish(sdp: str) -> str:
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            pcs.append(pc)
            pc.on("track", tracks.append)
            state["publisher"] = pc
            return await answer(pc, sdp)

        async def subscribe(sdp: str) -> str:
            pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
            pcs.append(pc)
            for track in tracks:
                pc.addTrack(relay.subscribe(track))
            state["subscribers"].append(pc)
            return await answer(pc, sdp)

        async def counters() -> tuple[int, int, int]:
            ingress = forwarded = 0
            for report in (await state["publisher"].getStats()).values():
                if report.type == "inbound-rtp":
                    ingress += report.packetsReceived
            for pc in state["subscribers"]:
                for report in (await pc.getStats()).values():
                    if report.type == "outbound-rtp":
                        forwarded += report.packetsSent
            return ingress, forwarded, 0  # aiortc's sender does not count its RTX

        async def close() -> None:
            for pc in pcs:
                await pc.close()

    async def handle(request: web.Request) -> web.Response:
        body = await request.json()
        action = request.match_info["action"]
        if action == "publish":
            return web.json_response({"sdp": await publish(body["sdp"])})
        if action == "subscribe":
            return web.json_response({"sdp": await subscribe(body["sdp"])})
        if action == "stats":
            ingress, forwarded, retransmitted = await counters()
            return web.json_response(
                {
                    "cpu": time.process_time(),
                    "cpu_user": os.times().user,
                    "cpu_system": os.times().system,
                    "ingress": ingress,
                    "forwarded": forwarded,
                    "retransmitted": retransmitted,
                    "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,  # peak
                }
            )
        stop.set()
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/{action}", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, LOOPBACK, 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    port_queue.put(port)
    await stop.wait()
    await close()
    await runner.cleanup()


async def _post(port: int, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    import aiohttp

    async with (
        aiohttp.ClientSession() as session,
        session.post(f"http://{LOOPBACK}:{port}/{action}", json=body or {}) as response,
    ):
        result: dict[str, Any] = await response.json()
        return result


# -- publisher process --------------------------------------------------------------------


def _encoded_vp8_track(bitrate: int) -> Any:
    from aiortc import MediaStreamTrack

    from tests.core.media.clients import PatternVideoTrack

    class EncodedVp8Track(MediaStreamTrack):
        """Frames encoded at a fixed bitrate (keyframe every 2 s), sent as packets."""

        kind = "video"

        def __init__(self) -> None:
            super().__init__()
            self._source = PatternVideoTrack()
            rng = np.random.default_rng(1)
            # Noise keeps the encoder busy at its target bitrate.
            for i, frame in enumerate(self._source._frames):
                planes = frame.to_ndarray()
                noise = rng.integers(0, 12, planes.shape, dtype=np.uint8)
                noisy = av.VideoFrame.from_ndarray(planes + noise, format="yuv420p")
                self._source._frames[i] = noisy
            codec = av.CodecContext.create("libvpx", "w")
            codec.width, codec.height = 640, 480
            codec.pix_fmt = "yuv420p"
            codec.bit_rate = bitrate
            codec.gop_size = 60
            codec.time_base = fractions.Fraction(1, 90000)
            codec.options = {
                "cpu-used": "16",
                "deadline": "realtime",
                "lag-in-frames": "0",
                "minrate": str(bitrate),
                "maxrate": str(bitrate),
                "bufsize": str(bitrate),
                "undershoot-pct": "95",
                "overshoot-pct": "15",
            }
            # One GOP (2 s, a keyframe first) encoded up front and replayed in a loop: the
            # publisher costs next to nothing, so its frame rate does not depend on the load.
            self._encoded: list[bytes] = []
            for i in range(60):
                frame = self._source._frames[i % len(self._source._frames)]
                frame.pts = i * 3000
                frame.time_base = fractions.Fraction(1, 90000)
                self._encoded += [bytes(p) for p in codec.encode(frame)]
            self._next = 0

        async def recv(self) -> Any:
            frame = await self._source.recv()  # paces at 30 fps
            packet = av.Packet(self._encoded[self._next % len(self._encoded)])
            self._next += 1
            packet.pts = frame.pts
            packet.time_base = frame.time_base
            return packet

    return EncodedVp8Track()


def _publisher_main(port: int, bitrate: int, ready: Any, done: Any, cpus: frozenset[int]) -> None:
    _pin(cpus)

    async def run() -> None:
        from tests.core.media.clients import ClientPublisher

        client = ClientPublisher(video_track=_encoded_vp8_track(bitrate))
        answer = await _post(port, "publish", {"sdp": await client.offer()})
        await client.accept_answer(answer["sdp"])
        ready.put(True)
        await asyncio.to_thread(done.wait)
        await client.close()

    asyncio.run(run())


# -- subscriber processes -----------------------------------------------------------------


def _subscribers_main(
    port: int, count: int, setup: Setup, ready: Any, start: Any, stop: Any, out: Any
) -> None:
    # The clients decode for real, but must not take the forwarding process' core away.
    _pin(setup.client_cpus)
    os.nice(setup.nice)

    async def run() -> None:
        from core.media import _aiortc
        from tests.core.media.clients import ClientSubscriber, DecodeErrors

        with DecodeErrors() as errors:
            clients = []
            first_frame_ms = []
            granted = []
            for _ in range(count):
                client = ClientSubscriber(lean=not setup.stock_clients)
                began = time.monotonic()
                offer = await client.offer()
                if setup.receive_buffer:
                    size = setup.receive_buffer
                    granted.append(_aiortc.enlarge_receive_buffers(client.pc, size))
                if setup.remb_interval:
                    _aiortc.throttle_remb(client.pc, setup.remb_interval)
                answer = await _post(port, "subscribe", {"sdp": offer})
                await client.accept_answer(answer["sdp"])
                clients.append((client, began))
            for client, began in clients:
                await asyncio.wait_for(client.first_video.wait(), 30)
                first_frame_ms.append((client.video_times[0] - began) * 1000)
            ready.put(count)
            await asyncio.to_thread(start.wait)
            t0, cpu0 = time.monotonic(), time.process_time()
            await asyncio.to_thread(stop.wait)
            t1, cpu1 = time.monotonic(), time.process_time()
            fps = [sum(1 for t in c.video_times if t0 <= t < t1) / (t1 - t0) for c, _ in clients]
            sizes = {s for c, _ in clients for s in c.video_sizes}
            audio = [c.audio_frames for c, _ in clients]
            result = {
                "fps": fps,
                "first_frame_ms": first_frame_ms,
                "decode_errors": errors.count,
                "sizes": sorted(sizes),
                "audio_frames_min": min(audio),
                "receive_buffer": min(granted, default=0),
                "cpu_seconds": cpu1 - cpu0,
                "seconds": t1 - t0,
            }
            for client, _ in clients:
                await client.close()
        out.put(result)

    asyncio.run(run())


# -- orchestration ------------------------------------------------------------------------


@dataclass(frozen=True)
class Setup:
    """What every round of one invocation shares (the command line's options)."""

    seconds: float
    bitrate: int
    nice: int
    per_process: int
    receive_buffer: int
    remb_interval: float
    stock_clients: bool
    #: The forwarding process' CPUs and the other processes' (empty: not pinned).
    server_cpus: frozenset[int] = frozenset()
    client_cpus: frozenset[int] = frozenset()


@dataclass
class Round:
    mode: str
    subscribers: int
    seconds: float
    cpu_seconds: float
    cpu_user_seconds: float
    cpu_system_seconds: float
    ingress_packets: int
    forwarded_packets: int
    retransmitted_packets: int
    udp_receive_drops: int
    machine_busy_percent: float
    machine_steal_percent: float
    client_receive_buffer: int
    client_cpu_ms_per_second: float
    us_per_forwarded_packet: float
    fps_min: float
    fps_avg: float
    decode_errors: int
    first_frame_ms_max: float
    rss_mb: float


def run_round(mode: str, subscribers: int, setup: Setup) -> Round:
    ctx = mp.get_context("spawn")
    port_queue = ctx.Queue()
    server = ctx.Process(
        target=_server_main, args=(mode, port_queue, setup.server_cpus), daemon=True
    )
    done = ctx.Event()
    published = ctx.Queue()
    ready, out = ctx.Queue(), ctx.Queue()
    start, stop = ctx.Event(), ctx.Event()
    per_process = max(setup.per_process, 1)
    groups = [min(per_process, subscribers - i) for i in range(0, subscribers, per_process)]
    workers: list[Any] = []
    publisher: Any = None
    port = 0
    try:
        server.start()
        port = port_queue.get(timeout=30)
        publisher = ctx.Process(
            target=_publisher_main,
            args=(port, setup.bitrate, published, done, setup.client_cpus),
            daemon=True,
        )
        publisher.start()
        published.get(timeout=60)
        time.sleep(1.0)  # media starts flowing
        workers = [
            ctx.Process(
                target=_subscribers_main,
                args=(port, n, setup, ready, start, stop, out),
                daemon=True,
            )
            for n in groups
        ]
        for worker in workers:
            worker.start()
        for _ in workers:
            ready.get(timeout=180)
        time.sleep(2.0)  # warm-up
        before = asyncio.run(_post(port, "stats"))
        drops_before = _udp_receive_drops()
        cpu_before = _machine_cpu()
        start.set()
        began = time.monotonic()
        time.sleep(setup.seconds)
        after = asyncio.run(_post(port, "stats"))
        drops = _udp_receive_drops() - drops_before
        machine = [b - a for a, b in zip(cpu_before, _machine_cpu(), strict=True)]
        elapsed = time.monotonic() - began
        stop.set()
        results = [out.get(timeout=60) for _ in workers]
    finally:
        stop.set()
        done.set()
        for worker in workers:
            worker.join(30)
        if publisher is not None:
            publisher.join(30)
        if port:
            try:
                asyncio.run(_post(port, "quit"))
            except OSError:
                pass
        server.join(30)
        for process in (*workers, publisher, server):
            if process is not None and process.is_alive():
                process.terminate()
                process.join(5)
    cpu = after["cpu"] - before["cpu"]
    ingress = after["ingress"] - before["ingress"]
    forwarded = after["forwarded"] - before["forwarded"]
    fps = [f for r in results for f in r["fps"]] or [0.0]  # none: a publisher-only round
    return Round(
        mode=mode,
        subscribers=subscribers,
        seconds=round(elapsed, 2),
        cpu_seconds=round(cpu, 3),
        cpu_user_seconds=round(after["cpu_user"] - before["cpu_user"], 3),
        cpu_system_seconds=round(after["cpu_system"] - before["cpu_system"], 3),
        ingress_packets=ingress,
        forwarded_packets=forwarded,
        retransmitted_packets=after["retransmitted"] - before["retransmitted"],
        udp_receive_drops=drops,
        # Of the machine's CPU time in the window: busy (user, nice, system, irq, softirq),
        # and stolen by the hypervisor from this virtual machine.
        machine_busy_percent=round(100 * sum(machine[0:3] + machine[5:7]) / sum(machine), 1),
        machine_steal_percent=round(100 * machine[7] / sum(machine), 1),
        client_receive_buffer=min((r["receive_buffer"] for r in results), default=0),
        # CPU of the subscriber processes per subscriber and second of the window.
        client_cpu_ms_per_second=round(
            sum(r["cpu_seconds"] / r["seconds"] for r in results) * 1000 / max(subscribers, 1),
            1,
        ),
        us_per_forwarded_packet=round(cpu / max(forwarded, 1) * 1e6, 2),
        fps_min=round(min(fps), 1),
        fps_avg=round(sum(fps) / len(fps), 1),
        decode_errors=sum(r["decode_errors"] for r in results),
        first_frame_ms_max=round(max((t for r in results for t in r["first_frame_ms"]), default=0)),
        rss_mb=round(after["rss_mb"], 1),
    )


def _udp_receive_drops() -> int:
    """Datagrams the kernel dropped, machine-wide, because a socket's receive buffer was full
    (``RcvbufErrors``): on loopback, a client that did not read in time."""
    with open("/proc/net/snmp") as snmp:
        rows = [line.split() for line in snmp if line.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


def _machine_cpu() -> list[int]:
    """The machine's CPU time so far, in ticks: /proc/stat's first eight fields (user, nice,
    system, idle, iowait, irq, softirq, steal)."""
    with open("/proc/stat") as stat:
        return [int(x) for x in stat.readline().split()[1:9]]


def _fit(rounds: list[Round], part: str = "cpu_seconds") -> tuple[float, float]:
    """Least squares of CPU seconds (all, or the ``part`` named: user or system time) on
    forwarded packets: (slope s/packet, intercept s)."""
    xs = [r.forwarded_packets for r in rounds]
    ys = [getattr(r, part) for r in rounds]
    if len(rounds) < 2:
        return ys[0] / max(xs[0], 1), 0.0
    slope, intercept = np.polyfit(xs, ys, 1)
    return float(slope), float(intercept)


def _pairwise(rounds: list[Round]) -> dict[str, float]:
    """(cpu(N2) - cpu(N1)) / (packets(N2) - packets(N1)) between consecutive counts, in µs."""
    ordered = sorted(rounds, key=lambda r: r.subscribers)
    result = {}
    for low, high in itertools.pairwise(ordered):
        packets = high.forwarded_packets - low.forwarded_packets
        if packets > 0:
            value = (high.cpu_seconds - low.cpu_seconds) / packets * 1e6
            result[f"{low.subscribers}->{high.subscribers}"] = round(value, 2)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", default="5,10,20", help="counts, comma separated")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--bitrate", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1, help="repeat the counts; medians")
    parser.add_argument("--nice", type=int, default=10, help="niceness of subscriber processes")
    parser.add_argument("--peers-per-process", type=int, default=10)
    parser.add_argument(
        "--receive-buffer",
        type=int,
        default=4 << 20,
        help="bytes of socket receive buffer the clients ask for (0: the system default)",
    )
    parser.add_argument(
        "--remb-interval",
        type=float,
        default=0.2,
        help="least seconds between a client's REMB packets, as libwebrtc (0: aiortc's own)",
    )
    parser.add_argument(
        "--stock-clients",
        action="store_true",
        help="clients receive and decode as aiortc does: its receive loop, a thread per decoder",
    )
    parser.add_argument(
        "--no-pin",
        action="store_true",
        help="let the scheduler place every process (default: the forwarding process on the "
        "first CPU, the publisher and the clients on the others)",
    )
    parser.add_argument("--baseline", action="store_true", help="also run aiortc's MediaRelay")
    parser.add_argument("--baseline-subscribers", type=int, default=None)
    parser.add_argument("--no-micro", action="store_true", help="skip the microbenchmark")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    counts = [int(n) for n in str(args.subscribers).split(",")]
    micro: dict[str, Any] = {}
    if not args.no_micro:
        from tests.perf import forward_micro

        micro = asyncio.run(forward_micro.run([1, *[n for n in counts if n > 1]], 2000, 5))
        print(json.dumps(micro), file=sys.stderr)
    cpus = sorted(os.sched_getaffinity(0))
    # The clients stand in for other machines: they do not share the forwarding process'
    # core (nor its caches), as they would not in a deployment.
    pin = not args.no_pin and len(cpus) > 1
    setup = Setup(
        seconds=args.seconds,
        bitrate=args.bitrate,
        nice=args.nice,
        per_process=args.peers_per_process,
        receive_buffer=args.receive_buffer,
        remb_interval=args.remb_interval,
        stock_clients=args.stock_clients,
        server_cpus=frozenset(cpus[:1] if pin else ()),
        client_cpus=frozenset(cpus[1:] if pin else ()),
    )
    runs: list[list[Round]] = []
    alone: list[Round] = []  # the publisher with no subscriber: the cost of ingress alone
    for _ in range(args.runs):
        alone.append(run_round("forward", 0, setup))
        print(json.dumps(asdict(alone[-1])), file=sys.stderr)
        rounds = []
        for n in counts:
            rounds.append(run_round("forward", n, setup))
            print(json.dumps(asdict(rounds[-1])), file=sys.stderr)
        runs.append(rounds)
    slopes = [_fit(rounds) for rounds in runs]
    pairwise = [_pairwise(rounds) for rounds in runs]
    all_rounds = [r for rounds in runs for r in rounds]
    seconds = sum(r.seconds for r in all_rounds)
    ingress_rate = sum(r.ingress_packets for r in all_rounds) / seconds
    high = [r for r in all_rounds if r.subscribers == max(counts)]
    summary: dict[str, Any] = {
        "subscribers": counts,
        "seconds": args.seconds,
        "runs": args.runs,
        "cpus": os.cpu_count(),
        "us_per_forwarded_packet": round(statistics.median(s for s, _ in slopes) * 1e6, 2),
        "us_per_forwarded_packet_runs": [round(s * 1e6, 2) for s, _ in slopes],
        # The same slope split into user time (the process' own work) and system time (the
        # kernel: sendto, and on loopback the delivery to and wake-up of the client process).
        "us_per_forwarded_packet_user": round(
            statistics.median(_fit(rounds, "cpu_user_seconds")[0] for rounds in runs) * 1e6, 2
        ),
        "us_per_forwarded_packet_system": round(
            statistics.median(_fit(rounds, "cpu_system_seconds")[0] for rounds in runs) * 1e6, 2
        ),
        "us_per_forwarded_packet_pairwise": {
            key: round(statistics.median(p[key] for p in pairwise if key in p), 2)
            for key in pairwise[0]
        },
        "us_per_forwarded_packet_average": {
            n: round(
                statistics.median(
                    r.us_per_forwarded_packet for r in all_rounds if r.subscribers == n
                ),
                2,
            )
            for n in counts
        },
        "micro_us_per_forwarded_packet": micro.get("micro_us_per_forwarded_packet"),
        "micro_rows": micro.get("micro_rows"),
        # Everything the process does with one publisher and no subscriber (its ICE, DTLS,
        # SRTP, aiortc's receive path, the packet cache, the idle event loop), per packet.
        "us_per_ingress_packet": round(
            statistics.median(r.cpu_seconds / max(r.ingress_packets, 1) for r in alone) * 1e6, 1
        ),
        "ingress_packets_per_second": round(ingress_rate, 1),
        "forwarding_cpu_percent_at_max": round(
            statistics.median(r.cpu_seconds / r.seconds for r in high) * 100, 1
        ),
        "subscriber_fps_min": min(r.fps_min for r in all_rounds),
        "subscriber_fps_avg": {
            n: [r.fps_avg for r in all_rounds if r.subscribers == n] for n in counts
        },
        "decode_errors": sum(r.decode_errors for r in all_rounds),
        # Packets sent again on a subscriber's NACK: costs the forwarding process CPU that
        # the forwarded-packet count does not show (clients that fall behind lose packets).
        "retransmitted_packets": sum(r.retransmitted_packets for r in all_rounds),
        "udp_receive_drops": sum(r.udp_receive_drops for r in all_rounds),
        "client_receive_buffer": args.receive_buffer,
        "client_remb_interval": args.remb_interval,
        "clients": "stock" if args.stock_clients else "lean",
        "pinned": {"server": sorted(setup.server_cpus), "others": sorted(setup.client_cpus)},
        "client_cpu_ms_per_second": {
            n: [r.client_cpu_ms_per_second for r in all_rounds if r.subscribers == n]
            for n in counts
        },
        "first_frame_ms_max": max(r.first_frame_ms_max for r in all_rounds),
        "rss_mb_peak": max(r.rss_mb for r in all_rounds),
        "baseline_us_per_forwarded_packet": None,
        "ratio_vs_baseline": None,
        "rounds": [asdict(r) for r in alone + all_rounds],
    }
    if args.baseline:
        n = args.baseline_subscribers or min(counts)
        base = run_round("baseline", n, setup)
        print(json.dumps(asdict(base)), file=sys.stderr)
        summary["baseline_us_per_forwarded_packet"] = base.us_per_forwarded_packet
        summary["baseline_subscriber_fps_min"] = base.fps_min
        summary["ratio_vs_baseline"] = round(
            base.us_per_forwarded_packet / summary["us_per_forwarded_packet"], 1
        )
        summary["rounds"].append(asdict(base))
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        for key, value in summary.items():
            if key != "rounds":
                print(f"{key:36} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
