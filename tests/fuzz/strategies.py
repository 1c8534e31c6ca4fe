"""Hypothesis strategies for bad input, seeded from the frames the real SDKs sent.

Every strategy draws one WebSocket frame (``str`` for a text frame, ``bytes`` for a binary
one) or one SDP / candidate text. They start from a recorded frame and break it the ways a
buggy or hostile client would: malformed JSON, wrong types, missing and extra fields, huge
strings, deep nesting, binary frames, invalid UTF-8, and SDP with absurd m-lines or
candidates.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

ROOT = Path(__file__).resolve().parents[1]
FRAMES = ROOT / "adapters"

Frame = str | bytes
Path_ = tuple[str | int, ...]


# -- the recorded seeds ------------------------------------------------------------------------


def antmedia_seeds() -> list[Any]:
    frames = json.loads((FRAMES / "antmedia" / "frames" / "client.json").read_text())
    return list(frames.values())


def flashphoner_seeds() -> list[Any]:
    directory = FRAMES / "flashphoner" / "frames" / "client"
    return [json.loads(p.read_text()) for p in sorted(directory.glob("*.json"))]


def rtm_seeds() -> list[Any]:
    from tests.adapters.rtm.test_codec import SEED_FRAMES

    sdp = sdp_seeds()[0]
    seeds = copy.deepcopy(list(SEED_FRAMES))
    for frame in seeds:  # the recorded offers are elided; put a real one back
        data = frame.get("data", {})
        if isinstance(data.get("sdp"), dict):
            data["sdp"]["sdp"] = sdp
    return seeds


def sdp_seeds() -> list[str]:
    """Offers and answers the browsers sent, from the recorded frames."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "sdp" and isinstance(value, str) and value.startswith("v=0"):
                    found.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(antmedia_seeds())
    walk(flashphoner_seeds())
    return sorted(set(found))


def candidate_seeds() -> list[str]:
    found = [
        line[2:]
        for sdp in sdp_seeds()
        for line in sdp.splitlines()
        if line.startswith("a=candidate:")
    ]
    found += [
        f["candidate"]
        for f in antmedia_seeds()
        if isinstance(f, dict) and isinstance(f.get("candidate"), str)
    ]
    return sorted(set(found)) or [
        "candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0"
    ]


SEEDS = {
    "antmedia": antmedia_seeds,
    "flashphoner": flashphoner_seeds,
    "rtm": rtm_seeds,
}


# -- values ------------------------------------------------------------------------------------

HUGE = st.sampled_from([1_000, 10_000, 100_000]).map(lambda n: "A" * n)

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", "null", "undefined", "../../etc/passwd", "\x00", "\ud800x", "%s%n"]),
)
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=6,
)


def paths(node: Any, prefix: Path_ = ()) -> Iterator[Path_]:
    yield prefix
    if isinstance(node, dict):
        for key, value in node.items():
            yield from paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from paths(value, (*prefix, index))


def _parent(root: Any, path: Path_) -> Any:
    node = root
    for part in path[:-1]:
        node = node[part]
    return node


def deep(depth: int) -> Any:
    node: Any = "x"
    for _ in range(depth):
        node = [node] if depth % 2 else {"a": node}
    return node


@st.composite
def mutated_tree(draw: st.DrawFn, seeds: list[Any]) -> Any:
    """A recorded frame with one to four of its values replaced, removed, added to, made
    huge, nested deeply, or given an absurd SDP or candidate."""
    root: Any = {"_": copy.deepcopy(draw(st.sampled_from(seeds)))}
    for _ in range(draw(st.integers(1, 3))):
        choices = [p for p in paths(root) if p]
        path = draw(st.sampled_from(choices))
        parent = _parent(root, path)
        key = path[-1]
        op = draw(
            st.sampled_from(["replace", "delete", "extra", "huge", "nest", "sdp", "candidate"])
        )
        if op == "replace":
            parent[key] = draw(json_values)
        elif op == "delete" and path != ("_",):
            del parent[key]
        elif op == "extra" and isinstance(parent[key], dict):
            parent[key][draw(st.text(max_size=20))] = draw(json_values)
        elif op == "huge":
            parent[key] = draw(HUGE)
        elif op == "nest":
            parent[key] = deep(draw(st.sampled_from([20, 200])))
        elif op == "sdp":
            parent[key] = draw(absurd_sdp())
        elif op == "candidate":
            parent[key] = draw(absurd_candidate())
    return root["_"]


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, allow_nan=True)
    except (RecursionError, ValueError):
        return "[" * 10_000


