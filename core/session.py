"""A client's signalling conversation and everything it owns.

A session owns its publications and subscriptions; closing it closes them (idempotent,
cascading). A stream that ends tells the sessions subscribed to it. The session's owner (the
dialect's connection) receives the events about its own objects through :meth:`on_event`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from time import time
from typing import TYPE_CHECKING, Any

import structlog

from core import events
from core.errors import (
    AlreadyPlaying,
    AlreadyPublishing,
    LimitReached,
    NameInUse,
    SessionClosed,
    StreamNotFound,
)
from core.names import StreamKey, validate_stream_name
from core.stream import Publication, Stream, StreamState, Subscription, new_id

if TYPE_CHECKING:
    from core.hub import Hub
    from core.room import Room

log = structlog.get_logger(__name__)

EventHandler = Callable[[events.Event], None]


class Session:
    def __init__(
        self,
        hub: Hub,
        *,
        dialect: str,
        namespace: str,
        remote: str | None = None,
        app_data: dict[str, Any] | None = None,
    ) -> None:
        self.hub = hub
        self.id = new_id()
        self.dialect = dialect
        self.namespace = namespace
        self.remote = remote
        self.app_data: dict[str, Any] = app_data or {}
        self.created_at = time()
        self.closed = False
        self.close_reason: str | None = None
        self.publications: dict[str, Publication] = {}  # by stream name
        self.subscriptions: dict[str, Subscription] = {}  # by subscription id
        self.rooms: dict[StreamKey, Room] = {}
        self._handlers: list[EventHandler] = []
        self.log = log.bind(session_id=self.id, dialect=dialect)

    # -- events ------------------------------------------------------------------------------

    def on_event(self, handler: EventHandler) -> None:
        """Receive the events about this session's own publications, subscriptions and rooms."""
        self._handlers.append(handler)

    def notify(self, event: events.Event) -> None:
        for handler in tuple(self._handlers):
            try:
                handler(event)
            except Exception:
                self.log.exception("session_event_handler_failed", event_type=type(event).__name__)

    def _emit(self, event: events.Event) -> None:
        self.notify(event)
        self.hub.bus.publish(event)

    def _check_open(self) -> None:
        if self.closed:
            raise SessionClosed("the session is closed")

    def key(self, name: str) -> StreamKey:
        return StreamKey(self.namespace, name)

    # -- publishing ----------------------------------------------------------------------------

    async def publish(
        self, name: str, *, app_data: dict[str, Any] | None = None, claim: bool = True
    ) -> Publication:
        """Claim ``name`` and create the publisher endpoint for it.

        ``claim=False`` publishes a copy of a stream another node holds in the directory (a
        cluster relay): the name is neither claimed nor released here.

        Raises :class:`InvalidName`, :class:`AlreadyPublishing` (this session publishes it
        already), :class:`NameInUse` (someone else does), :class:`LimitReached`.
        """
        self._check_open()
        validate_stream_name(name)
        if name in self.publications:
            raise AlreadyPublishing(f"this session already publishes {name!r}")
        hub = self.hub
        limit = hub.limits.max_streams
        if limit and len(hub.streams_by_key) >= limit:
            raise LimitReached(f"at most {limit} streams may be published")
        key = self.key(name)
        if key in hub.streams_by_key:
            raise NameInUse(f"stream {name!r} is already published", key=str(key))
        if claim:
            await hub.directory.claim(key, hub.node_id)
        try:
            self._check_open()
            endpoint = hub.media.publisher(name=str(key))
        except BaseException:
            if claim:
                await hub.directory.release(key, hub.node_id)
            raise
        stream = Stream(
            key=key, session=self, endpoint=endpoint, app_data=app_data or {}, claimed=claim
        )
        publication = Publication(stream)
        self.publications[name] = publication
        hub.streams_by_key[key] = stream
        endpoint.on_close(lambda reason: self._spawn_close_publication(publication, reason))
        hub.tasks.spawn(self._watch_live(publication), name=f"live:{key}")
        self._emit(events.StreamPublished(key, self.id))
        self.log.info("stream_published", stream=name)
        return publication

    async def _watch_live(self, publication: Publication) -> None:
        stream = publication.stream
        await stream.endpoint.media_flowing.wait()
        if publication.closed:
            return
        stream.state = StreamState.LIVE
        stream.live_at = time()
        self._emit(events.StreamLive(stream.key, self.id))
        self.log.info("stream_live", stream=stream.name)

    def _spawn_close_publication(self, publication: Publication, reason: str) -> None:
        if not publication.closed:
            self.hub.tasks.spawn(self.close_publication(publication, f"publisher_{reason}"))

    async def close_publication(self, publication: Publication, reason: str = "closed") -> None:
        if publication.closed:
            return
        publication.closed = True
        stream = publication.stream
        was_live = stream.state is StreamState.LIVE
        stream.state = StreamState.ENDED
        stream.ended_reason = reason
        self.publications.pop(stream.name, None)
        if self.hub.streams_by_key.get(stream.key) is stream:
            del self.hub.streams_by_key[stream.key]
        for subscription in tuple(stream.subscriptions):
            subscription.session.remove_stream_from(subscription, stream, "stream_ended")
        await stream.endpoint.close()
        if stream.claimed:
            await self.hub.directory.release(stream.key, self.hub.node_id)
        self._emit(events.StreamEnded(stream.key, self.id, reason, was_live))
        self.log.info("stream_ended", stream=stream.name, reason=reason)

    # -- subscribing ---------------------------------------------------------------------------

    async def subscribe(
        self,
        names: str | Sequence[str] = (),
        *,
        persistent: bool = False,
        require_live: bool = True,
        app_data: dict[str, Any] | None = None,
    ) -> Subscription:
        """Create a subscriber endpoint fed by the streams ``names``.

        Raises :class:`StreamNotFound` for a name that is not published (or, with
        ``require_live``, not live yet), :class:`AlreadyPlaying` when this session already
        has a subscription to exactly this stream, :class:`LimitReached` when a stream has
        its maximum of subscribers.
        """
        self._check_open()
        if isinstance(names, str):
            names = [names]
        streams = [
            await self.hub.resolve_stream(self.key(n), require_live=require_live) for n in names
        ]
        if len(streams) == 1 and not persistent:
            for existing in self.subscriptions.values():
                if existing.streams == streams and not existing.persistent:
                    raise AlreadyPlaying(f"this session already plays {names[0]!r}")
        endpoint = self.hub.media.subscriber(name=",".join(names) or "subscriber")
        subscription = Subscription(
            session=self, endpoint=endpoint, persistent=persistent, app_data=app_data or {}
        )
        try:
            for stream in streams:
                self.add_stream_to(subscription, stream)
        except BaseException:
            await endpoint.close()
            for stream in streams:
                stream.subscriptions.discard(subscription)
            raise
        self.subscriptions[subscription.id] = subscription
        endpoint.on_close(lambda reason: self._spawn_close_subscription(subscription, reason))
        return subscription

    def add_stream_to(self, subscription: Subscription, stream: Stream) -> list[str]:
        if stream.state is StreamState.ENDED:
            raise StreamNotFound(f"stream {stream.name!r} has ended")
        if stream in subscription.streams:
            return subscription.endpoint.mids_of(stream.endpoint)
        limit = self.hub.limits.max_subscribers_per_stream
        if limit and len(stream.subscriptions) >= limit:
            raise LimitReached(f"stream {stream.name!r} has its maximum of {limit} subscribers")
        mids = subscription.endpoint.attach(stream.endpoint)
        subscription.streams.append(stream)
        stream.subscriptions.add(subscription)
        self.hub.bus.publish(events.SubscriberJoined(stream.key, self.id, subscription.id))
        return mids

    def remove_stream_from(self, subscription: Subscription, stream: Stream, reason: str) -> None:
        if stream not in subscription.streams:
            return
        subscription.streams.remove(stream)
        stream.subscriptions.discard(subscription)
        if not subscription.endpoint.closed.is_set():
            subscription.endpoint.detach(stream.endpoint)
        self.hub.bus.publish(events.SubscriberLeft(stream.key, self.id, subscription.id, reason))
        if subscription.closed:
            return
        if subscription.streams or subscription.persistent:
            self.notify(events.SubscriptionStreamRemoved(subscription.id, self.id, stream.key))
        else:
            self._spawn_close_subscription(subscription, reason, keys=(stream.key,))

    def _spawn_close_subscription(
        self, subscription: Subscription, reason: str, keys: tuple[StreamKey, ...] = ()
    ) -> None:
        if not subscription.closed:
            self.hub.tasks.spawn(self.close_subscription(subscription, reason, keys=keys))

    async def close_subscription(
        self,
        subscription: Subscription,
        reason: str = "closed",
        *,
        keys: tuple[StreamKey, ...] = (),
    ) -> None:
        if subscription.closed:
            return
        subscription.closed = True
        keys = keys or subscription.keys
        for stream in tuple(subscription.streams):
            self.remove_stream_from(subscription, stream, reason)
        self.subscriptions.pop(subscription.id, None)
        await subscription.endpoint.close()
        self._emit(events.SubscriptionEnded(subscription.id, self.id, keys, reason))

    # -- rooms -------------------------------------------------------------------------------

    def join_room(self, name: str, member_id: str) -> Room:
        """Join room ``name`` as ``member_id`` (the name the member publishes under)."""
        self._check_open()
        room = self.hub.room(self.key(name))
        room.join(self, member_id)
        self.rooms[room.key] = room
        return room

    def leave_room(self, name: str) -> None:
        room = self.rooms.pop(self.key(name), None)
        if room is not None:
            room.leave_session(self)

    # -- closing -----------------------------------------------------------------------------

    async def close(self, reason: str = "closed") -> None:
        """Close everything this session owns, then the session (idempotent)."""
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        results = await asyncio.gather(
            *(p.close(reason) for p in tuple(self.publications.values())),
            *(s.close(reason) for s in tuple(self.subscriptions.values())),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                self.log.error("session_close_failed", exc_info=result)
        for room_key in tuple(self.rooms):
            self.leave_room(room_key.name)
        self.hub.forget_session(self)
        self._emit(events.SessionClosed(self.id, self.dialect, reason))
        self.log.info(
            "session_closed", reason=reason, duration_s=round(time() - self.created_at, 1)
        )
