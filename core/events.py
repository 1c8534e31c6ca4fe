"""Typed domain events and the bus that carries them.

The owner of an object (the session that published a stream, the session that subscribed)
receives the events about its own objects through :meth:`core.session.Session.on_event`;
everybody else — REST, metrics, webhooks, other dialects' notifications — observes the
:class:`EventBus`. Handlers run synchronously on the event loop and must be cheap: a handler
that has I/O to do queues it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from time import time
from typing import TypeVar

import structlog

from core.names import StreamKey

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Event:
    """Base of every domain event."""

    at: float = field(default_factory=time, kw_only=True)


@dataclass(frozen=True)
class SessionOpened(Event):
    session_id: str
    dialect: str
    namespace: str


@dataclass(frozen=True)
class SessionClosed(Event):
    session_id: str
    dialect: str
    reason: str


@dataclass(frozen=True)
class StreamPublished(Event):
    """A name was claimed; media has not flowed yet."""

    key: StreamKey
    session_id: str


@dataclass(frozen=True)
class StreamLive(Event):
    """The first media packet of a stream arrived."""

    key: StreamKey
    session_id: str


@dataclass(frozen=True)
class StreamEnded(Event):
    key: StreamKey
    session_id: str
    reason: str
    was_live: bool


@dataclass(frozen=True)
class SubscriberJoined(Event):
    key: StreamKey
    session_id: str
    subscription_id: str


@dataclass(frozen=True)
class SubscriberLeft(Event):
    key: StreamKey
    session_id: str
    subscription_id: str
    reason: str


@dataclass(frozen=True)
class SubscriptionEnded(Event):
    """A subscription closed; ``reason`` says why (``stream_ended`` when its stream went)."""

    subscription_id: str
    session_id: str
    keys: tuple[StreamKey, ...]
    reason: str


@dataclass(frozen=True)
class SubscriptionStreamRemoved(Event):
    """One stream of a multi-stream subscription ended; the subscription stays."""

    subscription_id: str
    session_id: str
    key: StreamKey


@dataclass(frozen=True)
class RoomMemberJoined(Event):
    room: StreamKey
    member_id: str
    session_id: str


@dataclass(frozen=True)
class RoomMemberLeft(Event):
    room: StreamKey
    member_id: str
    session_id: str


@dataclass(frozen=True)
class RoomStreamAdded(Event):
    """A stream of a room member went live."""

    room: StreamKey
    stream: StreamKey
    member_id: str


@dataclass(frozen=True)
class RoomStreamRemoved(Event):
    room: StreamKey
    stream: StreamKey
    member_id: str


E = TypeVar("E", bound=Event)
Handler = Callable[[Event], None]


class EventBus:
    """Delivers every event to every handler, in subscription order."""

    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        """Add ``handler``; returns the function that removes it again."""
        self._handlers.append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers:
                self._handlers.remove(handler)

        return unsubscribe

    def publish(self, event: Event) -> None:
        for handler in tuple(self._handlers):
            try:
                handler(event)
            except Exception:
                # One broken observer must not stop the others or the publisher.
                log.exception("event_handler_failed", event_type=type(event).__name__)
