"""An RTM session — a client's (it publishes) or a supervisor's (it plays a client's) — and
its life cycle INIT → SETUP → ACTIVE → SHUTDOWN → TERMINATED.

The session turns messages into core calls and core events into messages; the WebSocket
pump (:mod:`adapters.rtm.dialect`) hands it decoded frames and sends what it returns.
"""

from __future__ import annotations

import asyncio
import enum
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from adapters.rtm import codec
from core import errors, events
from core.delivery import HttpPut, LocalDirectory
from core.media.types import TrackInfo
from core.recording import Recorder, RecordingError, RecordingResult
from core.tasks import TaskOwner

if TYPE_CHECKING:
    from adapters.rtm.dialect import RtmDialect
    from core.session import Session
    from core.stream import Publication, Subscription

log = structlog.get_logger(__name__)


class State(enum.Enum):
    INIT = "INIT"
    SETUP = "SETUP"
    ACTIVE = "ACTIVE"
    SHUTDOWN = "SHUTDOWN"
    TERMINATED = "TERMINATED"


class Cause(enum.Enum):
    CONN_ERROR = "CONN_ERROR"
    TERM_BY_CLIENT = "TERM_BY_CLIENT"
    PEERCONN_FAILED = "PEERCONN_FAILED"
    SDP_ERROR = "SDP_ERROR"
    SERVICE_SHUTDOWN = "SERVICE_SHUTDOWN"
    NO_PACKET_RECEIVED = "NO_PACKET_RECEIVED"
    AGENT_SESSION_TERM = "AGENT_SESSION_TERM"
    NO_ACTIVE_AGENT = "NO_ACTIVE_AGENT"
    TWO_TIMER = "TWO_TIMER"
    MAX_SUPERVISORS_PER_AGENT = "MAX_SUPERVISORS_PER_AGENT"
    MAX_DURATION_REACHED = "MAX_DURATION_REACHED"


Send = Callable[[codec.Message], None]


def iso(at: float | None) -> str | None:
    """Seconds since 1970 as ISO 8601 (UTC, milliseconds)."""
    if at is None:
        return None
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at))
    return f"{stamp}.{int(at * 1000) % 1000:03d}Z"


class _PacketClock:
    """A packet sink that only notes when the last packet came (for NO_PACKET_RECEIVED)."""

    def __init__(self) -> None:
        self.last = time.monotonic()

    def on_rtp(self, track: TrackInfo, packet: Any) -> None:
        self.last = time.monotonic()

    def on_rtcp_sr(self, track: TrackInfo, ntp_time: int, rtp_time: int) -> None:
        pass


@dataclass
class ActiveRecording:
    recorder: Recorder
    upload_url: str | None
    webhook_url: str | None


