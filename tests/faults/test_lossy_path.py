"""Loss and reordering between the gateway and a player: video keeps decoding.

A network namespace holds the player; a veth pair joins it to the host, 10.213.0.1/30 on
the host end, 10.213.0.2/30 in the namespace, and nothing else is routed. The path toward
the player drops 2 % of the packets and reorders 5 %: with netem where the kernel has it
(``netem loss 2% reorder 5% delay 5ms``), otherwise with the kernel's packet filter (a random
2 % dropped on the namespace's input, a random 5 % sent through an HTB class limited to
400 kbit/s, where they wait behind their own serialisation while the rest overtake them).
The gateway listens on 127.0.0.1, where the publisher sends, and on the host end of the pair;
the player runs in the namespace (``ip netns exec``) and decodes for 10 s.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp
import pytest

from tests.adapters.whip.clients import accept, loopback_pc, post_offer, publisher_offer
from tests.faults.harness import base_config, free_port, start_gateway
from tests.gateway.conftest import ROOT, clean_env

HOST, PLAYER = "10.213.0.1", "10.213.0.2"
SECONDS = 10.0
MIN_FPS = 10.0  # the publisher sends 15
MAX_DECODE_ERRORS = 15


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=20, check=False)


def must(*args: str) -> str:
    done = run(*args)
    assert done.returncode == 0, f"{' '.join(args)}: {done.stderr.strip()}"
    return done.stdout


def iptables() -> str | None:
    for name in ("iptables-legacy", "iptables"):
        if shutil.which(name) and run(name, "-t", "mangle", "-S").returncode == 0:
            return name
    return None


@contextmanager
def lossy_namespace() -> Iterator[tuple[str, str, Callable[[], dict[str, int]]]]:
    """The namespace and how the path toward it is degraded; skips when it cannot be made."""
    if os.geteuid() != 0:
        pytest.skip("creating a network namespace needs root")
    if shutil.which("ip") is None or shutil.which("tc") is None:
        pytest.skip("ip and tc (iproute2) are not installed: run tests/setup-deps.sh")
    suffix = str(os.getpid() % 100000)
    ns, host_end, ns_end = f"sbloss{suffix}", f"sbh{suffix}", f"sbn{suffix}"
    added = run("ip", "netns", "add", ns)
    if added.returncode != 0:
        pytest.skip(f"ip netns add refused: {added.stderr.strip()}")
    mangle_rule: list[str] | None = None
    tables = None
    try:
        must("ip", "link", "add", host_end, "type", "veth", "peer", "name", ns_end)
        must("ip", "link", "set", ns_end, "netns", ns)
        must("ip", "addr", "add", f"{HOST}/30", "dev", host_end)
        must("ip", "link", "set", host_end, "up")
        must("ip", "netns", "exec", ns, "ip", "addr", "add", f"{PLAYER}/30", "dev", ns_end)
        must("ip", "netns", "exec", ns, "ip", "link", "set", ns_end, "up")
        must("ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up")
        netem = "loss 2% reorder 5% delay 5ms"
        if run("tc", "qdisc", "add", "dev", host_end, "root", "netem", *netem.split()).returncode:
            tables = iptables()
            if tables is None:
                pytest.skip("the kernel has no netem and iptables is not installed")
            must("tc", "qdisc", "add", "dev", host_end, "root", "handle", "1:", "htb",
                 "default", "10", "r2q", "1000")  # fmt: skip
            must("tc", "class", "add", "dev", host_end, "parent", "1:", "classid", "1:10",
                 "htb", "rate", "1gbit")  # fmt: skip
            must("tc", "class", "add", "dev", host_end, "parent", "1:", "classid", "1:20",
                 "htb", "rate", "400kbit", "burst", "1600b", "cburst", "1600b")  # fmt: skip
            mangle_rule = ["POSTROUTING", "-o", host_end, "-m", "statistic", "--mode",
                           "random", "--probability", "0.05", "-j", "CLASSIFY",
                           "--set-class", "1:20"]  # fmt: skip
            must(tables, "-t", "mangle", "-A", *mangle_rule)
            must("ip", "netns", "exec", ns, tables, "-A", "INPUT", "-i", ns_end, "-m",
                 "statistic", "--mode", "random", "--probability", "0.02",
                 "-j", "DROP")  # fmt: skip
            how = f"{tables}: 2% dropped, 5% through a 400 kbit/s HTB class"
        else:
            how = f"netem {netem}"

        def counters() -> dict[str, int]:
            """Packets the filter dropped and delayed (empty with netem)."""
            if tables is None:
                return {}
            dropped = must("ip", "netns", "exec", ns, tables, "-L", "INPUT", "-v", "-x", "-n")
            delayed = must(tables, "-t", "mangle", "-L", "POSTROUTING", "-v", "-x", "-n")
            found: dict[str, int] = {}
            for key, text, target in (("dropped", dropped, "DROP"), ("delayed", delayed, host_end)):
                for line in text.splitlines():
                    if target in line and "statistic" in line:
                        found[key] = int(line.split()[0])
            return found

        yield ns, how, counters
    finally:
        if mangle_rule is not None and tables is not None:
            run(tables, "-t", "mangle", "-D", *mangle_rule)
        run("ip", "link", "del", host_end)
        run("ip", "netns", "del", ns)


def nacks(text: str) -> float:
    """Sequence numbers the player NACKed to the gateway (``side="subscriber"``)."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("switchboard_nack_packets_total{")
        and 'side="subscriber"' in line
        and 'kind="video"' in line
    )


async def test_video_keeps_decoding_through_loss_and_reordering(tmp_path: Path) -> None:
    with lossy_namespace() as (ns, how, counters):
        port = free_port()
        config = base_config(port, tmp_path / "gateway").replace(
            'host_addresses = ["127.0.0.1"]', f'host_addresses = ["127.0.0.1", "{HOST}"]'
        )
        config = f'[[listeners]]\nhost = "{HOST}"\nport = {port}\n' + config
        gateway = await start_gateway(tmp_path, port=port, config=config)
        publisher = loopback_pc()
        player = None
        try:
            async with aiohttp.ClientSession() as http:
                created = await post_offer(
                    http, f"{gateway.url}/whip/cam1", await publisher_offer(publisher)
                )
                await accept(publisher, created.answer)
                player = await asyncio.create_subprocess_exec(
                    *("ip", "netns", "exec", ns, sys.executable, "-m"),
                    *("tests.faults.lossy_player", f"http://{HOST}:{port}", "cam1", PLAYER),
                    str(SECONDS),
                    cwd=ROOT,
                    env=clean_env(),
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                )
                out, err = await asyncio.wait_for(player.communicate(), SECONDS + 60)
                assert player.returncode == 0, err.decode()[-3000:]
                figures = json.loads(out.decode().strip().splitlines()[-1])
                async with http.get(f"{gateway.url}/metrics") as resp:
                    figures["nacks"] = nacks(await resp.text())
                figures.update(counters())
            print(f"lossy path ({how}), {SECONDS:.0f} s decoding: {figures}")
            assert figures["fps"] >= MIN_FPS, figures
            assert figures["decode_errors"] <= MAX_DECODE_ERRORS, figures
            assert figures["nacks"] > 0, figures
        finally:
            await publisher.close()
            if player is not None and player.returncode is None:
                player.kill()
                await player.wait()
            assert await gateway.stop() == 0
