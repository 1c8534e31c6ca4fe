"""One WebSDK client: the per-connection state machine of the Flashphoner dialect.

It turns typed messages (from :mod:`adapters.flashphoner.codec`) into core calls, and core
events into messages, which it hands to ``send`` (the pump's writer queue). It never touches
the socket. Each stream of the client is a :class:`MediaSession`, keyed by the client's
``mediaSessionId``; statuses are purely server-driven, as the SDK expects:

* publish: ``publishStream`` → ``setRemoteSDP`` → ``PUBLISHING`` once media flows →
  ``unPublishStream`` → ``UNPUBLISHED``;
* play: ``playStream`` → ``notifyAudioCodec`` → ``setRemoteSDP`` → ``PLAYING`` once media is
  sent → ``notifyVideoFormat`` → ``stopStream`` → ``STOPPED``.

Every failure is a ``FAILED`` status with WCS's ``info`` words (:data:`INFO`).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import structlog

from adapters.flashphoner import codec
from adapters.flashphoner.hooks import RESTRICTED
from core import errors, events
from core.names import StreamKey
from core.session import Session
from core.stream import Publication, Subscription
from core.tasks import TaskOwner

if TYPE_CHECKING:
    from adapters.flashphoner.dialect import FlashphonerDialect
    from core.recording import Recorder

log = structlog.get_logger(__name__)

MEDIA_PROVIDER = "WebRTC"
FINAL = frozenset({"UNPUBLISHED", "STOPPED", "FAILED"})

#: WCS's ``info`` words (the WebSDK's ``STREAM_STATUS_INFO``).
INFO = {
    "not_found": "Stream not found",
    "in_use": "Stream name is already in use",
    "msid_in_use": "MediaSessionId is already in use",
    "session_not_ready": "Session not ready",
    "publisher_stop": "Stopped by publisher stop",
    "user": "Stopped by user",
    "session_disconnect": "Stopped by session disconnect",
    "rest_terminate": "Stopped by rest /terminate",
    "ice_error": "Failed by ICE error",
    "rtp_activity": "Failed by RTP activity",
    "error": "Failed by error",
    "no_codecs": "No common codecs",
    "restricted": RESTRICTED,
    "keep_alive": "Terminated by keep-alive",
    "shutdown": "Server shutdown",
}


def error_info(exc: errors.DomainError) -> str:
    """The ``info`` of a ``FAILED`` status for a core error."""
    if isinstance(exc, errors.StreamNotFound):
        return INFO["not_found"]
    if isinstance(exc, errors.NameInUse | errors.AlreadyPublishing):
        return INFO["in_use"]
    if isinstance(exc, errors.CodecNotSupported):
        return INFO["no_codecs"]
    if isinstance(exc, errors.Unauthorized):
        return INFO["restricted"]
    return INFO["error"]


@dataclass(eq=False)
class MediaSession:
    """One stream of the client: a publication or a subscription, under its mediaSessionId."""

    id: str
    name: str
    published: bool
    request: codec.StreamMessage
    created_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    status: str = "PENDING"
    publication: Publication | None = None
    subscription: Subscription | None = None
    audio_codec: str | None = None
    video_codec: str | None = None
    width: int = 0
    height: int = 0
    record: bool = False
    recorder: Recorder | None = None
    record_name: str | None = None
    #: Set when the server ends the stream itself, so the closing event reports these words.
    ending: tuple[str, str] | None = None

    @property
    def has_audio(self) -> bool:
        return self.request.has_audio is not False

    @property
    def has_video(self) -> bool:
        return self.request.has_video is not False

    @property
    def key(self) -> StreamKey | None:
        if self.publication is not None:
            return self.publication.stream.key
        if self.subscription is not None and self.subscription.keys:
            return self.subscription.keys[0]
        return None


class FlashphonerConnection:
    """The state of one WebSocket client of the Raw WebSocket API."""

    def __init__(
        self,
        dialect: FlashphonerDialect,
        *,
        remote: str | None,
        local: str | None,
        send: Callable[[codec.Message], None],
        close: Callable[[], None],
    ) -> None:
        self.dialect = dialect
        self.settings = dialect.settings
        self.hub = dialect.hub
        self.remote = remote
        self.local = local
        self._send = send
        self._close_socket = close
        self.id = secrets.token_hex(8)
        self.session: Session | None = None
        self.app_key = "defaultApp"
        self.client: codec.Connection | None = None
        self.auth_token = f"/{remote}/{local}" if remote else self.id
        self.media: dict[str, MediaSession] = {}
        self.tasks = TaskOwner(f"flashphoner:{self.id}")
        self.created_at = time.time()
        self.last_seen = time.monotonic()
        self.closed = False
        self.log = log.bind(dialect="flashphoner", conn_id=self.id)

    # -- entry points for the pump --------------------------------------------------------

    @property
    def established(self) -> bool:
        return self.session is not None

    def send(self, message: codec.Message) -> None:
        if not self.closed:
            self._send(message)

    async def handle(self, message: codec.Message) -> None:
        """Act on one message the client sent."""
        self.last_seen = time.monotonic()
        if isinstance(message, codec.Connection):
            await self._connect(message)
        elif isinstance(message, codec.Ping):
            self.send(codec.Pong(raw_data=(None,)))
        elif isinstance(message, codec.Pong):
            pass
        elif self.session is None:
            self._refuse_before_session(message)
        elif isinstance(message, codec.PublishStream):
            await self._publish(message)
        elif isinstance(message, codec.PlayStream):
            await self._play(message)
        elif isinstance(message, codec.UnPublishStream | codec.StopStream):
            await self._stop(message)
        elif isinstance(message, codec.AvailableStream):
            self._available(message)
        elif isinstance(message, codec.SendStreamEvent):
            self._stream_event(message)
        elif isinstance(message, codec.Unsupported):
            self.log.info("unsupported_message", message=message.message)
            self.send(
                codec.Fail(
                    api_method=message.message,
                    id=message.media_session_id,
                    info=f"{message.message} is not supported",
                )
            )

    def handle_decode_error(self, exc: codec.DecodeError) -> None:
        """Answer a frame that could not be read, in WCS's words."""
        self.log.info("bad_frame", error=str(exc), message=exc.message)
        msid = exc.media_session_id
        if msid is not None and msid not in self.media:
            self.send(
                codec.StreamStatus(
                    media_session_id=msid, status="FAILED", info=INFO["error"], extra={}
                )
            )
            return
        self.send(codec.Fail(api_method=exc.message, info=str(exc)))

    # -- connection -----------------------------------------------------------------------

    def _wcs_session_fields(self) -> dict[str, Any]:
        return {
            "nodeId": self.hub.node_id,
            "appKey": self.app_key,
            "sessionId": self.auth_token,
        }

    async def _connect(self, message: codec.Connection) -> None:
        if self.session is not None or self.closed:
            return
        self.client = message
        self.app_key = message.app_key or "defaultApp"
        body = {**codec.encode_object(message), **self._wcs_session_fields()}
        decision = await self.dialect.hooks.permit(self.app_key, "connect", body)
        if self.closed:
            return
        if not decision.allowed:
            self.log.info("connection_refused", app_key=self.app_key, reason=decision.reason)
            self.send(
                codec.Fail(
                    api_method="ConnectionStatusEvent",
                    status="FAILED",
                    info=decision.reason or INFO["restricted"],
                )
            )
            self._close_socket()
            return
        try:
            session = self.hub.open_session(
                dialect="flashphoner",
                namespace=self._namespace(),
                remote=self.remote,
                app_data={"app_key": self.app_key, "connection_id": self.id},
            )
        except errors.DomainError as exc:
            self.send(
                codec.Fail(api_method="ConnectionStatusEvent", status="FAILED", info=str(exc))
            )
            self._close_socket()
            return
        self.session = session
        session.on_event(self._on_core_event)
        self.dialect.attach(self)
        self.log = self.log.bind(session_id=session.id)
        echo = dict(codec.encode_object(message))
        echo.pop("authToken", None)
        echo.update(
            {
                "useWsTunnel": False,
                "useWsTunnelPacketization2": False,
                "useBase64BinaryEncoding": False,
                "forceLogger": False,
                "keepAlive": bool(message.keep_alive),
            }
        )
        echo.pop("status", None)
        self.send(codec.GetUserData(auth_token=self.auth_token, status="ESTABLISHED", extra=echo))
        self.send(codec.GetVersion(version=self.settings.server_version))
        self._notify_connection_status("ESTABLISHED")
        if self.settings.ping_interval > 0:
            self.tasks.spawn(self._keepalive(), name="flashphoner-ping")
        if self.settings.video_rate_interval > 0:
            self.tasks.spawn(self._video_rates(), name="flashphoner-rates")
        self.log.info("connection_established", app_key=self.app_key, remote=self.remote)

    def _namespace(self) -> str:
        if self.settings.namespace_per_app_key:
            return self.app_key
        return self.settings.namespace

    def _notify_connection_status(self, status: str, info: str | None = None) -> None:
        body = {**self._wcs_session_fields(), "status": status}
        if info:
            body["info"] = info
        self.dialect.hooks.notify(self.app_key, "ConnectionStatusEvent", body)

    def _refuse_before_session(self, message: codec.Message) -> None:
        msid = getattr(message, "media_session_id", None)
        if isinstance(msid, str):
            self.send(
                codec.StreamStatus(
                    media_session_id=msid, status="FAILED", info=INFO["session_not_ready"]
                )
            )
        else:
            self.send(codec.Fail(api_method=message.name, info=INFO["session_not_ready"]))

    # -- statuses -------------------------------------------------------------------------

    def status_of(
        self, ms: MediaSession, status: str, info: str | None = None
    ) -> codec.StreamStatus:
        """The WCS stream object of ``ms`` with ``status``."""
        return codec.StreamStatus(
            media_session_id=ms.id,
            stream_name=ms.name,
            published=ms.published,
            has_video=ms.has_video,
            has_audio=ms.has_audio,
            status=status,
            audio_codec=ms.audio_codec,
            video_codec=ms.video_codec,
            info=info,
            record=ms.record,
            record_name=ms.record_name,
            width=ms.width,
            height=ms.height,
            bitrate=0,
            min_bitrate=0,
            max_bitrate=0,
            quality=0,
            create_date=ms.created_ms,
            stream_info={
                "nodeId": self.hub.node_id,
                "appKey": self.app_key,
                "sessionId": self.auth_token,
                "mediaSessionId": ms.id,
                "name": ms.name,
                "samplingTime": None,
                "recordTimestamp": None,
                "recordStarted": ms.recorder is not None,
            },
            media_provider=MEDIA_PROVIDER,
        )

    def _set_status(self, ms: MediaSession, status: str, info: str | None = None) -> None:
        if ms.status in FINAL:
            return
        ms.status = status
        message = self.status_of(ms, status, info)
        self.send(message)
        body = {**codec.encode_object(message), **self._wcs_session_fields()}
        self.dialect.hooks.notify(self.app_key, "StreamStatusEvent", body)
        if status in FINAL:
            self.media.pop(ms.id, None)
            self.log.info(
                "stream_finished",
                stream=ms.name,
                published=ms.published,
                status=status,
                info=info,
            )

    def _fail(self, ms: MediaSession, info: str) -> None:
        self._set_status(ms, "FAILED", info)

    def _fail_request(self, request: codec.StreamMessage, info: str, published: bool) -> None:
        """A FAILED for a request that never became a media session (or is already one)."""
        ms = MediaSession(
            id=request.media_session_id,
            name=request.stream_name,
            published=published,
            request=request,
        )
        self._fail(ms, info)

    # -- publish --------------------------------------------------------------------------

    def _hook_body(self, request: codec.StreamMessage) -> dict[str, Any]:
        return {**codec.encode_object(request, without=("sdp",)), **self._wcs_session_fields()}

    async def _publish(self, request: codec.PublishStream) -> None:
        assert self.session is not None
        if request.media_session_id in self.media:
            self._fail_request(request, INFO["msid_in_use"], True)
            return
        if not request.sdp:
            self._fail_request(request, INFO["error"], True)
            return
        ms = MediaSession(
            id=request.media_session_id,
            name=request.stream_name,
            published=True,
            request=request,
            record=bool(request.record),
        )
        self.media[ms.id] = ms
        decision = await self.dialect.hooks.permit(
            self.app_key, "publishStream", self._hook_body(request)
        )
        if not decision.allowed:
            self._fail(ms, decision.reason or INFO["restricted"])
            return
        try:
            publication = await self.session.publish(request.stream_name, app_data={"msid": ms.id})
        except errors.DomainError as exc:
            self._fail(ms, error_info(exc))
            return
        ms.publication = publication
        if ms.status in FINAL:  # stopped while the publication was being made
            await publication.close("closed")
            return
        try:
            answer = await publication.endpoint.accept_offer(request.sdp)
        except errors.DomainError as exc:
            ms.ending = ("FAILED", error_info(exc))
            self.log.info("publish_failed", stream=ms.name, error=str(exc))
            await publication.close("bad_offer")
            return
        self.send(codec.SetRemoteSdp(media_session_id=ms.id, sdp=answer))
        self.tasks.spawn(self._watch_publisher(ms), name=f"publish:{ms.name}")

    async def _watch_publisher(self, ms: MediaSession) -> None:
        assert ms.publication is not None
        endpoint = ms.publication.endpoint
        if not await _first_of(
            endpoint.media_flowing, endpoint.closed, limit=self.settings.media_timeout
        ):
            if not endpoint.closed.is_set():
                ms.ending = ("FAILED", INFO["rtp_activity"])
                await ms.publication.close("no_media")
            return
        if endpoint.closed.is_set():
            return
        for track in endpoint.tracks:
            if track.kind == "audio":
                ms.audio_codec = track.codec.name.lower()
            elif track.kind == "video":
                ms.video_codec = track.codec.name
        deadline = time.monotonic() + self.settings.size_wait
        while ms.video_codec and time.monotonic() < deadline:
            if self._update_size(ms):
                break
            await asyncio.sleep(0.05)
        if ms.record and ms.recorder is None:
            self.start_recording(ms)
        self._set_status(ms, "PUBLISHING")

    def _update_size(self, ms: MediaSession) -> bool:
        if ms.publication is None:
            return False
        video = ms.publication.endpoint.stats().get("video")
        if video is not None and video.width and video.height:
            ms.width, ms.height = video.width, video.height
            return True
        return False

    # -- recording ------------------------------------------------------------------------

    def start_recording(self, ms: MediaSession) -> str | None:
        """Record the stream of ``ms``; returns the file name (WCS's ``recordName``)."""
        if ms.publication is None or ms.recorder is not None:
            return ms.record_name
        from core.recording import Recorder, RecordingError

        directory = Path(self.settings.recording_directory)
        try:
            recorder = Recorder.for_stream(
                ms.publication.stream, directory, recording_id=f"{ms.name}-{ms.id}"
            )
            recorder.start()
        except (RecordingError, OSError) as exc:
            self.log.warning("recording_failed", stream=ms.name, error=str(exc))
            return None
        ms.recorder = recorder
        ms.record = True
        ms.record_name = recorder.path.name
        return ms.record_name

    async def stop_recording(self, ms: MediaSession) -> str | None:
        """Finish the recording of ``ms``; returns its file name."""
        recorder, ms.recorder = ms.recorder, None
        if recorder is None:
            return None
        try:
            result = await recorder.stop()
        except Exception as exc:
            self.log.warning("recording_failed", stream=ms.name, error=str(exc))
            return None
        self.log.info(
            "recording_finished", stream=ms.name, file=result.path.name, size=result.size_bytes
        )
        return result.path.name

    # -- play -----------------------------------------------------------------------------

    async def _play(self, request: codec.PlayStream) -> None:
        assert self.session is not None
        if request.media_session_id in self.media:
            self._fail_request(request, INFO["msid_in_use"], False)
            return
        if not request.sdp:
            self._fail_request(request, INFO["error"], False)
            return
        ms = MediaSession(
            id=request.media_session_id, name=request.stream_name, published=False, request=request
        )
        self.media[ms.id] = ms
        decision = await self.dialect.hooks.permit(
            self.app_key, "playStream", self._hook_body(request)
        )
        if not decision.allowed:
            self._fail(ms, decision.reason or INFO["restricted"])
            return
        try:
            subscription = await self.session.subscribe(
                request.stream_name, app_data={"msid": ms.id}
            )
        except errors.DomainError as exc:
            self._fail(ms, error_info(exc))
            return
        ms.subscription = subscription
        if ms.status in FINAL:
            await subscription.close("closed")
            return
        for stream in subscription.streams:
            for track in stream.tracks:
                if track.kind == "audio":
                    ms.audio_codec = track.codec.name.lower()
                elif track.kind == "video":
                    ms.video_codec = track.codec.name
        if ms.audio_codec:
            self.send(codec.NotifyAudioCodec(media_session_id=ms.id, codec=ms.audio_codec))
        try:
            answer = await subscription.endpoint.accept_offer(request.sdp)
        except errors.DomainError as exc:
            ms.ending = ("FAILED", error_info(exc))
            self.log.info("play_failed", stream=ms.name, error=str(exc))
            await subscription.close("bad_offer")
            return
        self.send(codec.SetRemoteSdp(media_session_id=ms.id, sdp=answer))
        self.tasks.spawn(self._watch_player(ms), name=f"play:{ms.name}")

    async def _watch_player(self, ms: MediaSession) -> None:
        assert ms.subscription is not None
        endpoint = ms.subscription.endpoint
        sent = await _first_of(
            endpoint.first_media_sent, endpoint.closed, limit=self.settings.media_timeout
        )
        if endpoint.closed.is_set() or ms.status in FINAL:
            return
        if not sent:
            ms.ending = ("FAILED", INFO["rtp_activity"])
            await ms.subscription.close("no_media")
            return
        source = self._publisher_size(ms)
        if source is not None:
            ms.width, ms.height = source
        self._set_status(ms, "PLAYING")
        if source is not None:
            # WCS's own frame: status RESIZE, which the SDK reads as a size, not a status.
            self.send(
                codec.NotifyVideoFormat(
                    media_session_id=ms.id,
                    status="RESIZE",
                    streamer_video_width=source[0],
                    streamer_video_height=source[1],
                )
            )

    def _publisher_size(self, ms: MediaSession) -> tuple[int, int] | None:
        if ms.subscription is None:
            return None
        for stream in ms.subscription.streams:
            video = stream.stats().get("video")
            if video is not None and video.width and video.height:
                return video.width, video.height
        return None

    # -- stop -----------------------------------------------------------------------------

    async def _stop(self, request: codec.StreamMessage) -> None:
        ms = self.media.get(request.media_session_id)
        method = "unPublishStream" if isinstance(request, codec.UnPublishStream) else "stopStream"
        self.dialect.hooks.notify(self.app_key, method, self._hook_body(request))
        if ms is None:
            return
        if ms.published:
            await self.end(ms, "UNPUBLISHED", INFO["publisher_stop"], reason="unpublished")
        else:
            await self.end(ms, "STOPPED", INFO["user"], reason="stopped")

    async def end(self, ms: MediaSession, status: str, info: str, *, reason: str) -> None:
        """End ``ms`` on the server's initiative, reporting ``status`` with ``info``."""
        if ms.ending is None:
            ms.ending = (status, info)
        if ms.publication is not None:
            await ms.publication.close(reason)
        elif ms.subscription is not None:
            await ms.subscription.close(reason)
        else:  # not yet a core object (a hook or the core call is pending)
            self._set_status(ms, status, info)

    def fail_open(self, info: str) -> None:
        """Tell a final ``FAILED`` with ``info`` for every stream not finished yet (the
        gateway stops: the core may still be closing them when the socket goes)."""
        for ms in tuple(self.media.values()):
            self._set_status(ms, "FAILED", info)

    # -- core events ----------------------------------------------------------------------

    def _find(self, predicate: Callable[[MediaSession], bool]) -> MediaSession | None:
        return next((ms for ms in self.media.values() if predicate(ms)), None)

    def _on_core_event(self, event: events.Event) -> None:
        if isinstance(event, events.StreamEnded):
            ms = self._find(
                lambda m: m.publication is not None and m.publication.stream.key == event.key
            )
            if ms is None:
                return
            status, info = ms.ending or self._ended_words(event.reason, published=True)
            self.tasks.spawn(self._finish_publication(ms, status, info), name="unpublish")
        elif isinstance(event, events.SubscriptionEnded):
            ms = self._find(
                lambda m: m.subscription is not None and m.subscription.id == event.subscription_id
            )
            if ms is None:
                return
            status, info = ms.ending or self._ended_words(event.reason, published=False)
            self._set_status(ms, status, info)

    def _ended_words(self, reason: str, *, published: bool) -> tuple[str, str]:
        if self.dialect.stopping:
            # Another dialect's publisher may end first while the gateway stops: the
            # players here still hear why.
            return "FAILED", INFO["shutdown"]
        return _ended_words(reason, published=published)

    async def _finish_publication(self, ms: MediaSession, status: str, info: str) -> None:
        if ms.recorder is not None:
            ms.record_name = await self.stop_recording(ms) or ms.record_name
        self._set_status(ms, status, info)

    # -- availability and stream events ---------------------------------------------------

    def _available(self, request: codec.AvailableStream) -> None:
        assert self.session is not None
        stream = self.hub.find_stream(self.session.key(request.stream_name))
        if stream is not None and stream.live:
            answer = codec.AvailableStreamStatus(id=request.media_session_id, status="true")
        else:
            answer = codec.AvailableStreamStatus(
                id=request.media_session_id, status="false", info=INFO["not_found"]
            )
        self.send(answer)

    def _stream_event(self, request: codec.SendStreamEvent) -> None:
        ms = self.media.get(request.media_session_id)
        if ms is None or ms.publication is None:
            return
        self.dialect.relay_stream_event(ms.publication.stream, request.type, request.payload)

    def deliver_stream_event(self, subscription_id: str, type_: str, payload: Any) -> None:
        """A publisher's ``sendStreamEvent``, told to this client's player of its stream."""
        ms = self._find(
            lambda m: m.subscription is not None and m.subscription.id == subscription_id
        )
        if ms is not None:
            self.send(codec.NotifyStreamEvent(media_session_id=ms.id, type=type_, payload=payload))

    # -- periodic work --------------------------------------------------------------------

    async def _keepalive(self) -> None:
        interval = self.settings.ping_interval
        while not self.closed:
            await asyncio.sleep(interval)
            if time.monotonic() - self.last_seen > 3 * interval:
                self.log.info("keepalive_timeout")
                self._close_socket()
                return
            self.send(codec.Ping(raw_data=()))

    async def _video_rates(self) -> None:
        while not self.closed:
            await asyncio.sleep(self.settings.video_rate_interval)
            for ms in tuple(self.media.values()):
                if ms.status not in ("PUBLISHING", "PLAYING"):
                    continue
                self.send(self.video_rate(ms))

    def video_rate(self, ms: MediaSession) -> codec.VideoRate:
        """The current ``inboundVideoRate`` (publisher) or ``outboundVideoRate`` (player)."""
        if ms.publication is not None:
            stats = ms.publication.endpoint.stats().get("video")
            cls: type[codec.VideoRate] = codec.InboundVideoRate
        else:
            assert ms.subscription is not None
            stats = ms.subscription.endpoint.stats().get("video")
            cls = codec.OutboundVideoRate
        if stats is None:
            return cls(media_session_id=ms.id, video_rate=0)
        if stats.width and stats.height:
            ms.width, ms.height = stats.width, stats.height
        return cls(
            media_session_id=ms.id,
            video_rate=stats.bitrate_bps,
            fps=round(stats.fps),
            nack=stats.nack_count,
            pli=stats.pli_count,
            lost_packets=stats.lost,
            width=stats.width or 0,
            height=stats.height or 0,
        )

    # -- closing --------------------------------------------------------------------------

    async def close(self, reason: str = "disconnected") -> None:
        """The socket is gone: end every stream and the core session (idempotent)."""
        if self.closed:
            return
        self.closed = True
        await self.tasks.cancel_all()
        for ms in tuple(self.media.values()):
            if ms.ending is None:
                ms.ending = ("FAILED", INFO["session_disconnect"])
            if ms.recorder is not None:
                await self.stop_recording(ms)
        if self.session is not None:
            await self.session.close(reason)
            self._notify_connection_status("DISCONNECTED")
            self.dialect.detach(self)
        self.log.info(
            "connection_closed", reason=reason, duration_s=round(time.time() - self.created_at, 1)
        )


def _ended_words(reason: str, *, published: bool) -> tuple[str, str]:
    """The status and info for a stream that ended without this connection asking."""
    if "failed" in reason:
        return "FAILED", INFO["ice_error"]
    if reason == "stream_ended":
        return "STOPPED", INFO["publisher_stop"]
    if reason in ("terminated", "rest_terminate"):
        return ("UNPUBLISHED" if published else "STOPPED"), INFO["rest_terminate"]
    if published:
        return "UNPUBLISHED", INFO["publisher_stop"]
    return "STOPPED", INFO["user"]


async def _first_of(event: asyncio.Event, closed: asyncio.Event, *, limit: float) -> bool:
    """Wait for ``event`` (True) or ``closed`` / the timeout (False)."""
    if event.is_set():
        return True
    waiters = [asyncio.ensure_future(event.wait()), asyncio.ensure_future(closed.wait())]
    try:
        await asyncio.wait(waiters, timeout=limit, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
        for waiter in waiters:
            with contextlib.suppress(asyncio.CancelledError):
                await waiter
    return event.is_set()


def new_media_session_id() -> str:
    """A mediaSessionId of the form the WebSDK makes (uuid v1), for server-side streams."""
    return str(uuid.uuid1())
