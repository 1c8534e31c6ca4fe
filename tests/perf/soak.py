"""Publish, play and stop, over and over, and watch what the process holds.

    python -m tests.perf.soak --cycles 1000 [--every 50] [--json]

One cycle: a WHIP publisher, a WHEP player that waits for the stream's media, then an Ant
Media, a Flashphoner and an RTM signalling connection (connect, ping, disconnect), then
everything closed. Every ``--every`` cycles it samples the gateway process's RSS, its asyncio
task count, its open file descriptors and the media plane's open endpoints (peer
connections). A leak shows as a rising column.

The soak's clients run on the gateway's event loop, so the tasks are counted by side: a
task whose coroutine is a method of one of the soak's own peer connections (or of their
transceivers, transports and ICE connections), or whose code is under ``tests/``, or the
soak's own task, is the client's; every other task is the gateway's (``server_tasks``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
import time
import weakref
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import psutil
from aiortc import RTCPeerConnection

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


TESTS = str(Path(__file__).resolve().parents[1])

#: The soak's own peer connections and everything of theirs a task can run a method of.
_CLIENT_OBJECTS: weakref.WeakSet[object] = weakref.WeakSet()


def client_pc() -> RTCPeerConnection:
    pc = loopback_pc()
    _CLIENT_OBJECTS.add(pc)
    return pc


def _remember_client_parts(pc: RTCPeerConnection) -> None:
    """After ``setLocalDescription``: the transceivers and transports ``pc`` now has."""
    for transceiver in pc.getTransceivers():
        dtls = transceiver.receiver.transport
        ice = dtls.transport
        for part in (
            transceiver,
            transceiver.sender,
            transceiver.receiver,
            dtls,
            ice,
            ice.iceGatherer,
            ice.iceGatherer._connection,
        ):
            _CLIENT_OBJECTS.add(part)


def task_side(task: asyncio.Task[Any]) -> str:
    """``"client"`` for the soak's own tasks, ``"server"`` for the gateway's."""
    if task is asyncio.current_task():
        return "client"
    coro = task.get_coro()
    code = getattr(coro, "cr_code", None)
    if code is not None and code.co_filename.startswith(TESTS):
        return "client"
    frame = getattr(coro, "cr_frame", None)
    # A method's ``self``, or the peer connection of the media plane's connect wrapper.
    owner = None if frame is None else frame.f_locals.get("self", frame.f_locals.get("pc"))
    try:
        if owner is not None and owner in _CLIENT_OBJECTS:
            return "client"
    except TypeError:  # not weak-referenceable, so not one of ours
        pass
    return "server"


async def cycle(served: Served, http: aiohttp.ClientSession, n: int) -> None:
    name = f"soak{n}"
    publisher, player = client_pc(), client_pc()
    try:
        offer = await publisher_offer(publisher)
        _remember_client_parts(publisher)
        created = await post_offer(http, served.url(f"/whip/{name}"), offer)
        await accept(publisher, created.answer)
        await settled(
            lambda: (
                bool(served.hub.streams_by_key)
                and all(s.live for s in served.hub.streams_by_key.values())
            ),
            within=15,
        )
        offer = await player_offer(player)
        _remember_client_parts(player)
        played = await post_offer(http, served.url(f"/whep/{name}"), offer)
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


def task_name(task: asyncio.Task[Any]) -> str:
    """What a task runs, by qualified name (``RTCRtpSender._run_rtcp``), and where it waits."""
    coro = task.get_coro()
    name = getattr(coro, "__qualname__", None) or type(coro).__name__
    # The chain of awaited coroutines says what a long-lived task is waiting on.
    chain = []
    while coro is not None:
        frame = getattr(coro, "cr_frame", None)
        if frame is not None:
            chain.append(f"{frame.f_code.co_qualname}:{frame.f_lineno}")
        coro = getattr(coro, "cr_await", None)
    return f"{name} @ {' > '.join(chain[1:])}" if len(chain) > 1 else name


class Unretrieved:
    """Counts the loop's "exception was never retrieved" reports, by side and exception."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        task = context.get("future") or context.get("task")
        error = context.get("exception")
        if isinstance(task, asyncio.Task) and error is not None:
            side = _error_side(error)
            self.counts[f"{side}: {task.get_coro().__qualname__}: {error!r}"] += 1
            if side == "client":
                return  # the soak's own peer connection: not the gateway's concern
        loop.default_exception_handler(context)


def _error_side(error: BaseException) -> str:
    """The side of the object whose method raised (a finished task no longer has a frame:
    the traceback keeps them)."""
    tb = error.__traceback__
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        try:
            if owner is not None and owner in _CLIENT_OBJECTS:
                return "client"
        except TypeError:
            pass
        tb = tb.tb_next
    return "server"


def sample(
    served: Served, n: int, started: float, unretrieved: Unretrieved | None = None
) -> dict[str, Any]:
    gc.collect()
    process = psutil.Process()
    tasks = list(asyncio.all_tasks())
    sides = [task_side(t) for t in tasks]
    names = Counter(task_name(t) for t, side in zip(tasks, sides, strict=True) if side == "server")
    return {
        "cycle": n,
        "seconds": round(time.monotonic() - started, 1),
        "rss_mb": round(process.memory_info().rss / 2**20, 1),
        "tasks": len(sides),
        "server_tasks": sides.count("server"),
        "client_tasks": sides.count("client"),
        "fds": process.num_fds(),
        "endpoints": served.endpoint_count(),
        "sessions": len(served.hub.sessions),
        "server_task_names": dict(sorted(names.items())),
        "unretrieved": dict(unretrieved.counts) if unretrieved is not None else {},
    }


async def soak(
    cycles: int, every: int, on_sample: Callable[[dict[str, Any]], None] | None = None
) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = []

    unretrieved = Unretrieved()
    asyncio.get_running_loop().set_exception_handler(unretrieved.handler)

    def take(n: int) -> None:
        samples.append(sample(served, n, started, unretrieved))
        if on_sample is not None:
            on_sample(samples[-1])

    async with serve(limits={"messages_per_second": 0}) as served, aiohttp.ClientSession() as http:
        started = time.monotonic()
        await cycle(served, http, 0)  # warm up imports and caches
        take(0)
        for n in range(1, cycles + 1):
            await cycle(served, http, n)
            if n % every == 0 or n == cycles:
                take(n)
    return samples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=1000)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    configure_logging(level="warning")
    if args.json:
        print(json.dumps(asyncio.run(soak(args.cycles, args.every)), indent=2))
    else:
        print(
            "| cycle | seconds | RSS MiB | tasks | server tasks | client tasks | fds "
            "| endpoints | sessions |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|", flush=True)

        def row(s: dict[str, Any]) -> None:
            print(
                f"| {s['cycle']} | {s['seconds']} | {s['rss_mb']} | {s['tasks']} "
                f"| {s['server_tasks']} | {s['client_tasks']} | {s['fds']} "
                f"| {s['endpoints']} | {s['sessions']} |",
                flush=True,
            )
            # What the gateway's tasks are, on stderr: the table stays a table.
            print(json.dumps({"cycle": s["cycle"], **s["server_task_names"]}), file=sys.stderr)

        samples = asyncio.run(soak(args.cycles, args.every, row))
        last = samples[-1]
        print("\nThe gateway's tasks at the last sample:")
        for name, count in last["server_task_names"].items():
            print(f"- {count}x `{name}`")
        print("\nTask exceptions never retrieved:", "none" if not last["unretrieved"] else "")
        for name, count in last["unretrieved"].items():
            print(f"- {count}x {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
