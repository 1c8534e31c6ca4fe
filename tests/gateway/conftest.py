from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


ECHO_PLUGIN = "tests.gateway.echo_dialect:plugin"


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
    """Run ``python -m gateway`` to completion."""

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway", *args],
            cwd=ROOT,
            env=clean_env(**(env or {})),
            capture_output=True,
            text=True,
            timeout=60,
        )

    return run
