"""The remuxer: frames of every track, aligned on one clock, written with av.

Runs in the recorder's worker thread; nothing here touches the event loop. The writer

* holds frames back until every track has a sender report (at most ``sync_wait`` seconds of
  media), so that each track's RTP clock can be put on the sender's wall clock: that is what
  aligns audio and video. A track with no report by then is placed by arrival time, and so
  are the others, so that the file never mixes two clocks;
* opens the file on the first video keyframe (on the first audio frame when there is no
  video), so that the file starts decodable;
* after a damaged video frame drops frames until the next keyframe (and asks for one), so
  that loss leaves a short freeze instead of a smear;
* keeps the RTP timestamps, so that a publisher that pauses leaves a gap of the same length
  and audio and video stay aligned after it.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import structlog

from core.media.types import TrackInfo
from core.recording.assembler import Frame, unwrap

log = structlog.get_logger(__name__)

NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900 to 1970
MS = Fraction(1, 1000)


def ntp_to_unix(ntp_time: int) -> float:
    """A 64-bit NTP timestamp as seconds since 1970."""
    return (ntp_time >> 32) - NTP_EPOCH_OFFSET + (ntp_time & 0xFFFFFFFF) / (1 << 32)


@dataclass(frozen=True)
class ContainerFormat:
    """Where a recording is written: the av format name and the file extension."""

    name: str
    extension: str


WEBM = ContainerFormat("webm", ".webm")
MP4 = ContainerFormat("mp4", ".mp4")
MKV = ContainerFormat("matroska", ".mkv")

#: The codecs each container stores, by mime type.
_STORES: dict[str, frozenset[str]] = {
    "webm": frozenset({"video/vp8", "audio/opus"}),
    "mp4": frozenset({"video/h264", "audio/opus"}),
    "matroska": frozenset({"video/vp8", "video/h264", "audio/opus"}),
}


def choose_format(tracks: list[TrackInfo]) -> ContainerFormat:
    """WebM for VP8 (and audio only), MP4 for H.264."""
    mimes = {t.codec.mime_type.lower() for t in tracks}
    if "video/h264" in mimes:
        return MP4
    return WEBM


def storable(fmt: ContainerFormat, track: TrackInfo) -> bool:
    return track.codec.mime_type.lower() in _STORES[fmt.name]


@dataclass
class TrackClock:
    """Maps one track's extended RTP timestamps to seconds on a shared clock."""

    clock_rate: int
    sr_offset: float | None = None  # sender wall clock - rtp seconds, from the first SR
    arrival_offset: float | None = None  # server wall clock - rtp seconds, first frame
    last_ts: int | None = None

    def unwrap(self, rtp_time: int) -> int:
        self.last_ts = unwrap(rtp_time, self.last_ts, 32)
        return self.last_ts


@dataclass
class WriterStats:
    """What a finished recording reports."""

    first_frame_written_at: float | None = None  # server wall clock
    first_frame_sender_time: float | None = None  # sender wall clock (from SRs), if known
    duration_ms: int = 0
    frames: dict[str, int] = field(default_factory=dict)
    dropped_frames: int = 0
    keyframe_requests: int = 0
    synced_by_sender_reports: bool = False


