"""RTP payload formats back to codec frames: VP8 (RFC 7741), H.264 (RFC 6184), Opus (RFC 7587)
and G.711.

A depacketizer is pure: it turns the payloads of one frame (every packet with one RTP
timestamp, in sequence order) into the bytes a container stores, and tells whether a payload
can begin a frame. Nothing is decoded.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.media.bitstream import h264_keyframe, vp8_keyframe

ANNEX_B_START = b"\x00\x00\x00\x01"


class Depacketizer:
    """Base: one payload is one frame (audio codecs)."""

    #: Whether frames depend on each other (a lost frame spoils the ones after it).
    predictive = False

    def is_frame_start(self, payload: bytes) -> bool:
        """Whether ``payload`` can be the first packet of a frame."""
        return True

    def frame(self, payloads: Sequence[bytes]) -> bytes:
        """The frame made of ``payloads`` (every packet of one timestamp, in order)."""
        return b"".join(payloads)

    def keyframe(self, payloads: Sequence[bytes]) -> tuple[bool, int, int]:
        """Whether the frame is a keyframe, and its width and height when the frame says."""
        return (True, 0, 0)


class OpusDepacketizer(Depacketizer):
    """An Opus RTP payload is exactly one Opus packet."""


class G711Depacketizer(Depacketizer):
    """PCMU / PCMA: the payload is the samples."""


def vp8_descriptor_size(payload: bytes) -> int:
    """Length of the VP8 payload descriptor at the start of ``payload`` (RFC 7741 4.2)."""
    if not payload:
        raise ValueError("empty VP8 payload")
    pos = 1
    if payload[0] & 0x80:
        ext = payload[1]
        pos = 2
        if ext & 0x80:
            pos += 2 if payload[pos] & 0x80 else 1
        if ext & 0x40:
            pos += 1
        if ext & 0x30:
            pos += 1
    if pos > len(payload):
        raise ValueError("truncated VP8 payload descriptor")
    return pos


class Vp8Depacketizer(Depacketizer):
    predictive = True

    def is_frame_start(self, payload: bytes) -> bool:
        return bool(payload) and bool(payload[0] & 0x10) and not payload[0] & 0x07

    def frame(self, payloads: Sequence[bytes]) -> bytes:
        return b"".join(p[vp8_descriptor_size(p) :] for p in payloads)

    def keyframe(self, payloads: Sequence[bytes]) -> tuple[bool, int, int]:
        return vp8_keyframe(payloads[0]) if payloads else (False, 0, 0)


class H264Depacketizer(Depacketizer):
    """Single NAL unit, STAP-A and FU-A packets (packetization-mode 0 and 1) to Annex B."""

    predictive = True

    def is_frame_start(self, payload: bytes) -> bool:
        if not payload:
            return False
        if payload[0] & 0x1F == 28:  # FU-A: only its first fragment starts a NAL unit
            return len(payload) > 1 and bool(payload[1] & 0x80)
        return True

    def frame(self, payloads: Sequence[bytes]) -> bytes:
        out: list[bytes] = []
        for payload in payloads:
            if not payload:
                continue
            nal_type = payload[0] & 0x1F
            if nal_type == 24:  # STAP-A
                pos = 1
                while pos + 2 <= len(payload):
                    length = payload[pos] << 8 | payload[pos + 1]
                    pos += 2
                    if length and pos + length <= len(payload):
                        out += (ANNEX_B_START, payload[pos : pos + length])
                    pos += length
            elif nal_type == 28:  # FU-A
                if len(payload) < 2:
                    continue
                if payload[1] & 0x80:
                    header = (payload[0] & 0xE0) | (payload[1] & 0x1F)
                    out += (ANNEX_B_START, bytes((header,)))
                out.append(payload[2:])
            elif 1 <= nal_type <= 23:
                out += (ANNEX_B_START, payload)
        return b"".join(out)

    def keyframe(self, payloads: Sequence[bytes]) -> tuple[bool, int, int]:
        found = False
        width = height = 0
        for payload in payloads:
            is_key, w, h = h264_keyframe(payload)
            found = found or is_key
            if w and h:
                width, height = w, h
        return (found, width, height)


def depacketizer_for(mime_type: str) -> Depacketizer | None:
    """The depacketizer of a codec, or None when recording does not support it."""
    name = mime_type.lower()
    if name == "video/vp8":
        return Vp8Depacketizer()
    if name == "video/h264":
        return H264Depacketizer()
    if name == "audio/opus":
        return OpusDepacketizer()
    if name in ("audio/pcmu", "audio/pcma"):
        return G711Depacketizer()
    return None
