"""Fuzz every dialect codec and the SDP parser with generated and mutated frames.

    python -m tests.fuzz.run --frames 100000 [--json] [--only antmedia,sdp] [--seed 1]

Each target gets ``--frames`` examples from its hypothesis strategy (seeded from the frames
the real SDKs sent). A frame is *accepted* (it decodes), *refused* (the codec raises the
dialect's own decode error, which the pump answers in the dialect's words) or a *crash*
(any other exception). The exit status is 1 when any target crashed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections import Counter
from typing import Any

from hypothesis import HealthCheck, Phase, given, seed, settings

from tests.fuzz.targets import TARGETS, Target

# Hypothesis keeps what one run generated (to avoid repeats): a run of 100,000 examples grows
# to gigabytes. Runs of this many examples, each with its own seed, keep memory flat.
CHUNK = 5_000


def fuzz(target: Target, frames: int, rng_seed: int = 0) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    crashes: list[str] = []
    started = time.perf_counter()
    chunk = 0
    while counts["frames"] < frames:
        _fuzz_chunk(
            target, min(CHUNK, frames - counts["frames"]), rng_seed + chunk, counts, crashes
        )
        chunk += 1
    return {
        "target": target.name,
        "frames": counts["frames"],
        "accepted": counts["accepted"],
        "refused": counts["refused"],
        "crashed": counts["crashed"],
        "seconds": round(time.perf_counter() - started, 1),
        "outcome": "ok" if counts["crashed"] == 0 else "crashed",
        "crashes": crashes,
    }


def _fuzz_chunk(
    target: Target, frames: int, rng_seed: int, counts: Counter[str], crashes: list[str]
) -> None:
    before = counts["frames"]

    @seed(rng_seed)
    @settings(
        max_examples=frames,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(target.strategy())
    def check(frame: Any) -> None:
        counts["frames"] += 1
        try:
            target.feed(frame)
        except target.refusals:
            counts["refused"] += 1
        except Exception:
            counts["crashed"] += 1
            if len(crashes) < 5:
                crashes.append(f"{traceback.format_exc(limit=3)}\nframe: {str(frame)[:300]!r}")
        else:
            counts["accepted"] += 1

    check()
    if counts["frames"] == before:  # a strategy that cannot generate: stop rather than spin
        raise RuntimeError(f"{target.name}: no example generated")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", default=",".join(TARGETS))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = []
    for name in args.only.split(","):
        result = fuzz(TARGETS[name], args.frames, args.seed)
        results.append(result)
        if not args.json:
            print(
                f"{name:12} frames={result['frames']:>7} accepted={result['accepted']:>7} "
                f"refused={result['refused']:>7} crashed={result['crashed']:>3} "
                f"{result['seconds']:>6}s {result['outcome']}",
                flush=True,
            )
            for crash in result["crashes"]:
                print(crash, file=sys.stderr)
    if args.json:
        print(json.dumps(results, indent=2))
    return 1 if any(r["crashed"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
