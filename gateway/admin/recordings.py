"""Recordings started and stopped from the admin API.

A recording is a :class:`core.recording.Recorder` on the stream's publisher, written to a
work directory under the state directory; once stopped, the file is handed to the gateway's
durable ``deliveries`` queue, which moves it to ``[admin] recordings_dir``. A recording stops
by itself when its stream ends.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from core import events
from core.delivery import DeliveryOutcome, DeliveryQueue, LocalDirectory
from core.hub import Hub
from core.names import StreamKey
from core.recording import Recorder, RecordingError, RecordingResult
from core.stream import Stream
from core.tasks import TaskOwner
from gateway.metrics import Metrics

log = structlog.stdlib.get_logger("gateway.admin")

#: Finished recordings remembered for the API (the oldest are forgotten first).
KEEP_FINISHED = 200


class AlreadyRecording(Exception):
    """The stream has a recording started from the API already."""


@dataclass
class AdminRecording:
    """One recording and what became of it."""

    recorder: Recorder
    key: StreamKey
    started_at: float
    state: str = "recording"  # recording, stopping, finished, empty, failed
    stopped_at: float | None = None
    result: RecordingResult | None = None
    error: str | None = None
    delivery_id: str | None = None
    delivery: str | None = None  # pending, delivered, failed_will_retry, abandoned
    delivered_path: str | None = None
    stop_reason: str | None = None

    @property
    def id(self) -> str:
        return self.recorder.id

    def as_json(self) -> dict[str, Any]:
        result = self.result
        return {
            "id": self.id,
            "stream": self.key.name,
            "namespace": self.key.namespace,
            "state": self.state,
            "format": self.recorder.format.name,
            "started_at": self.started_at,
            "stopped_at": self.stopped_at,
            "stop_reason": self.stop_reason,
            "duration_ms": result.duration_ms if result else None,
            "size_bytes": result.size_bytes if result else None,
            "frames": dict(result.frames) if result else {},
            "error": self.error,
            "delivery_id": self.delivery_id,
            "delivery": self.delivery,
            "path": self.delivered_path,
        }


class AdminRecordings:
    """Every recording started from the API in this process."""

    def __init__(
        self,
        hub: Hub,
        deliveries: DeliveryQueue,
        *,
        work_dir: Path,
        recordings_dir: Path,
        metrics: Metrics | None = None,
    ) -> None:
        self.hub = hub
        self.deliveries = deliveries
        self.work_dir = work_dir
        self.recordings_dir = recordings_dir
        self.metrics = metrics
        self.tasks = TaskOwner("admin-recordings")
        self._stopping: set[asyncio.Task[Any]] = set()
        self.by_id: OrderedDict[str, AdminRecording] = OrderedDict()
        self.active: dict[StreamKey, AdminRecording] = {}
        self._unsubscribe = hub.bus.subscribe(self._on_event)
        self._unobserve = deliveries.observe(self._delivered)

    def list(self) -> list[AdminRecording]:
        return list(self.by_id.values())

    def of_stream(self, key: StreamKey) -> AdminRecording | None:
        return self.active.get(key)

    async def start(self, stream: Stream) -> AdminRecording:
        """Start recording ``stream``; raises :class:`AlreadyRecording` or
        :class:`~core.recording.RecordingError` (no recordable track)."""
        if stream.key in self.active:
            raise AlreadyRecording(f"stream {stream.name!r} is being recorded already")
        await asyncio.to_thread(self.work_dir.mkdir, parents=True, exist_ok=True)
        recorder = Recorder.for_stream(stream, self.work_dir)
        recording = AdminRecording(recorder=recorder, key=stream.key, started_at=time.time())
        recorder.start()
        self.active[stream.key] = recording
        self.by_id[recording.id] = recording
        self._forget_old()
        if self.metrics is not None:
            self.metrics.recordings_active.set(len(self.active))
        log.info("admin_recording_started", stream=stream.name, recording_id=recording.id)
        return recording

    async def stop(self, key: StreamKey, reason: str = "stopped") -> AdminRecording | None:
        """Stop the stream's recording and queue its file for delivery (None: none runs)."""
        recording = self.active.pop(key, None)
        if recording is None:
            return None
        recording.state = "stopping"
        recording.stop_reason = reason
        if self.metrics is not None:
            self.metrics.recordings_active.set(len(self.active))
        try:
            result = await recording.recorder.stop()
        except RecordingError as exc:
            recording.state, recording.error = "failed", str(exc)
        else:
            recording.result = result
            if result.empty:
                recording.state = "empty"
                await asyncio.to_thread(result.path.unlink, True)
            else:
                recording.state = "finished"
                recording.delivery = "pending"
                recording.delivery_id = await self.deliveries.deliver(
                    result.path,
                    LocalDirectory(str(self.recordings_dir)),
                    meta={"admin_recording": recording.id},
                )
        recording.stopped_at = time.time()
        if self.metrics is not None:
            self.metrics.recording_finished(recording.state)
        log.info(
            "admin_recording_stopped",
            stream=key.name,
            recording_id=recording.id,
            state=recording.state,
            reason=reason,
        )
        return recording

    def _on_event(self, event: events.Event) -> None:
        if isinstance(event, events.StreamEnded) and event.key in self.active:
            task = self.tasks.spawn(self.stop(event.key, "stream_ended"), name="recording-stop")
            self._stopping.add(task)
            task.add_done_callback(self._stopping.discard)

    def _delivered(self, outcome: DeliveryOutcome) -> None:
        recording = self.by_id.get(str(outcome.meta.get("admin_recording", "")))
        if recording is None:
            return
        recording.delivery_id = outcome.delivery_id
        if outcome.ok:
            recording.delivery = "delivered"
            recording.delivered_path = str(Path(outcome.destination) / outcome.path.name)
        else:
            recording.delivery = "failed_will_retry" if outcome.will_retry else "abandoned"
            recording.error = outcome.error

    def _forget_old(self) -> None:
        while len(self.by_id) > KEEP_FINISHED:
            oldest = next(iter(self.by_id.values()))
            if oldest.state in ("recording", "stopping"):
                break
            self.by_id.popitem(last=False)

    async def close(self) -> None:
        """Stop every recording (their files are still queued for delivery)."""
        self._unsubscribe()
        await asyncio.gather(*self._stopping, return_exceptions=True)
        await asyncio.gather(*(self.stop(k, "shutdown") for k in tuple(self.active)))
        await self.tasks.cancel_all()
        self._unobserve()
