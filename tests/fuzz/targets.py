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


def _text(frame: Any) -> str:
    return frame.decode("utf-8", "replace") if isinstance(frame, bytes) else frame


def _whip_offer(frame: Any) -> object:
    summary = whip.OfferSummary.parse(_text(frame))
    summary.track_problem(sending=True)
    summary.track_problem(sending=False)
    return summary


def _whip_sdpfrag(frame: Any) -> object:
    return whip.SdpFrag.parse(_text(frame))


def _sdpfrag_strategy() -> st.SearchStrategy[Any]:
    """ICE restart and trickle bodies (RFC 8840) with absurd candidates and random text."""
    frags = strategies.absurd_candidate().map(
        lambda c: f"a=ice-ufrag:x\r\na=ice-pwd:y\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na={c}\r\n"
    )
    return st.one_of(frags, st.text(max_size=300))


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
    # The WHIP/WHEP offer check and the PATCH body (sdpfrag) parser, each with its own frames.
    "whip-offer": Target(
        "whip-offer",
        lambda: st.one_of(strategies.absurd_sdp(), st.text(max_size=300)),
        _whip_offer,
        (whip.CodecError,),
    ),
    "whip-sdpfrag": Target("whip-sdpfrag", _sdpfrag_strategy, _whip_sdpfrag, (whip.CodecError,)),
    "sdp": Target(
        "sdp",
        lambda: st.one_of(strategies.absurd_sdp(), st.text(max_size=300)),
        _sdp,
        (BadSdp,),
    ),
}
