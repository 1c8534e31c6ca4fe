"""Ant Media recording: MP4/WebM muxing of live streams, the REST toggle and ``vodReady``.

With ``mp4_muxing_enabled`` or ``webm_muxing_enabled``, every stream published through this
dialect is recorded from when it goes live until it ends, as Ant Media does. The stream is
remuxed without transcoding, so the container follows the codecs (VP8 → WebM, H.264 → MP4):
a stream is recorded when the setting of its container is on. ``PUT
.../broadcasts/{id}/recording/true`` records a live stream whatever the settings.

The file is named ``{streamId}.webm`` or ``{streamId}.mp4`` (``{streamId}_1.mp4``,
``{streamId}_2.mp4``... when the name is taken). The recorder writes it to
``recording_work_dir/{app}``; the gateway's ``deliveries`` service, when there is one, then
moves it to ``recordings_dir/{app}``. ``vodReady`` is posted once the file is in its final
place.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from core import events
from core.names import StreamKey
from core.recording import MP4, WEBM, Recorder, RecordingError, choose_format
from core.stream import StreamState
from core.tasks import TaskOwner

if TYPE_CHECKING:
    from adapters.antmedia.settings import AntMediaSettings
    from adapters.antmedia.webhooks import AntMediaWebhooks
    from core.delivery import DeliveryOutcome, DeliveryQueue
    from core.hub import Hub

log = structlog.get_logger(__name__).bind(dialect="antmedia")

#: The ``meta`` key of this dialect's deliveries.
META_KEY = "antmedia_vod"


@dataclass
class Recording:
    """One recording in progress."""

    key: StreamKey
    app: str
    recorder: Recorder
    vod_id: str


class Recordings:
    """Starts, stops and delivers the recordings of one dialect's streams."""

    def __init__(
        self,
        settings: AntMediaSettings,
        hub: Hub,
        webhooks: AntMediaWebhooks,
        app_of: Callable[[StreamKey], str | None],
        deliveries: DeliveryQueue | None = None,
    ) -> None:
        self.settings = settings
        self.hub = hub
        self.webhooks = webhooks
        self.app_of = app_of
        self.deliveries = deliveries
        self.active: dict[StreamKey, Recording] = {}
        self._tasks = TaskOwner("antmedia-recordings")
        self._unsubscribe: Callable[[], None] | None = None
        self._unobserve: Callable[[], None] | None = None
        self._stopping: set[asyncio.Task[Any]] = set()

    def start(self) -> None:
        if self._unsubscribe is None:
            self._unsubscribe = self.hub.bus.subscribe(self._on_event)
        if self.deliveries is not None and self._unobserve is None:
            self._unobserve = self.deliveries.observe(self._delivered)

    async def stop(self) -> None:
        """Finish every recording (their files are delivered), then stop listening."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        for key in tuple(self.active):
            self._spawn_stop(key)
        if self._stopping:
            await asyncio.wait(self._stopping, timeout=self.settings.recording_stop_timeout_s)
        await self._tasks.cancel_all()
        if self._unobserve is not None:
            self._unobserve()
            self._unobserve = None

    # -- directories and names ----------------------------------------------------------------

    def work_dir(self, app: str) -> Path:
        return Path(self.settings.recording_work_dir) / app

    def final_dir(self, app: str) -> Path:
        return Path(self.settings.recordings_dir) / app

    def _file_id(self, app: str, stream_id: str, extension: str) -> str:
        """``streamId``, else ``streamId_1``, ``streamId_2``... : the first name not taken."""
        taken = {r.recorder.path.name for r in self.active.values()}
        directories = {self.work_dir(app), self.final_dir(app)}
        index = 0
        while True:
            file_id = stream_id if index == 0 else f"{stream_id}_{index}"
            name = f"{file_id}{extension}"
            if name not in taken and not any((d / name).exists() for d in directories):
                return file_id
            index += 1

    # -- start and stop ----------------------------------------------------------------------

    def muxing_enabled(self) -> bool:
        return self.settings.mp4_muxing_enabled or self.settings.webm_muxing_enabled

    def start_recording(self, key: StreamKey, *, automatic: bool = False) -> Recording | None:
        """Record the live stream ``key``; ``None`` when it cannot be (or, ``automatic``, when
        the muxing setting of its container is off). Already recorded: the recording."""
        current = self.active.get(key)
        if current is not None:
            return current
        stream = self.hub.find_stream(key)
        app = self.app_of(key)
        if stream is None or stream.state is not StreamState.LIVE or app is None:
            return None
        fmt = choose_format(list(stream.endpoint.tracks))
        if automatic and not (
            (fmt is MP4 and self.settings.mp4_muxing_enabled)
            or (fmt is WEBM and self.settings.webm_muxing_enabled)
        ):
            log.info("recording_skipped", stream=key.name, format=fmt.name)
            return None
        directory = self.work_dir(app)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            recorder = Recorder.for_stream(
                stream,
                directory,
                recording_id=self._file_id(app, key.name, fmt.extension),
                fmt=fmt,
            )
            recorder.start()
        except (RecordingError, OSError) as exc:
            log.warning("recording_failed", stream=key.name, error=str(exc))
            return None
        recording = Recording(key, app, recorder, secrets.token_hex(8))
        self.active[key] = recording
        return recording

    async def stop_recording(self, key: StreamKey) -> bool:
        """Finish the recording of ``key``, deliver its file and post ``vodReady``; ``False``
        when ``key`` is not being recorded."""
        recording = self.active.pop(key, None)
        if recording is None:
            return False
        try:
            result = await recording.recorder.stop()
        except RecordingError as exc:
            log.warning("recording_failed", stream=key.name, error=str(exc))
            return True
        if result.empty:
            await asyncio.to_thread(result.path.unlink, True)
            log.info("recording_empty", stream=key.name)
            return True
        log.info(
            "recording_finished",
            stream=key.name,
            file=result.path.name,
            size=result.size_bytes,
            duration_ms=result.duration_ms,
        )
        meta = {
            META_KEY: {
                "app": recording.app,
                "namespace": key.namespace,
                "stream_id": key.name,
                "vod_name": result.path.name,
                "vod_id": recording.vod_id,
            }
        }
        if self.deliveries is None:
            self._vod_ready(meta[META_KEY])
            return True
        from core.delivery import LocalDirectory

        await self.deliveries.deliver(
            result.path, LocalDirectory(str(self.final_dir(recording.app))), meta=meta
        )
        return True

    # -- events --------------------------------------------------------------------------------

    def _on_event(self, event: events.Event) -> None:
        if isinstance(event, events.StreamLive):
            if self.muxing_enabled() and self._ours(event.key):
                self.start_recording(event.key, automatic=True)
        elif isinstance(event, events.StreamEnded) and event.key in self.active:
            self._spawn_stop(event.key)

    def _spawn_stop(self, key: StreamKey) -> None:
        task = self._tasks.spawn(self.stop_recording(key), name="antmedia-recording-stop")
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    def _ours(self, key: StreamKey) -> bool:
        """Published through this dialect (its publisher named the application)."""
        stream = self.hub.find_stream(key)
        app = self.app_of(key)
        return stream is not None and app is not None and stream.app_data.get("app") == app

    def _delivered(self, outcome: DeliveryOutcome) -> None:
        vod = outcome.meta.get(META_KEY)
        if not isinstance(vod, dict):
            return
        if outcome.ok:
            self._vod_ready(vod)
        elif not outcome.will_retry:
            log.warning("recording_not_delivered", stream=vod.get("stream_id"), error=outcome.error)

    def _vod_ready(self, vod: dict[str, Any]) -> None:
        key = StreamKey(str(vod["namespace"]), str(vod["stream_id"]))
        self.webhooks.vod_ready(
            key, app=str(vod["app"]), vod_name=str(vod["vod_name"]), vod_id=str(vod["vod_id"])
        )