class RtmSession:
    """One RTM session; ``send`` writes a message to its socket (a no-op once it closed)."""

    def __init__(
        self,
        dialect: RtmDialect,
        *,
        client_id: str,
        session_id: str,
        role: str,
        send: Send,
        on_end: Callable[[], None],
        webhook_url: str | None = None,
    ) -> None:
        self.dialect = dialect
        self.client_id = client_id
        self.id = session_id or str(uuid.uuid4())
        self.role = role  # "client" or "supervisor"
        self.send = send
        self.on_end = on_end
        self.webhook_url = webhook_url
        self.state = State.INIT
        self.cause: Cause | None = None
        self.started_at = time.time()
        self.stopped_at: float | None = None
        self.core: Session | None = None
        self.publication: Publication | None = None
        self.subscription: Subscription | None = None
        self.target: RtmSession | None = None  # the monitored session (supervisors)
        self.supervisors: set[RtmSession] = set()
        self.recording: ActiveRecording | None = None
        self.tasks = TaskOwner(f"rtm:{self.id}")
        self._terminated = asyncio.Event()
        self._terminating = False
        self.log = log.bind(rtm_session=self.id, client_id=client_id, role=role)

    @property
    def settings(self) -> Any:
        return self.dialect.settings

    @property
    def stream_name(self) -> str:
        return self.dialect.stream_name(self.client_id)

    def _state(self, state: State, cause: Cause | None = None) -> None:
        self.state = state
        self.send(codec.SessionState(state.value, cause.value if cause else None))

    # -- client sessions -------------------------------------------------------------------

    async def start_client(self, offer: codec.Sdp) -> None:
        self._state(State.SETUP)
        hub = self.dialect.hub
        try:
            self.core = hub.open_session(
                dialect="rtm", app_data={"client_id": self.client_id, "rtm_session": self.id}
            )
            self.core.on_event(self._core_event)
            self.publication = await self.core.publish(self.stream_name)
            answer = await self.publication.endpoint.accept_offer(offer.sdp)
        except (errors.NameInUse, errors.AlreadyPublishing):
            await self.terminate(Cause.TWO_TIMER)
            return
        except errors.DomainError as exc:
            self.log.info("session_refused", error=exc.code, detail=str(exc))
            await self.terminate(Cause.SDP_ERROR)
            return
        self._answer(answer, self.publication.endpoint.local_candidates())
        self.tasks.spawn(self._await_media(), name=f"rtm-media:{self.id}")

    def _answer(self, answer: str, candidates: list[Any]) -> None:
        self.send(codec.SdpUpdate(codec.Sdp("answer", answer)))
        for c in candidates:
            self.send(
                codec.Candidate(codec.IceCandidate(c.candidate, c.sdp_mid, c.sdp_mline_index))
            )

    async def _await_media(self) -> None:
        assert self.publication is not None
        endpoint = self.publication.endpoint
        try:
            await asyncio.wait_for(endpoint.media_flowing.wait(), self.settings.connect_timeout)
        except TimeoutError:
            self._spawn_terminate(Cause.PEERCONN_FAILED)
            return
        if self.state is not State.SETUP:
            return
        self._state(State.ACTIVE)
        self.log.info("session_active")
        clock = _PacketClock()
        endpoint.add_packet_sink(clock)
        self.tasks.spawn(self._watch_packets(clock), name=f"rtm-packets:{self.id}")
        if self.settings.max_duration:
            self.tasks.spawn(self._max_duration(), name=f"rtm-max:{self.id}")

    async def _watch_packets(self, clock: _PacketClock) -> None:
        timeout = self.settings.no_packet_timeout
        while self.state is State.ACTIVE:
            await asyncio.sleep(min(1.0, timeout / 4))
            if time.monotonic() - clock.last >= timeout:
                self._spawn_terminate(Cause.NO_PACKET_RECEIVED)
                return

    async def _max_duration(self) -> None:
        await asyncio.sleep(self.settings.max_duration)
        self._spawn_terminate(Cause.MAX_DURATION_REACHED)

    def _core_event(self, event: events.Event) -> None:
        if isinstance(event, events.StreamEnded) and event.reason == "publisher_lost":
            self._spawn_terminate(Cause.NO_PACKET_RECEIVED)  # the media plane's silence check
        elif isinstance(event, events.StreamEnded) and event.reason.startswith("publisher_"):
            self._spawn_terminate(Cause.PEERCONN_FAILED)
        elif isinstance(event, events.SubscriptionEnded) and self.role == "supervisor":
            if event.reason == "stream_ended":
                self._spawn_terminate(Cause.AGENT_SESSION_TERM)
            else:
                self._spawn_terminate(Cause.PEERCONN_FAILED)

    # -- supervisor sessions -----------------------------------------------------------------

    async def start_supervisor(self, offer: codec.Sdp, target: RtmSession) -> None:
        self._state(State.SETUP)
        self.target = target
        target.supervisors.add(self)
        try:
            self.core = self.dialect.hub.open_session(
                dialect="rtm", app_data={"client_id": self.client_id, "rtm_session": self.id}
            )
            self.core.on_event(self._core_event)
            self.subscription = await self.core.subscribe(target.stream_name)
            answer = await self.subscription.endpoint.accept_offer(offer.sdp)
        except errors.StreamNotFound:
            await self.terminate(Cause.NO_ACTIVE_AGENT)
            return
        except errors.DomainError as exc:
            self.log.info("supervisor_refused", error=exc.code, detail=str(exc))
            await self.terminate(Cause.SDP_ERROR)
            return
        self._answer(answer, self.subscription.endpoint.local_candidates())
        self.tasks.spawn(self._await_connected(), name=f"rtm-conn:{self.id}")

    async def _await_connected(self) -> None:
        assert self.subscription is not None
        try:
            await asyncio.wait_for(
                self.subscription.endpoint.connected.wait(), self.settings.connect_timeout
            )
        except TimeoutError:
            self._spawn_terminate(Cause.PEERCONN_FAILED)
            return
        if self.state is State.SETUP:
            self._state(State.ACTIVE)

    # -- both ------------------------------------------------------------------------------

    async def candidate(self, candidate: codec.IceCandidate) -> None:
        endpoint = (
            self.publication.endpoint
            if self.publication
            else self.subscription.endpoint
            if self.subscription
            else None
        )
        if endpoint is None:
            return
        try:
            await endpoint.add_remote_candidate(
                candidate.candidate,
                sdp_mid=candidate.sdp_mid,
                sdp_mline_index=candidate.sdp_mline_index,
            )
        except errors.DomainError as exc:
            self.log.info("candidate_refused", detail=str(exc))

    # -- recording -------------------------------------------------------------------------

    async def start_recording(self, message: codec.RecordingStart) -> None:
        if self.recording is not None:
            rec = self.recording.recorder
            self.send(codec.RecordingState(rec.id, "STARTED"))
            return
        recording_id = str(uuid.uuid4())
        if self.publication is None or self.state is not State.ACTIVE:
            self.send(codec.RecordingState(recording_id, "FAILED"))
            return
        try:
            recorder = Recorder(
                self.publication.endpoint,
                Path(self.settings.recordings_dir),
                recording_id=recording_id,
            )
            recorder.start()
        except RecordingError as exc:
            self.log.warning("recording_refused", detail=str(exc))
            self.send(codec.RecordingState(recording_id, "FAILED"))
            return
        self.recording = ActiveRecording(
            recorder, message.upload_url, message.webhook_url or self.webhook_url
        )
        self.send(codec.RecordingState(recording_id, "STARTED"))

    async def stop_recording(self) -> None:
        recording, self.recording = self.recording, None
        if recording is None:
            return
        recorder = recording.recorder
        try:
            result = await recorder.stop()
        except RecordingError:
            self.send(codec.RecordingState(recorder.id, "FAILED"))
            return
        if result.empty:
            self.send(codec.RecordingState(recorder.id, "FAILED"))
            return
        self.send(codec.RecordingState(recorder.id, "STOPPED"))
        await self.dialect.deliver(self, recording, result)

    def recording_meta(self, recording: ActiveRecording, result: RecordingResult) -> dict[str, Any]:
        return {
            "dialect": "rtm",
            "rec_id": result.recording_id,
            "client_id": self.client_id,
            "session_id": self.id,
            "webhook_url": recording.webhook_url,
            "recording_started_at": iso(result.started_at),
            "recording_first_frame_written_at": iso(result.first_frame_written_at),
            "recording_first_peerframe_captured_at": iso(result.first_frame_sender_time),
            "recording_stopped_at": iso(result.stopped_at),
            "recording_file_duration_ms": result.duration_ms,
            "recording_file_size_bytes": result.size_bytes,
        }

    def target_for(self, recording: ActiveRecording) -> HttpPut | LocalDirectory:
        if recording.upload_url:
            return HttpPut(recording.upload_url, success=(200,))
        return LocalDirectory(self.settings.local_delivery_dir)

    # -- the end ---------------------------------------------------------------------------

    def _spawn_terminate(self, cause: Cause) -> None:
        if not self._terminating:
            self.dialect.tasks.spawn(self.terminate(cause), name=f"rtm-end:{self.id}")

    async def terminate(self, cause: Cause) -> None:
        """SHUTDOWN (finish the recording, end the supervisors), then TERMINATED (once)."""
        if self._terminating:
            await self._terminated.wait()
            return
        self._terminating = True
        self.cause = cause
        try:
            if self.state in (State.SETUP, State.ACTIVE):
                self._state(State.SHUTDOWN)
            await self.stop_recording()
            supervisors = tuple(self.supervisors)
            await asyncio.gather(
                *(s.terminate(Cause.AGENT_SESSION_TERM) for s in supervisors),
                return_exceptions=True,
            )
            await self.tasks.cancel_all()
            if self.core is not None:
                await self.core.close(f"rtm_{cause.value.lower()}")
            if self.target is not None:
                self.target.supervisors.discard(self)
        finally:
            self.stopped_at = time.time()
            self._state(State.TERMINATED, cause)
            self._terminated.set()
            self.log.info("rtm_session_finished", cause=cause.value, state_reached=self.state.value)
            self.dialect.session_finished(self)
            self.on_end()
