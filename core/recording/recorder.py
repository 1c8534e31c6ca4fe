"""A recording of one stream: a packet sink on its publisher, a worker thread, a file.

:class:`Recorder` is called on the event loop for every packet; it copies the few fields it
needs into a queue and returns. Its worker thread reorders and depacketizes
(:class:`~core.recording.assembler.FrameAssembler`) and remuxes
(:class:`~core.recording.writer.RecordingWriter`). :meth:`Recorder.stop` detaches, lets the
thread finish the file and returns a :class:`RecordingResult`.
"""

from __future__ import annotations

import asyncio
import queue
import secrets
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import structlog

from core.media.types import PacketSink, TrackInfo
from core.recording.assembler import FrameAssembler
from core.recording.depacketize import depacketizer_for
from core.recording.writer import ContainerFormat, RecordingWriter, WriterStats, choose_format

if TYPE_CHECKING:
    from core.stream import Stream

log = structlog.get_logger(__name__)


class RtpFields(Protocol):
    """The fields of an RTP packet the recorder copies (``aiortc.rtp.RtpPacket`` has them)."""

    sequence_number: int
    timestamp: int
    marker: int
    payload: bytes


class RecordingSource(Protocol):
    """What a recorder needs of a publisher (``core.media.Publisher`` is one)."""

    @property
    def tracks(self) -> list[TrackInfo]: ...

    def add_packet_sink(self, sink: PacketSink) -> None: ...

    def remove_packet_sink(self, sink: PacketSink) -> None: ...

    def request_keyframe(self) -> None: ...


class RecordingError(Exception):
    """The recording could not be written."""


@dataclass(frozen=True)
class RecordingResult:
    """A finished recording. Times are seconds since 1970 (server clock unless noted)."""

    recording_id: str
    path: Path
    started_at: float
    stopped_at: float
    duration_ms: int
    size_bytes: int
    first_frame_written_at: float | None
    #: When the sender captured the first frame in the file, on the sender's clock (from
    #: RTCP sender reports); None when the stream sent none in time.
    first_frame_sender_time: float | None
    frames: dict[str, int] = field(default_factory=dict)
    lost_packets: int = 0
    dropped_frames: int = 0

    @property
    def empty(self) -> bool:
        return self.size_bytes == 0 or not self.frames


_RtpItem = tuple[str, int, int, bool, bytes, float]  # mid, seq, timestamp, marker, payload, at
_SrItem = tuple[str, int, int]  # mid, ntp time, rtp time


