from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.plugins import entry_point_names

ROOT = Path(__file__).resolve().parents[2]


ECHO_PLUGIN = "tests.gateway.echo_dialect:plugin"
#: The dialects installed in this environment. The gateway's own tests disable them so that
#: they run against the test dialect alone.
INSTALLED = sorted(entry_point_names())
ISOLATED = [arg for name in INSTALLED for arg in ("--disable", name)]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for a gateway subprocess: no SWITCHBOARD__ overrides from outside,
    and the checkout importable so ``--plugin tests.gateway.echo_dialect:plugin`` works."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("SWITCHBOARD__")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


@pytest.fixture
def free_port() -> Iterator[Callable[[], int]]:
    """Ports nobody listens on (bound to 0 and released)."""
    taken: set[int] = set()

    def pick() -> int:
        while True:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = int(s.getsockname()[1])
            if port not in taken:
                taken.add(port)
                return port

    yield pick


@pytest.fixture
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``python -m gateway`` to completion (with the installed dialects disabled unless
    ``isolated=False``)."""

    def run(
        *args: str, env: dict[str, str] | None = None, isolated: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway", *args, *(ISOLATED if isolated else ())],
            cwd=ROOT,
            env=clean_env(**(env or {})),
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run
