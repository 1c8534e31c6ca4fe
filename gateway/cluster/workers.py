"""``switchboard serve --workers N``: N gateway processes on one machine, one cluster.

One Python process uses one core; to use a machine's cores, the parent starts ``N`` children
that run ``serve`` with the same configuration and share its listeners (``SO_REUSEPORT``: the
kernel spreads connections over them). Each child is a cluster node of its own (node id
``<node_id>-<i>``, its own internal relay listener), so a stream published on one is relayed
to players on another like between machines. The parent forwards SIGINT / SIGTERM and exits
when every child has exited.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

import structlog

log = structlog.stdlib.get_logger("gateway.cluster")

REUSE_PORT_FLAG = "--reuse-port"


def child_arguments(argv: Sequence[str]) -> list[str]:
    """``argv`` without ``--workers N`` / ``--workers=N``, plus the shared-listener flag."""
    out: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
            continue
        if arg == "--workers":
            skip = True
            continue
        if arg.startswith("--workers="):
            continue
        out.append(arg)
    return [*out, REUSE_PORT_FLAG]


def run_workers(argv: Sequence[str], count: int, node_id: str, state_dir: str) -> int:
    """Start ``count`` children and wait for them; returns the worst exit status.

    Each child keeps its durable queues in ``<state_dir>/<node id>``: two processes sharing
    one queue database would both deliver its jobs (and one of them failed to start, finding
    the database locked by the other).
    """
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def forward(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        for index in range(count):
            name = f"{node_id}-{index}"
            env = dict(
                os.environ,
                SWITCHBOARD__GATEWAY__NODE_ID=name,
                SWITCHBOARD__STORAGE__STATE_DIR=str(Path(state_dir) / name),
            )
            children.append(
                subprocess.Popen([sys.executable, "-m", "gateway", *child_arguments(argv)], env=env)
            )
            log.info("worker_started", worker=index, pid=children[-1].pid)
        while any(c.poll() is None for c in children):
            for index, child in enumerate(children):
                if child.returncode is not None and not stopping:
                    log.error("worker_exited", worker=index, status=child.returncode)
                    forward(signal.SIGTERM, None)
            time.sleep(0.2)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return max((abs(c.returncode or 0) for c in children), default=0)
