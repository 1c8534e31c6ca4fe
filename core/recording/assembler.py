"""Packets of one track back into whole frames: reordering, loss detection, unwrapping.

The forwarding plane hands packets over as they arrive: possibly out of order, some never. A
:class:`FrameAssembler` holds a small reorder window, gives every packet a 64-bit sequence
number and timestamp, groups the packets of one timestamp into a frame, and marks a frame
*damaged* when a packet of it is known to be missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.recording.depacketize import Depacketizer


def unwrap(value: int, last: int | None, bits: int) -> int:
    """The extended form of a ``bits``-bit counter ``value`` nearest to ``last``."""
    if last is None:
        return value
    span = 1 << bits
    half = span >> 1
    candidate = (last & ~(span - 1)) | value
    if candidate - last > half:
        candidate -= span
    elif last - candidate > half:
        candidate += span
    return candidate


@dataclass(frozen=True)
class Frame:
    """One codec frame; ``timestamp`` is the extended RTP timestamp."""

    timestamp: int
    data: bytes
    keyframe: bool
    damaged: bool
    width: int = 0
    height: int = 0
    arrival: float = 0.0


class FrameAssembler:
    """Turns one track's packets into frames. Not thread-safe: one owner feeds it."""

    def __init__(
        self,
        depacketizer: Depacketizer,
        *,
        reorder_window: int = 64,
        reorder_delay: float = 0.1,
    ) -> None:
        self.depacketizer = depacketizer
        #: A missing packet is lost once this many newer packets, or ``reorder_delay``
        #: seconds' worth of arrivals, came after it.
        self.reorder_window = reorder_window
        self.reorder_delay = reorder_delay
        self._buffer: dict[int, tuple[int, bool, bytes, float]] = {}
        self._highest_seq: int | None = None
        self._last_ts: int | None = None
        self._expected: int | None = None
        # the frame being built
        self._ts: int | None = None
        self._payloads: list[bytes] = []
        self._damaged = False
        self._arrival = 0.0
        self._gap = False
        self.lost_packets = 0
        self.late_packets = 0

    def push(
        self, seq: int, timestamp: int, marker: bool, payload: bytes, arrival: float
    ) -> list[Frame]:
        """Add one packet; returns the frames it completed (usually none or one)."""
        ext_seq = unwrap(seq, self._highest_seq, 16)
        if self._highest_seq is None or ext_seq > self._highest_seq:
            self._highest_seq = ext_seq
        ext_ts = unwrap(timestamp, self._last_ts, 32)
        self._last_ts = ext_ts
        if self._expected is None:
            self._expected = ext_seq
        if ext_seq < self._expected or ext_seq in self._buffer:
            self.late_packets += 1
            return []
        self._buffer[ext_seq] = (ext_ts, marker, payload, arrival)
        out: list[Frame] = []
        self._drain(out)
        if self._buffer and (
            self._highest_seq - self._expected >= self.reorder_window
            or arrival - min(p[3] for p in self._buffer.values()) >= self.reorder_delay
        ):
            # The oldest missing packet is not coming back: count it lost and move on.
            first = min(self._buffer)
            self.lost_packets += first - self._expected
            self._expected = first
            self._gap = True
            self._drain(out)
        return out

    def flush(self) -> list[Frame]:
        """Every frame still held back (call at the end of a recording)."""
        out: list[Frame] = []
        while self._buffer:
            first = min(self._buffer)
            if first != self._expected:
                self.lost_packets += first - (self._expected or first)
                self._expected = first
                self._gap = True
            self._drain(out)
        self._finish(out)
        return out

    def _drain(self, out: list[Frame]) -> None:
        assert self._expected is not None
        while self._expected in self._buffer:
            ts, marker, payload, arrival = self._buffer.pop(self._expected)
            self._expected += 1
            self._packet(ts, marker, payload, arrival, out)

    def _packet(
        self, ts: int, marker: bool, payload: bytes, arrival: float, out: list[Frame]
    ) -> None:
        gap, self._gap = self._gap, False
        if ts != self._ts:
            if gap:
                self._damaged = True  # the gap may have held this frame's tail
            self._finish(out)
            self._ts = ts
            self._arrival = arrival
            self._damaged = gap and not self.depacketizer.is_frame_start(payload)
        elif gap:
            self._damaged = True
        self._payloads.append(payload)
        if marker:
            self._finish(out)

    def _finish(self, out: list[Frame]) -> None:
        if self._ts is None or not self._payloads:
            return
        payloads, self._payloads = self._payloads, []
        depacketizer = self.depacketizer
        damaged = self._damaged
        data = b""
        keyframe, width, height = False, 0, 0
        if not damaged:
            try:
                data = depacketizer.frame(payloads)
                keyframe, width, height = depacketizer.keyframe(payloads)
            except (ValueError, IndexError):
                damaged = True
        out.append(Frame(self._ts, data, keyframe, damaged, width, height, self._arrival))
        self._damaged = False
