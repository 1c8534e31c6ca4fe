"""What the fuzzers feed: each dialect's pure codec and the core's SDP parser, with the
exceptions that count as the dialect's own refusal (anything else is a crash)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from adapters.antmedia import codec as antmedia
from adapters.flashphoner import codec as flashphoner
from adapters.rtm import codec as rtm
from adapters.whip import codec as whip
from core.errors import BadSdp
from core.media.endpoint import parse_sdp
from tests.fuzz import strategies


@dataclass(frozen=True)
class Target:
    name: str
    strategy: Callable[[], st.SearchStrategy[Any]]
    feed: Callable[[Any], object]
    refusals: tuple[type[BaseException], ...]


def _whip(text: Any) -> object:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    summary = whip.OfferSummary.parse(text)
    summary.track_problem(sending=True)
    summary.track_problem(sending=False)
    return whip.SdpFrag.parse(text)


def _whip_strategy() -> st.SearchStrategy[Any]:
    frags = strategies.absurd_candidate().map(
        lambda c: f"a=ice-ufrag:x\r\na=ice-pwd:y\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na={c}\r\n"
    )
    return st.one_of(strategies.absurd_sdp(), frags, st.text(max_size=300))


def _sdp(text: Any) -> object:
    return parse_sdp(text, "offer")


TARGETS = {
    "antmedia": Target(
        "antmedia",
        lambda: strategies.frames("antmedia"),
        antmedia.decode_client,
        (antmedia.DecodeError,),
    ),
    "flashphoner": Target(
        "flashphoner",
        lambda: strategies.frames("flashphoner"),
        flashphoner.decode_client,
        (flashphoner.DecodeError,),
    ),
    "rtm": Target("rtm", lambda: strategies.frames("rtm"), rtm.decode, (rtm.CodecError,)),
    "whip": Target("whip", _whip_strategy, _whip, (whip.CodecError,)),
    "sdp": Target(
        "sdp",
        lambda: st.one_of(strategies.absurd_sdp(), st.text(max_size=300)),
        _sdp,
        (BadSdp,),
    ),
}