class Recorder:
    """Records the tracks of ``source`` to ``directory/<recording_id><ext>``."""

    def __init__(
        self,
        source: RecordingSource,
        directory: Path,
        *,
        recording_id: str | None = None,
        fmt: ContainerFormat | None = None,
        sync_wait: float = 2.0,
        reorder_window: int = 64,
        reorder_delay: float = 0.1,
    ) -> None:
        self.source = source
        self.id = recording_id or secrets.token_hex(8)
        self.tracks = [t for t in source.tracks if depacketizer_for(t.codec.mime_type)]
        if not self.tracks:
            raise RecordingError("the stream has no track that can be recorded")
        self.format = fmt or choose_format(self.tracks)
        self.path = Path(directory) / f"{self.id}{self.format.extension}"
        self.sync_wait = sync_wait
        self.reorder_window = reorder_window
        self.reorder_delay = reorder_delay
        self.started_at = 0.0
        self._queue: queue.SimpleQueue[_RtpItem | _SrItem | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._done: asyncio.Future[RecordingResult] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._result: RecordingResult | None = None
        self.log = log.bind(recording_id=self.id)

    @classmethod
    def for_stream(cls, stream: Stream, directory: Path, **kwargs: object) -> Recorder:
        """A recorder of a core stream's publisher."""
        return cls(stream.endpoint, directory, **kwargs)  # type: ignore[arg-type]

    @property
    def running(self) -> bool:
        return self._thread is not None and self._result is None

    def start(self) -> None:
        """Attach to the publisher and start the worker thread; asks for a keyframe."""
        if self._thread is not None:
            return
        self._loop = asyncio.get_running_loop()
        self._done = self._loop.create_future()
        self.started_at = time.time()
        self._thread = threading.Thread(target=self._run, name=f"recorder-{self.id}", daemon=True)
        self._thread.start()
        self.source.add_packet_sink(self)
        self.source.request_keyframe()
        self.log.info("recording_started", path=str(self.path), format=self.format.name)

    async def stop(self) -> RecordingResult:
        """Detach, finish the file and return what was written (idempotent)."""
        if self._result is not None:
            return self._result
        if self._thread is None or self._done is None:
            raise RecordingError("the recording was never started")
        try:
            self.source.remove_packet_sink(self)
        except (KeyError, ValueError):
            pass
        self._queue.put(None)
        result = await asyncio.shield(self._done)
        self._result = result
        return result

    # -- PacketSink, on the event loop: copy and queue ---------------------------------------

    def on_rtp(self, track: TrackInfo, packet: RtpFields) -> None:
        self._queue.put(
            (
                track.mid,
                packet.sequence_number,
                packet.timestamp,
                bool(packet.marker),
                packet.payload,
                time.time(),
            )
        )

    def on_rtcp_sr(self, track: TrackInfo, ntp_time: int, rtp_time: int) -> None:
        self._queue.put((track.mid, ntp_time, rtp_time))

    # -- the worker thread -------------------------------------------------------------------

    def _request_keyframe(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self.source.request_keyframe)

    def _run(self) -> None:
        writer = RecordingWriter(
            self.path,
            self.tracks,
            self.format,
            sync_wait=self.sync_wait,
            request_keyframe=self._request_keyframe,
        )
        assemblers: dict[str, FrameAssembler] = {}
        for track in self.tracks:
            depacketizer = depacketizer_for(track.codec.mime_type)
            assert depacketizer is not None
            assemblers[track.mid] = FrameAssembler(
                depacketizer,
                reorder_window=self.reorder_window,
                reorder_delay=self.reorder_delay,
            )
        error: BaseException | None = None
        stats = WriterStats()
        try:
            while True:
                item = self._queue.get()
                if item is None:
                    break
                if len(item) == 6:
                    mid, seq, ts, marker, payload, arrival = item
                    assembler = assemblers.get(mid)
                    if assembler is not None:
                        for frame in assembler.push(seq, ts, marker, payload, arrival):
                            writer.frame(mid, frame)
                else:
                    mid, ntp_time, rtp_time = item
                    writer.sender_report(mid, ntp_time, rtp_time)
            for mid, assembler in assemblers.items():
                for frame in assembler.flush():
                    writer.frame(mid, frame)
            stats = writer.close()
        except BaseException as exc:
            error = exc
            writer.abort()
        lost = sum(a.lost_packets for a in assemblers.values())
        result = RecordingResult(
            recording_id=self.id,
            path=self.path,
            started_at=self.started_at,
            stopped_at=time.time(),
            duration_ms=stats.duration_ms,
            size_bytes=self.path.stat().st_size if self.path.exists() else 0,
            first_frame_written_at=stats.first_frame_written_at,
            first_frame_sender_time=stats.first_frame_sender_time,
            frames=dict(stats.frames),
            lost_packets=lost,
            dropped_frames=stats.dropped_frames,
        )
        self._settle(result, error)

    def _settle(self, result: RecordingResult, error: BaseException | None) -> None:
        loop, done = self._loop, self._done
        assert loop is not None and done is not None

        def settle() -> None:
            if done.done():
                return
            if error is not None:
                self.log.error("recording_failed", exc_info=error)
                done.set_exception(RecordingError(f"recording failed: {error}"))
            else:
                self.log.info(
                    "recording_finished",
                    duration_ms=result.duration_ms,
                    size_bytes=result.size_bytes,
                    frames=result.frames,
                    lost_packets=result.lost_packets,
                    dropped_frames=result.dropped_frames,
                )
                done.set_result(result)

        if not loop.is_closed():
            loop.call_soon_threadsafe(settle)