@st.composite
def broken_text(draw: st.DrawFn, seeds: list[Any]) -> Frame:
    """The recorded frame's text cut, spliced or garbled, or its bytes made invalid UTF-8."""
    text = _dumps(draw(st.sampled_from(seeds)))
    op = draw(st.sampled_from(["truncate", "splice", "invalid_utf8", "binary", "garbage", "deep"]))
    if op == "deep":  # deeper than any recursive parser goes
        depth = draw(st.sampled_from([1000, 100_000]))
        opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
        return opener * depth + "1" + closer * depth
    if op == "truncate":
        return text[: draw(st.integers(0, max(0, len(text) - 1)))]
    if op == "splice":
        at = draw(st.integers(0, len(text)))
        return text[:at] + draw(st.text(min_size=1, max_size=20)) + text[at:]
    raw = text.encode()
    if op == "invalid_utf8":
        at = draw(st.integers(0, len(raw)))
        return raw[:at] + draw(st.sampled_from([b"\xff", b"\xc3\x28", b"\xed\xa0\x80"])) + raw[at:]
    if op == "binary":
        return raw
    return draw(st.one_of(st.text(max_size=200), st.binary(max_size=200)))


def frames(dialect: str) -> st.SearchStrategy[Frame]:
    """Bad frames for ``dialect``, seeded from its recorded frames."""
    seeds = SEEDS[dialect]()
    return st.one_of(
        mutated_tree(seeds).map(_dumps),
        broken_text(seeds),
        json_values.map(_dumps),
    )


# -- SDP and candidates ------------------------------------------------------------------------

SDP_LINES = st.sampled_from(
    [
        "m=video 9 UDP/TLS/RTP/SAVPF 96",
        "m=audio 0 RTP/AVP 0",
        "m=video 99999999 UDP/TLS/RTP/SAVPF " + " ".join(str(i) for i in range(128)),
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
        "m=",
        "m=video",
        "a=rtpmap:96",
        "a=rtpmap:300 VP8/90000",
        "a=rtpmap:96 VP8/-1",
        "a=fmtp:96 apt=",
        "a=ssrc:99999999999999999999 cname:x",
        "a=ssrc-group:FID",
        "a=mid:",
        "a=group:BUNDLE " + " ".join(str(i) for i in range(500)),
        "a=fingerprint:sha-256 ZZ",
        "a=setup:bogus",
        "a=ice-ufrag:",
        "a=extmap:999999 urn:x",
        "a=rtcp:abc",
        "c=IN IP4",
        "o=",
        "b=AS:-1",
    ]
)


@st.composite
def absurd_sdp(draw: st.DrawFn) -> str:
    """A recorded SDP with absurd m-lines, candidates or attributes, or lines cut out."""
    lines = draw(st.sampled_from(sdp_seeds())).splitlines()
    op = draw(st.sampled_from(["many_m_lines", "insert", "drop", "candidates", "garble"]))
    if op == "many_m_lines":
        start = next((i for i, line in enumerate(lines) if line.startswith("m=")), 0)
        section = lines[start:]
        lines = lines + section * draw(st.sampled_from([10, 100, 400]))
    elif op == "insert":
        for _ in range(draw(st.integers(1, 8))):
            at = draw(st.integers(0, len(lines)))
            lines.insert(at, draw(SDP_LINES | st.text(max_size=80)))
    elif op == "drop":
        for _ in range(draw(st.integers(1, 10))):
            if lines:
                del lines[draw(st.integers(0, len(lines) - 1))]
    elif op == "candidates":
        at = draw(st.integers(0, len(lines)))
        count = draw(st.sampled_from([1, 50, 2000]))
        lines[at:at] = ["a=" + draw(absurd_candidate())] * count
    else:
        at = draw(st.integers(0, max(0, len(lines) - 1)))
        if lines:
            lines[at] = draw(st.text(max_size=200))
    return "\r\n".join(lines) + "\r\n"


@st.composite
def absurd_candidate(draw: st.DrawFn) -> str:
    parts = draw(st.sampled_from(candidate_seeds())).split()
    op = draw(st.sampled_from(["replace", "truncate", "extra", "huge", "text"]))
    if op == "replace" and parts:
        parts[draw(st.integers(0, len(parts) - 1))] = draw(
            st.sampled_from(["-1", "99999999999", "", "tcp", "typ", "::", "999.1.1.1", "nan"])
            | st.text(max_size=12)
        )
    elif op == "truncate":
        parts = parts[: draw(st.integers(0, len(parts)))]
    elif op == "extra":
        parts += draw(st.lists(st.text(max_size=10), max_size=30))
    elif op == "huge":
        parts.append("x" * 100_000)
    else:
        return draw(st.text(max_size=100))
    return " ".join(parts)


def sample(strategy: st.SearchStrategy[Any], count: int, rng_seed: int = 0) -> list[Any]:
    """``count`` examples of ``strategy``, the same ones for the same seed."""
    from hypothesis import HealthCheck, Phase, given, seed, settings

    out: list[Any] = []

    @seed(rng_seed)
    @settings(
        max_examples=count,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        out.append(example)

    collect()
    return out