class RecordingWriter:
    """Writes aligned frames of ``tracks`` to ``path``. One thread calls every method."""

    def __init__(
        self,
        path: Path,
        tracks: list[TrackInfo],
        fmt: ContainerFormat,
        *,
        sync_wait: float = 2.0,
        request_keyframe: Callable[[], None] = lambda: None,
    ) -> None:
        self.path = path
        self.fmt = fmt
        self.tracks = [t for t in tracks if storable(fmt, t)]
        self.sync_wait = sync_wait
        self.request_keyframe = request_keyframe
        self.stats = WriterStats()
        self._clocks = {t.mid: TrackClock(t.codec.clock_rate) for t in self.tracks}
        self._by_mid = {t.mid: t for t in self.tracks}
        self._video = next((t for t in self.tracks if t.kind == "video"), None)
        self._pending: list[tuple[TrackInfo, Frame]] = []
        self._synced = False
        self._use_sr = False
        self._container: Any = None
        self._streams: dict[str, Any] = {}
        self._t0: float | None = None  # shared-clock seconds at file time zero
        self._last_pts: dict[str, int] = {}
        self._steps: dict[str, int] = {}  # last pts step per track (a frame's length)
        self._last_end_ms = 0
        self._waiting_keyframe = True
        self._keyframe_requested = False

    # -- input -----------------------------------------------------------------------------

    def sender_report(self, mid: str, ntp_time: int, rtp_time: int) -> None:
        clock = self._clocks.get(mid)
        if clock is None or clock.sr_offset is not None:
            return
        ext = clock.unwrap(rtp_time)
        clock.sr_offset = ntp_to_unix(ntp_time) - ext / clock.clock_rate
        if not self._synced and all(c.sr_offset is not None for c in self._clocks.values()):
            self._sync(use_sr=True)

    def frame(self, mid: str, frame: Frame) -> None:
        track = self._by_mid.get(mid)
        if track is None:
            return
        clock = self._clocks[mid]
        clock.last_ts = frame.timestamp if clock.last_ts is None else clock.last_ts
        if clock.arrival_offset is None:
            clock.arrival_offset = frame.arrival - frame.timestamp / clock.clock_rate
        if not self._synced:
            self._pending.append((track, frame))
            first = self._pending[0][1].arrival
            if frame.arrival - first >= self.sync_wait:
                self._sync(use_sr=False)
            return
        self._write(track, frame)

    def close(self) -> WriterStats:
        """Write what is held back and finish the file; returns the figures."""
        if not self._synced:
            self._sync(use_sr=all(c.sr_offset is not None for c in self._clocks.values()))
        if self._container is not None:
            self._container.close()
            self._container = None
            self.stats.duration_ms = self._last_end_ms
        return self.stats

    def abort(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except Exception:
                log.exception("recording_close_failed", path=str(self.path))
            self._container = None

    # -- alignment -------------------------------------------------------------------------

    def _sync(self, *, use_sr: bool) -> None:
        self._synced = True
        self._use_sr = use_sr
        self.stats.synced_by_sender_reports = use_sr
        pending, self._pending = self._pending, []
        pending.sort(key=lambda item: self._time(item[0], item[1]))
        for track, frame in pending:
            self._write(track, frame)

    def _time(self, track: TrackInfo, frame: Frame) -> float:
        clock = self._clocks[track.mid]
        offset = clock.sr_offset if self._use_sr else clock.arrival_offset
        return frame.timestamp / clock.clock_rate + (offset or 0.0)

    # -- output ----------------------------------------------------------------------------

    def _write(self, track: TrackInfo, frame: Frame) -> None:
        is_video = track.kind == "video"
        if frame.damaged:
            self.stats.dropped_frames += 1
            if is_video:
                self._waiting_keyframe = True
                self._ask_keyframe()
            return
        if is_video and self._waiting_keyframe:
            if not frame.keyframe:
                self.stats.dropped_frames += 1
                self._ask_keyframe()
                return
            self._waiting_keyframe = False
            self._keyframe_requested = False
        at = self._time(track, frame)
        if self._container is None:
            if self._video is not None and not is_video:
                self.stats.dropped_frames += 1  # audio before the first picture
                return
            self._open(frame)
            self._t0 = at
            self.stats.first_frame_written_at = frame.arrival
            if self._use_sr:
                self.stats.first_frame_sender_time = at
        assert self._t0 is not None
        stream = self._streams[track.mid]
        # Work in the stream's own time base, where the muxer wants strictly rising times.
        time_base = Fraction(stream.time_base)
        rate = 1 / time_base  # ticks per second
        pts = round((at - self._t0) * rate)
        last = self._last_pts.get(track.mid)
        if pts < 0 or (last is not None and pts <= last):
            if last is None or pts < last:
                self.stats.dropped_frames += 1
                return
            pts = last + 1
        if last is not None and pts - last < rate / 2:  # not across a pause
            self._steps[track.mid] = pts - last
        self._last_pts[track.mid] = pts
        packet = av.Packet(frame.data)
        packet.stream = stream
        packet.time_base = time_base
        packet.pts = packet.dts = pts
        packet.is_keyframe = frame.keyframe if is_video else True
        self._container.mux(packet)
        self.stats.frames[track.kind] = self.stats.frames.get(track.kind, 0) + 1
        if is_video or self._video is None:
            # the duration the file reports: up to the end of its last picture
            step = self._steps.get(track.mid, 0)
            self._last_end_ms = max(self._last_end_ms, round((pts + step) * 1000 / rate))

    def _ask_keyframe(self) -> None:
        if not self._keyframe_requested:
            self._keyframe_requested = True
            self.stats.keyframe_requests += 1
            self.request_keyframe()

    def _open(self, first: Frame) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        container = av.open(str(self.path), "w", format=self.fmt.name)
        try:
            for track in self.tracks:
                self._streams[track.mid] = self._add_stream(container, track, first)
        except Exception:
            container.close()
            raise
        self._container = container

    def _add_stream(self, container: Any, track: TrackInfo, first: Frame) -> Any:
        mime = track.codec.mime_type.lower()
        if mime == "video/h264":
            # The stream's own SPS/PPS become the file's codec private data: read them from
            # the first keyframe with av's H.264 parser.
            with av.open(io.BytesIO(first.data), format="h264") as source:
                stream = container.add_stream_from_template(source.streams.video[0])
        elif mime == "video/vp8":
            stream = container.add_stream("libvpx", rate=30)
            stream.width = first.width or 640
            stream.height = first.height or 480
            stream.pix_fmt = "yuv420p"
        elif mime == "audio/opus":
            stream = container.add_stream("libopus", rate=48000)
            stream.layout = "stereo" if (track.codec.channels or 2) == 2 else "mono"
        else:  # pragma: no cover - filtered by storable()
            raise ValueError(f"cannot store {mime}")
        stream.time_base = (
            MS if self.fmt.name in ("webm", "matroska") else Fraction(1, track.codec.clock_rate)
        )
        return stream
