"""One Ant Media WebSocket client: its messages become core calls, core events become messages.

The connection owns one core :class:`~core.session.Session` (opened with the connection) and
knows, per ``streamId`` of the wire:

- what it publishes (client offers after our ``start``; ``publish_started`` once media flows);
- what it plays: a stream, or a room (multitrack: every live member stream not excluded by a
  ``"!id"`` of the ``trackList``, renegotiated with a new server offer as members come and go);
- which conference rooms it joined, and its peer-to-peer pairings (relayed, no media here).

It sends through ``send`` (the pump's writer queue) and never touches the socket. Handlers
run one at a time in the order the client sent them; work triggered by events (renegotiation,
timers) runs in tasks this connection owns and cancels on close.
"""

from __future__ import annotations

import asyncio
import secrets
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import structlog

from adapters.antmedia import codec
from core import errors, events
from core.media import Endpoint, LocalCandidate
from core.names import StreamKey, validate_stream_name
from core.session import Session
from core.stream import Publication, Stream, StreamState, Subscription
from core.tasks import TaskOwner

if TYPE_CHECKING:
    from adapters.antmedia.dialect import AntMediaDialect
    from core.hub import Hub

log = structlog.get_logger(__name__)

Send = Callable[[codec.Message], None]
_ID_ALPHABET = string.ascii_letters + string.digits


