"""Streams, and the two ways a session holds one: a publication or a subscription."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass, field
from time import time
from typing import TYPE_CHECKING, Any

import structlog

from core.names import StreamKey

if TYPE_CHECKING:
    from core.media import Publisher, Subscriber, TrackInfo, TrackStats
    from core.session import Session

log = structlog.get_logger(__name__)


def new_id() -> str:
    """An unguessable identifier for sessions, subscriptions and URLs."""
    return secrets.token_urlsafe(16)


class StreamState(enum.Enum):
    PENDING = "pending"
    LIVE = "live"
    ENDED = "ended"


@dataclass(eq=False)
class Stream:
    """A named publication: its publisher endpoint, tracks, subscribers and state."""

    key: StreamKey
    session: Session
    endpoint: Publisher
    app_data: dict[str, Any] = field(default_factory=dict)
    state: StreamState = StreamState.PENDING
    created_at: float = field(default_factory=time)
    live_at: float | None = None
    ended_reason: str | None = None
    subscriptions: set[Subscription] = field(default_factory=set)
    #: False for a copy of a stream that another node holds in the directory (a relay).
    claimed: bool = True

    @property
    def name(self) -> str:
        return self.key.name

    @property
    def namespace(self) -> str:
        return self.key.namespace

    @property
    def tracks(self) -> list[TrackInfo]:
        return list(self.endpoint.tracks)

    @property
    def live(self) -> bool:
        return self.state is StreamState.LIVE

    def kinds(self) -> set[str]:
        return {t.kind for t in self.endpoint.tracks}

    def stats(self) -> dict[str, TrackStats]:
        return self.endpoint.stats()


@dataclass(eq=False)
class Publication:
    """A session's hold on the stream it publishes; closing it ends the stream."""

    stream: Stream
    id: str = field(default_factory=new_id)
    closed: bool = False

    @property
    def endpoint(self) -> Publisher:
        return self.stream.endpoint

    async def close(self, reason: str = "closed") -> None:
        await self.stream.session.close_publication(self, reason)


@dataclass(eq=False)
class Subscription:
    """One subscriber endpoint of a session, fed by one or more streams.

    A ``persistent`` subscription (a conference member playing a room) stays open when its
    last stream ends, waiting for new ones; any other closes with its last stream.
    """

    session: Session
    endpoint: Subscriber
    persistent: bool = False
    app_data: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=new_id)
    streams: list[Stream] = field(default_factory=list)
    closed: bool = False

    @property
    def keys(self) -> tuple[StreamKey, ...]:
        return tuple(s.key for s in self.streams)

    def add_stream(self, stream: Stream) -> list[str]:
        """Feed ``stream`` to this subscription; returns the mids it will use. The caller
        renegotiates (``endpoint.create_offer()``) when the endpoint is already connected."""
        return self.session.add_stream_to(self, stream)

    def remove_stream(self, stream: Stream, reason: str = "removed") -> None:
        self.session.remove_stream_from(self, stream, reason)

    async def close(self, reason: str = "closed") -> None:
        await self.session.close_subscription(self, reason)


__all__ = [
    "Publication",
    "Stream",
    "StreamState",
    "Subscription",
    "new_id",
]
