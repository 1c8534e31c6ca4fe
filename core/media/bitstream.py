"""Just enough of the VP8 and H.264 payload formats to find keyframes and their size.

Only the first bytes of a packet are read; nothing is decoded.
"""

from __future__ import annotations

from collections.abc import Callable

#: (is_keyframe_start, width, height); width and height are 0 when not known.
KeyframeInfo = tuple[bool, int, int]
NOT_KEYFRAME: KeyframeInfo = (False, 0, 0)


def vp8_keyframe(payload: bytes) -> KeyframeInfo:
    """Whether an RTP VP8 payload (RFC 7741) starts a keyframe, and the frame size."""
    size = len(payload)
    if size < 1:
        return NOT_KEYFRAME
    b0 = payload[0]
    # S bit set and partition index 0: the packet starts a frame.
    if not b0 & 0x10 or b0 & 0x07:
        return NOT_KEYFRAME
    pos = 1
    if b0 & 0x80:
        if size < 2:
            return NOT_KEYFRAME
        b1 = payload[1]
        pos = 2
        if b1 & 0x80:
            if size <= pos:
                return NOT_KEYFRAME
            pos += 2 if payload[pos] & 0x80 else 1
        if b1 & 0x40:
            pos += 1
        if b1 & 0x30:
            pos += 1
    if size <= pos or payload[pos] & 0x01:
        return NOT_KEYFRAME
    if size >= pos + 10 and payload[pos + 3 : pos + 6] == b"\x9d\x01\x2a":
        width = (payload[pos + 6] | payload[pos + 7] << 8) & 0x3FFF
        height = (payload[pos + 8] | payload[pos + 9] << 8) & 0x3FFF
        return (True, width, height)
    return (True, 0, 0)


def h264_keyframe(payload: bytes) -> KeyframeInfo:
    """Whether an RTP H.264 payload (RFC 6184) starts a keyframe, and the frame size.

    A packet carrying a sequence parameter set, or the start of an IDR slice, starts one.
    """
    size = len(payload)
    if size < 1:
        return NOT_KEYFRAME
    nal_type = payload[0] & 0x1F
    if nal_type == 7:
        return (True, *_sps_size(payload))
    if nal_type == 5:
        return (True, 0, 0)
    if nal_type == 24:  # STAP-A
        pos = 1
        found = False
        width = height = 0
        while pos + 3 <= size:
            length = payload[pos] << 8 | payload[pos + 1]
            nal = payload[pos + 2 : pos + 2 + length]
            if nal:
                inner = nal[0] & 0x1F
                if inner == 7:
                    found = True
                    width, height = _sps_size(nal)
                elif inner == 5:
                    found = True
            pos += 2 + length
        return (found, width, height)
    if nal_type == 28 and size >= 2:  # FU-A
        if payload[1] & 0x80 and payload[1] & 0x1F in (5, 7):
            return (True, 0, 0)
    return NOT_KEYFRAME


def h264_has_sps(payload: bytes) -> bool:
    """Whether the packet carries a sequence parameter set."""
    if not payload:
        return False
    nal_type = payload[0] & 0x1F
    if nal_type == 7:
        return True
    if nal_type == 24:
        pos = 1
        while pos + 3 <= len(payload):
            length = payload[pos] << 8 | payload[pos + 1]
            if payload[pos + 2] & 0x1F == 7:
                return True
            pos += 2 + length
    return False


class _Bits:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def u(self, count: int) -> int:
        value = 0
        for _ in range(count):
            byte = self.data[self.pos >> 3]
            value = value << 1 | (byte >> (7 - (self.pos & 7))) & 1
            self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("bad exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        value = self.ue()
        return (value + 1) // 2 if value & 1 else -(value // 2)


_HIGH_PROFILES = frozenset((100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135))


def _unescape(nal: bytes) -> bytes:
    return nal.replace(b"\x00\x00\x03", b"\x00\x00")


def _sps_size(nal: bytes) -> tuple[int, int]:
    """Picture width and height from a sequence parameter set NAL unit (with its header)."""
    try:
        return _parse_sps(_Bits(_unescape(nal[1:])))
    except (IndexError, ValueError):
        return (0, 0)


def _skip_scaling_list(bits: _Bits, size: int) -> None:
    last = next_scale = 8
    for _ in range(size):
        if next_scale:
            next_scale = (last + bits.se() + 256) % 256
        last = next_scale or last


def _parse_sps(bits: _Bits) -> tuple[int, int]:
    profile_idc = bits.u(8)
    bits.u(16)  # constraint flags, level_idc
    bits.ue()  # seq_parameter_set_id
    chroma_format_idc = 1
    if profile_idc in _HIGH_PROFILES:
        chroma_format_idc = bits.ue()
        if chroma_format_idc == 3:
            bits.u(1)
        bits.ue()
        bits.ue()
        bits.u(1)
        if bits.u(1):
            for i in range(12 if chroma_format_idc == 3 else 8):
                if bits.u(1):
                    _skip_scaling_list(bits, 16 if i < 6 else 64)
    bits.ue()  # log2_max_frame_num_minus4
    poc_type = bits.ue()
    if poc_type == 0:
        bits.ue()
    elif poc_type == 1:
        bits.u(1)
        bits.se()
        bits.se()
        for _ in range(bits.ue()):
            bits.se()
    bits.ue()  # max_num_ref_frames
    bits.u(1)
    width_mbs = bits.ue() + 1
    height_map_units = bits.ue() + 1
    frame_mbs_only = bits.u(1)
    if not frame_mbs_only:
        bits.u(1)
    bits.u(1)
    width = width_mbs * 16
    height = (2 - frame_mbs_only) * height_map_units * 16
    if bits.u(1):
        left, right, top, bottom = bits.ue(), bits.ue(), bits.ue(), bits.ue()
        crop_x = 1 if chroma_format_idc in (0, 3) else 2
        crop_y = (2 - frame_mbs_only) * (2 if chroma_format_idc == 1 else 1)
        width -= (left + right) * crop_x
        height -= (top + bottom) * crop_y
    return (width, height)


def keyframe_parser(mime_type: str) -> Callable[[bytes], KeyframeInfo] | None:
    """The keyframe detector for a video codec, or None for codecs without one (audio)."""
    name = mime_type.lower()
    if name == "video/vp8":
        return vp8_keyframe
    if name == "video/h264":
        return h264_keyframe
    return None
