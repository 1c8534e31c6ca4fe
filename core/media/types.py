"""Plain value types of the media plane's public API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from aiortc.rtp import RtpPacket


@dataclass(frozen=True)
class CodecInfo:
    """The negotiated codec of a track."""

    mime_type: str
    clock_rate: int
    channels: int | None = None
    parameters: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The codec name without the kind, e.g. ``VP8``."""
        return self.mime_type.split("/", 1)[-1]


@dataclass(frozen=True)
class TrackInfo:
    """One negotiated media track of a publisher."""

    kind: str
    mid: str
    codec: CodecInfo


@dataclass(frozen=True)
class LocalCandidate:
    """A local ICE candidate, for dialects that trickle candidates."""

    candidate: str
    sdp_mid: str | None
    sdp_mline_index: int | None


@dataclass(frozen=True)
class TrackStats:
    """Counters of one track, as received from a publisher or as sent to a subscriber."""

    codec: str
    packets: int = 0
    bytes: int = 0
    bitrate_bps: int = 0
    fps: float = 0.0
    width: int | None = None
    height: int | None = None
    lost: int = 0
    nack_count: int = 0
    pli_count: int = 0
    retransmitted: int = 0  # packets sent again (as RTX when negotiated) to answer NACKs


class PacketSink(Protocol):
    """Receives every RTP packet of a publisher (recording, relays).

    Called synchronously on the forwarding path: an implementation must be cheap and must not
    keep a reference to the packet beyond the call unless it copies what it needs.
    """

    def on_rtp(self, track: TrackInfo, packet: RtpPacket) -> None: ...

    def on_rtcp_sr(self, track: TrackInfo, ntp_time: int, rtp_time: int) -> None: ...