def random_stream_id() -> str:
    """A server-assigned stream id, in Ant Media's style (letters and digits)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


class Refused(Exception):
    """A request answered with ``{"command": "error", "definition": ...}``."""

    def __init__(self, definition: str, stream_id: str | None = None, **extra: str) -> None:
        super().__init__(definition)
        self.definition = definition
        self.stream_id = stream_id
        self.extra = extra

    def message(self) -> codec.Error:
        return codec.Error(
            self.definition,
            stream_id=self.stream_id,
            error_code=self.extra.get("error_code"),
            room=self.extra.get("room"),
        )


def refusal_for(exc: errors.DomainError, stream_id: str | None, action: str) -> Refused:
    """The Ant Media error word for a domain error raised while handling ``action``."""
    if isinstance(exc, errors.StreamNotFound):
        return Refused("no_stream_exist", stream_id, error_code="404")
    if isinstance(exc, errors.NameInUse):
        return Refused("streamIdInUse", stream_id)
    if isinstance(exc, errors.InvalidName):
        return Refused("invalidStreamName", stream_id)
    if isinstance(exc, errors.AlreadyPublishing):
        return Refused("already_publishing", stream_id)
    if isinstance(exc, errors.AlreadyPlaying):
        return Refused("already_playing", stream_id)
    if isinstance(exc, errors.Unauthorized):
        return Refused("unauthorized_access", stream_id)
    if isinstance(exc, errors.LimitReached):
        return Refused("viewerLimitReached" if action == "play" else "highResourceUsage", stream_id)
    if isinstance(exc, errors.CodecNotSupported):
        return Refused("no_codec_enabled_in_the_server", stream_id)
    if isinstance(exc, errors.BadSdp):
        return Refused("notSetRemoteDescription", stream_id)
    if isinstance(exc, errors.RoomNotFound):
        return Refused("no_stream_exist", stream_id, error_code="404")
    return Refused("server_error_check_logs", stream_id)


def refusal_for_decode(exc: codec.DecodeError) -> Refused:
    if isinstance(exc, codec.MissingField):
        if exc.field == "streamId":
            return Refused("noStreamNameSpecified")
        if exc.field == "room":
            return Refused("no_room_specified")
        return Refused("missingParameter", exc.stream_id)
    if isinstance(exc, codec.WrongType):
        if exc.field == "streamId":
            return Refused("invalidStreamName")
        return Refused("missingParameter", exc.stream_id)
    if isinstance(exc, codec.UnknownCommand):
        return Refused("unsupported_command", exc.stream_id)
    return Refused("missingParameter")


@dataclass(eq=False)
class Publishing:
    stream_id: str
    publication: Publication
    room: str | None = None
    answered: bool = False
    started: bool = False


@dataclass(eq=False)
class Playing:
    stream_id: str
    subscription: Subscription | None
    room: StreamKey | None = None  # set for a multitrack play of a room
    excluded: set[str] = field(default_factory=set)
    only: set[str] = field(default_factory=set)  # a trackList of ids: just these
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    awaiting_answer: bool = False
    dirty: bool = False
    started: bool = False
    closed: bool = False


class Connection:
    """The state machine of one client connection."""

    def __init__(
        self,
        dialect: AntMediaDialect,
        *,
        app: str,
        session: Session,
        send: Send,
        conn_id: str,
    ) -> None:
        self.dialect = dialect
        self.app = app
        self.session = session
        self.send = send
        self.conn_id = conn_id
        self.settings = dialect.settings
        self.tasks = TaskOwner(f"antmedia:{conn_id}")
        self.publishing: dict[str, Publishing] = {}
        self.playing: dict[str, Playing] = {}
        self.rooms: dict[str, str] = {}  # room name → member id
        self.p2p: set[str] = set()
        self.closed = False
        self.log = log.bind(conn_id=conn_id, dialect=dialect.name, session_id=session.id)
        session.on_event(self._on_event)
        self._unsubscribe = dialect.hub.bus.subscribe(self._on_bus_event)

    @property
    def hub(self) -> Hub:
        return self.dialect.hub

    def key(self, name: str) -> StreamKey:
        return self.session.key(name)

    # -- entry point -------------------------------------------------------------------------

    async def receive(self, text: str) -> None:
        """Handle one frame from the client; every refusal is answered, nothing escapes."""
        try:
            message = codec.decode_client(text)
        except codec.DecodeError as exc:
            self.log.info("message_refused", reason=str(exc))
            self.send(refusal_for_decode(exc).message())
            return
        try:
            await self.handle(message)
        except Refused as refused:
            self.log.info(
                "request_refused",
                command=message.command,
                definition=refused.definition,
                stream=refused.stream_id,
            )
            self.send(refused.message())

    async def handle(self, message: codec.ClientMessage) -> None:
        match message:
            case codec.Ping():
                self.send(codec.Pong())
            case codec.Publish():
                await self.publish(message)
            case codec.Play():
                await self.play(message)
            case codec.TakeConfiguration():
                await self.take_configuration(message)
            case codec.TakeCandidate():
                await self.take_candidate(message)
            case codec.Stop():
                await self.stop_stream(message.stream_id)
            case codec.GetIceServerConfig():
                self.send(self.dialect.ice_server_config())
            case codec.JoinRoom():
                self.join_room(message)
            case codec.LeaveFromRoom():
                await self.leave_room(message.room)
            case codec.GetRoomInfo():
                self.send(self.room_information(message.room, message.stream_id))
            case codec.GetStreamInfo():
                self.send(self.stream_information(message.stream_id))
            case codec.ForceStreamQuality():
                # One quality per stream: answer with it, whatever was asked.
                self.send(self.stream_information(message.stream_id))
            case codec.GetTrackList():
                self.send(self.track_list(message.stream_id))
            case codec.EnableTrack():
                self.dialect.enable_track(
                    self.key(message.stream_id), message.track_id, message.enabled
                )
            case codec.ToggleVideo() | codec.ToggleAudio():
                self.toggle(message)
            case codec.Join():
                self.dialect.p2p.join(self, message.stream_id)
            case codec.Leave():
                self.dialect.p2p.leave(self, message.stream_id)
            case codec.PeerMessageCommand():
                self.dialect.p2p.relay(self, message)
            case codec.GetBroadcastObject():
                self.send(self.broadcast_object(message.stream_id))
            case codec.GetSubscriberCount():
                stream = self.hub.find_stream(self.key(message.stream_id))
                count = len(stream.subscriptions) if stream is not None else 0
                self.send(codec.SubscriberCount(message.stream_id, count))
            case codec.Unsupported():
                raise Refused("unsupported_command", message.stream_id)

    # -- publish -------------------------------------------------------------------------------

    def _check_name(self, stream_id: str) -> None:
        if not stream_id:
            raise Refused("noStreamNameSpecified")
        try:
            validate_stream_name(stream_id)
        except errors.InvalidName:
            raise Refused("invalidStreamName", stream_id) from None

    def _authorize(
        self,
        action: Literal["publish", "play"],
        stream_id: str,
        token: str | None,
        subscriber_id: str | None,
        subscriber_code: str | None,
    ) -> None:
        if self.dialect.overloaded():
            raise Refused("highResourceUsage", stream_id)
        try:
            self.dialect.security.authorize(
                app=self.app,
                stream_id=stream_id,
                action=action,
                token=token or None,
                subscriber_id=subscriber_id or None,
                subscriber_code=subscriber_code or None,
            )
        except errors.Unauthorized:
            raise Refused("unauthorized_access", stream_id) from None

    async def publish(self, message: codec.Publish) -> None:
        stream_id = message.stream_id
        self._check_name(stream_id)
        if stream_id in self.publishing:
            raise Refused("already_publishing", stream_id)
        self._authorize(
            "publish", stream_id, message.token, message.subscriber_id, message.subscriber_code
        )
        security = self.dialect.security.settings_for(self.app)
        if security.accept_only_registered_streams and not self.dialect.registry.is_registered(
            self.app, stream_id
        ):
            raise Refused("not_allowed_unregistered_streams", stream_id)
        room = message.main_track or None
        if room is not None:
            try:
                validate_stream_name(room)
            except errors.InvalidName:
                raise Refused("invalidStreamName", stream_id) from None
        app_data = {
            "app": self.app,
            "streamName": message.stream_name or None,
            "metaData": message.meta_data or None,
            "mainTrack": room,
        }
        try:
            publication = await self.session.publish(stream_id, app_data=app_data)
        except errors.DomainError as exc:
            raise refusal_for(exc, stream_id, "publish") from None
        self.dialect.remember_app(publication.stream.key, self.app)
        if room is not None and self.rooms.get(room) != stream_id:
            try:
                self.session.join_room(room, stream_id)
                self.rooms[room] = stream_id
            except errors.DomainError as exc:
                await publication.close("refused")
                raise refusal_for(exc, stream_id, "publish") from None
        self.publishing[stream_id] = Publishing(stream_id, publication, room)
        self.log.info("publish_accepted", stream=stream_id, room=room)
        self.send(codec.Start(stream_id))
        timeout = self.settings.publish_timeout_ms
        if timeout:
            self.tasks.spawn(
                self._publish_deadline(publication, timeout / 1000), name=f"deadline:{stream_id}"
            )

    async def _publish_deadline(self, publication: Publication, seconds: float) -> None:
        try:
            await asyncio.wait_for(publication.endpoint.media_flowing.wait(), seconds)
        except TimeoutError:
            if publication.closed:
                return
            name = publication.stream.name
            self.log.info("publish_timeout", stream=name, timeout_s=seconds)
            self.send(codec.Error("publishTimeoutError", stream_id=name))
            await publication.close("publish_timeout")

    # -- play ----------------------------------------------------------------------------------

    async def play(self, message: codec.Play) -> None:
        stream_id = message.stream_id
        self._check_name(stream_id)
        if stream_id in self.playing:
            raise Refused("already_playing", stream_id)
        self._authorize(
            "play", stream_id, message.token, message.subscriber_id, message.subscriber_code
        )
        key = self.key(stream_id)
        stream = self.hub.find_stream(key)
        room = self.hub.rooms.get(key)
        if (stream is None or stream.state is StreamState.ENDED) and room is not None:
            await self._play_room(message, key)
            return
        limit = self.settings.max_viewers_per_stream
        if limit and stream is not None and len(stream.subscriptions) >= limit:
            raise Refused("viewerLimitReached", stream_id)
        try:
            subscription = await self.session.subscribe(stream_id)
        except errors.DomainError as exc:
            raise refusal_for(exc, stream_id, "play") from None
        playing = Playing(stream_id, subscription)
        self.playing[stream_id] = playing
        self.log.info("play_accepted", stream=stream_id)
        await self._offer(playing, candidates=True)
        self.tasks.spawn(self._watch_play(playing), name=f"play:{stream_id}")

    async def _play_room(self, message: codec.Play, room: StreamKey) -> None:
        tracks = message.track_list or ()
        excluded = {t[1:] for t in tracks if t.startswith("!")}
        only = {t for t in tracks if t and not t.startswith("!")}
        if message.user_publish_id:
            excluded.add(message.user_publish_id)
        playing = Playing(message.stream_id, None, room=room, excluded=excluded, only=only)
        self.playing[message.stream_id] = playing
        self.log.info("room_play_accepted", stream=message.stream_id, excluded=len(excluded))
        await self.sync_room_play(playing)

    def _wanted(self, playing: Playing) -> list[Stream]:
        assert playing.room is not None
        room = self.hub.rooms.get(playing.room)
        if room is None:
            return []
        disabled = self.dialect.disabled_tracks.get(playing.room, set())
        return [
            s
            for s in room.live_streams()
            if s.name not in playing.excluded
            and s.name not in disabled
            and (not playing.only or s.name in playing.only)
            and s.session is not self.session
        ]

    async def sync_room_play(self, playing: Playing, *, offer: bool = False) -> None:
        """Make a room play carry the wanted member streams, and offer again if it changed.

        A stream is added per negotiation: the next one waits for the answer to the offer
        that carries the previous one (the forwarding plane starts a source's video only
        when its transceiver was negotiated on a connection that already carried another).
        """
        if playing.closed:
            return
        wanted = self._wanted(playing)
        if playing.subscription is None:
            if not wanted:
                return  # nothing to offer yet: the offer goes out with the first stream
            try:
                playing.subscription = await self.session.subscribe(
                    [wanted[0].name], persistent=True
                )
            except errors.DomainError as exc:
                self.log.info("room_play_failed", stream=playing.stream_id, error=exc.code)
                return
            if playing.closed:
                await playing.subscription.close("closed")
                return
            playing.dirty = len(wanted) > 1
            self.tasks.spawn(self._watch_play(playing), name=f"play:{playing.stream_id}")
            await self._offer(playing, candidates=True)
            return
        subscription = playing.subscription
        changed = offer
        for stream in tuple(subscription.streams):
            if stream not in wanted:
                subscription.remove_stream(stream, "excluded")
                changed = True
        missing = [s for s in wanted if s not in subscription.streams]
        if missing and playing.awaiting_answer:
            playing.dirty = True
        elif missing:
            try:
                subscription.add_stream(missing[0])
                changed = True
            except errors.DomainError as exc:
                self.log.info("room_track_failed", stream=missing[0].name, error=exc.code)
            playing.dirty = playing.dirty or len(missing) > 1
        if changed:
            await self._offer(playing, candidates=False)

    async def _offer(self, playing: Playing, *, candidates: bool) -> None:
        """Send a (re)offer for ``playing``, or mark it due when an answer is awaited."""
        subscription = playing.subscription
        if subscription is None or playing.closed:
            return
        async with playing.lock:
            if playing.awaiting_answer:
                playing.dirty = True
                return
            endpoint = subscription.endpoint
            try:
                sdp = await endpoint.create_offer()
            except errors.DomainError as exc:
                self.log.warning("offer_failed", stream=playing.stream_id, error=exc.code)
                self.send(codec.Error("notSetLocalDescription", stream_id=playing.stream_id))
                return
            playing.awaiting_answer = True
            # Ant Media names a track ARDAMSv<streamId> / ARDAMSa<streamId>; conference apps
            # strip the seven characters of that prefix to find the member.
            mapping = {
                mid: f"ARDAMS{kind[0]}{stream.name}"
                for stream in subscription.streams
                for mid, kind in endpoint.kinds_of(stream.endpoint).items()
            }
            self.send(codec.TakeConfiguration(playing.stream_id, "offer", sdp, mapping))
            if candidates:
                self._send_candidates(playing.stream_id, endpoint.local_candidates())

    def _send_candidates(self, stream_id: str, candidates: list[LocalCandidate]) -> None:
        for c in candidates:
            self.send(
                codec.TakeCandidate(
                    stream_id, c.candidate, c.sdp_mline_index or 0, c.sdp_mid or "0"
                )
            )

    async def _watch_play(self, playing: Playing) -> None:
        subscription = playing.subscription
        assert subscription is not None
        await subscription.endpoint.first_media_sent.wait()
        if not playing.closed and not playing.started:
            playing.started = True
            self.log.info("play_started", stream=playing.stream_id)
            self.send(codec.PlayStarted(playing.stream_id))
        interval = self.settings.bitrate_measurement_interval_s
        while interval and not playing.closed:
            await asyncio.sleep(interval)
            if playing.closed or playing.subscription is None:
                return
            self.send(self._bitrate(playing))

    def _bitrate(self, playing: Playing) -> codec.BitrateMeasurement:
        assert playing.subscription is not None
        sent = playing.subscription.endpoint.stats()
        video = sent["video"].bitrate_bps if "video" in sent else 0
        audio = sent["audio"].bitrate_bps if "audio" in sent else 0
        target = 0
        for stream in playing.subscription.streams:
            target += sum(s.bitrate_bps for s in stream.stats().values())
        return codec.BitrateMeasurement(playing.stream_id, max(target, video + audio), video, audio)

    # -- negotiation ---------------------------------------------------------------------------

    async def take_configuration(self, message: codec.TakeConfiguration) -> None:
        stream_id = message.stream_id
        if stream_id in self.p2p:
            self.dialect.p2p.relay(self, message)
            return
        publishing = self.publishing.get(stream_id)
        if publishing is not None and message.type == "offer":
            endpoint = publishing.publication.endpoint
            try:
                answer = await endpoint.accept_offer(message.sdp)
            except errors.CodecNotSupported:
                raise Refused("no_codec_enabled_in_the_server", stream_id) from None
            except errors.DomainError as exc:
                self.log.debug("offer_refused", stream=stream_id, error=str(exc))
                raise Refused("notSetRemoteDescription", stream_id) from None
            publishing.answered = True
            self.send(codec.TakeConfiguration(stream_id, "answer", answer))
            self._send_candidates(stream_id, endpoint.local_candidates())
            return
        playing = self.playing.get(stream_id)
        if playing is not None and message.type == "answer" and playing.subscription is not None:
            async with playing.lock:
                try:
                    await playing.subscription.endpoint.accept_answer(message.sdp)
                except errors.DomainError as exc:
                    self.log.debug("answer_refused", stream=stream_id, error=str(exc))
                    raise Refused("notSetRemoteDescription", stream_id) from None
                finally:
                    playing.awaiting_answer = False
            if playing.dirty:
                playing.dirty = False
                self.tasks.spawn(self._after_answer(playing))
            return
        self.log.debug("configuration_ignored", stream=stream_id, type=message.type)

    async def _after_answer(self, playing: Playing) -> None:
        if playing.room is not None:
            await self.sync_room_play(playing, offer=True)
        else:
            await self._offer(playing, candidates=False)

    async def take_candidate(self, message: codec.TakeCandidate) -> None:
        stream_id = message.stream_id
        if stream_id in self.p2p:
            self.dialect.p2p.relay(self, message)
            return
        endpoint: Endpoint | None = None
        if stream_id in self.publishing:
            endpoint = self.publishing[stream_id].publication.endpoint
        elif stream_id in self.playing and self.playing[stream_id].subscription is not None:
            subscription = self.playing[stream_id].subscription
            assert subscription is not None
            endpoint = subscription.endpoint
        if endpoint is None:
            return
        try:
            await endpoint.add_remote_candidate(
                message.candidate, sdp_mid=message.id, sdp_mline_index=message.label
            )
        except errors.DomainError as exc:
            self.log.debug("candidate_ignored", stream=stream_id, error=str(exc))

    # -- stop ----------------------------------------------------------------------------------

    async def stop_stream(self, stream_id: str) -> None:
        if stream_id in self.p2p:
            self.dialect.p2p.leave(self, stream_id)
            return
        publishing = self.publishing.get(stream_id)
        if publishing is not None:
            await publishing.publication.close("stopped")
            self._publication_gone(publishing)
        playing = self.playing.get(stream_id)
        if playing is not None:
            await self._end_play(playing, "stopped")

    def _publication_gone(self, publishing: Publishing) -> None:
        if self.publishing.get(publishing.stream_id) is publishing:
            del self.publishing[publishing.stream_id]
            self.send(codec.PublishFinished(publishing.stream_id))
            self.log.info("publish_finished", stream=publishing.stream_id)

    async def _end_play(self, playing: Playing, reason: str) -> None:
        if playing.closed:
            return
        playing.closed = True
        if self.playing.get(playing.stream_id) is playing:
            del self.playing[playing.stream_id]
        if playing.subscription is not None:
            await playing.subscription.close(reason)
        self.send(codec.PlayFinished(playing.stream_id))
        self.log.info("play_finished", stream=playing.stream_id, reason=reason)

    # -- conference ----------------------------------------------------------------------------

    def join_room(self, message: codec.JoinRoom) -> None:
        room = message.room
        if not room:
            raise Refused("no_room_specified")
        try:
            validate_stream_name(room)
        except errors.InvalidName:
            raise Refused("invalidStreamName", message.stream_id) from None
        member_id = message.stream_id or random_stream_id()
        self._check_name(member_id)
        if self.rooms.get(room) not in (None, member_id):
            self.session.leave_room(room)
        try:
            self.session.join_room(room, member_id)
        except errors.DomainError as exc:
            raise refusal_for(exc, member_id, "publish") from None
        self.rooms[room] = member_id
        streams = [s.name for s in self._room_streams(room) if s.name != member_id]
        self.log.info("room_joined", room=room, stream=member_id, streams=len(streams))
        self.send(
            codec.JoinedTheRoom(
                member_id,
                room,
                room,
                tuple(streams),
                tuple(self._room_stream(n) for n in streams),
            )
        )

    def _room_streams(self, room: str) -> list[Stream]:
        found = self.hub.rooms.get(self.key(room))
        return found.live_streams() if found is not None else []

    def _room_stream(self, name: str) -> codec.RoomStream:
        stream = self.hub.find_stream(self.key(name))
        label = stream.app_data.get("streamName") if stream is not None else None
        return codec.RoomStream(name, label if isinstance(label, str) else None)

    async def leave_room(self, room: str) -> None:
        member_id = self.rooms.pop(room, None)
        if member_id is not None:
            publishing = self.publishing.get(member_id)
            if publishing is not None:
                await publishing.publication.close("left_room")
                self._publication_gone(publishing)
        for playing in [p for p in self.playing.values() if p.room == self.key(room)]:
            await self._end_play(playing, "left_room")
        self.session.leave_room(room)
        self.log.info("room_left", room=room, stream=member_id)
        self.send(codec.LeavedFromRoom(room, room))

    def room_information(self, room: str, stream_id: str | None) -> codec.RoomInformation:
        names = [s.name for s in self._room_streams(room) if s.name != stream_id]
        return codec.RoomInformation(room, tuple(names), tuple(self._room_stream(n) for n in names))

    def track_list(self, stream_id: str) -> codec.Message:
        if self.key(stream_id) in self.hub.rooms:
            return codec.TrackList(stream_id, tuple(s.name for s in self._room_streams(stream_id)))
        stream = self.hub.find_stream(self.key(stream_id))
        if stream is not None and stream.live:
            return codec.TrackList(stream_id, ())
        return codec.Error("no_stream_exist", stream_id=stream_id, error_code="404")

    def broadcast_object(self, stream_id: str) -> codec.Message:
        return self.dialect.broadcast_object(self.key(stream_id))

    # -- stream info and toggles ---------------------------------------------------------------

    def stream_information(self, stream_id: str) -> codec.Message:
        stream = self.hub.find_stream(self.key(stream_id))
        if stream is None or not stream.live:
            return codec.Error("no_stream_exist", stream_id=stream_id, error_code="404")
        stats = stream.stats()
        video = stats.get("video")
        audio = stats.get("audio")
        info = codec.StreamInfo(
            stream_width=(video.width or 0) if video else 0,
            stream_height=(video.height or 0) if video else 0,
            video_bitrate=video.bitrate_bps if video else 0,
            audio_bitrate=audio.bitrate_bps if audio else 0,
            video_codec=video.codec if video else None,
        )
        return codec.StreamInformation(stream_id, (info,))

    def toggle(self, message: codec.ToggleVideo | codec.ToggleAudio) -> None:
        kind = "video" if isinstance(message, codec.ToggleVideo) else "audio"
        playing = self.playing.get(message.stream_id)
        if playing is None or playing.subscription is None:
            return
        source = None
        track = message.track_id
        if track and track != message.stream_id:
            for stream in playing.subscription.streams:
                if stream.name == track:
                    source = stream.endpoint
            if source is None:
                return
        playing.subscription.endpoint.set_enabled(kind, message.enabled, source)
        self.log.info("track_toggled", stream=message.stream_id, kind=kind, enabled=message.enabled)

    # -- events --------------------------------------------------------------------------------

    def _on_event(self, event: events.Event) -> None:
        """Events about this session's own publications, subscriptions and rooms."""
        match event:
            case events.StreamLive(key=key):
                publishing = self.publishing.get(key.name)
                if publishing is not None and not publishing.started:
                    publishing.started = True
                    self.log.info("publish_started", stream=key.name)
                    self.send(codec.PublishStarted(key.name))
            case events.StreamEnded(key=key):
                publishing = self.publishing.get(key.name)
                if publishing is not None and publishing.publication.stream.key == key:
                    self._publication_gone(publishing)
            case events.SubscriptionEnded(subscription_id=sid, reason=reason):
                for playing in list(self.playing.values()):
                    sub = playing.subscription
                    if sub is not None and sub.id == sid and not playing.closed:
                        self.tasks.spawn(self._end_play(playing, reason))
            case events.SubscriptionStreamRemoved(subscription_id=sid):
                for playing in list(self.playing.values()):
                    sub = playing.subscription
                    if sub is not None and sub.id == sid and playing.room is not None:
                        self.tasks.spawn(self._offer(playing, candidates=False))
            case events.RoomStreamAdded(room=room, stream=key):
                if room.name in self.rooms and self.rooms[room.name] != key.name:
                    self.send(codec.StreamJoined(key.name, room.name))
            case events.RoomStreamRemoved(room=room, stream=key):
                if room.name in self.rooms and self.rooms[room.name] != key.name:
                    self.send(codec.StreamLeaved(key.name, room.name))
            case _:
                pass

    def _on_bus_event(self, event: events.Event) -> None:
        """Room streams coming and going, for the rooms this connection plays."""
        if isinstance(event, events.RoomStreamAdded):
            for playing in list(self.playing.values()):
                if playing.room == event.room:
                    self.tasks.spawn(self.sync_room_play(playing))

    def resync_room(self, room: StreamKey) -> None:
        for playing in list(self.playing.values()):
            if playing.room == room:
                self.tasks.spawn(self.sync_room_play(playing))

    # -- closing -------------------------------------------------------------------------------

    async def close(self, reason: str = "disconnected") -> None:
        if self.closed:
            return
        self.closed = True
        self._unsubscribe()
        for playing in self.playing.values():
            playing.closed = True
        self.dialect.p2p.forget(self)
        await self.tasks.cancel_all()
        await self.session.close(reason)
