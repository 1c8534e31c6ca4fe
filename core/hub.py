"""The neutral core's entry point: sessions, streams, rooms, the directory and the bus."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog

from core import events
from core.directory import InMemoryDirectory, StreamDirectory, StreamResolver
from core.errors import LimitReached, RoomNotFound, StreamNotFound
from core.names import DEFAULT_NAMESPACE, StreamKey
from core.room import LocalRooms, Room, RoomDirectory
from core.session import Session
from core.stream import Stream, StreamState
from core.tasks import TaskOwner

if TYPE_CHECKING:
    from core.media import MediaEngine

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class Limits:
    """Gateway-wide limits; 0 means no limit."""

    max_sessions: int = 0
    max_streams: int = 0
    max_subscribers_per_stream: int = 0


class Hub:
    """Owns every session of one gateway process and what they share."""

    def __init__(
        self,
        *,
        media: MediaEngine,
        directory: StreamDirectory | None = None,
        bus: events.EventBus | None = None,
        limits: Limits | None = None,
        node_id: str | None = None,
    ) -> None:
        self.media = media
        self.directory: StreamDirectory = directory or InMemoryDirectory()
        self.bus = bus or events.EventBus()
        self.limits = limits or Limits()
        self.node_id = node_id or secrets.token_hex(4)
        self.tasks = TaskOwner("hub")
        #: Serves streams published on other nodes (set by a cluster); ``None`` alone.
        self.resolver: StreamResolver | None = None
        #: Shares room membership with other nodes (replaced by a cluster).
        self.room_directory: RoomDirectory = LocalRooms()
        self.sessions: dict[str, Session] = {}
        self.streams_by_key: dict[StreamKey, Stream] = {}
        self.rooms: dict[StreamKey, Room] = {}
        self.closed = False
        self.bus.subscribe(self._route_to_rooms)

    # -- sessions ----------------------------------------------------------------------------

    def open_session(
        self,
        *,
        dialect: str,
        namespace: str = DEFAULT_NAMESPACE,
        remote: str | None = None,
        app_data: dict[str, Any] | None = None,
    ) -> Session:
        limit = self.limits.max_sessions
        if limit and len(self.sessions) >= limit:
            raise LimitReached(f"at most {limit} sessions may be open")
        session = Session(
            self, dialect=dialect, namespace=namespace, remote=remote, app_data=app_data
        )
        self.sessions[session.id] = session
        self.bus.publish(events.SessionOpened(session.id, dialect, namespace))
        return session

    def forget_session(self, session: Session) -> None:
        self.sessions.pop(session.id, None)

    # -- streams -----------------------------------------------------------------------------

    def streams(self, namespace: str | None = None) -> list[Stream]:
        return [s for s in self.streams_by_key.values() if namespace in (None, s.namespace)]

    def find_stream(self, key: StreamKey) -> Stream | None:
        return self.streams_by_key.get(key)

    def get_stream(self, key: StreamKey, *, require_live: bool = True) -> Stream:
        stream = self.streams_by_key.get(key)
        if stream is None or stream.state is StreamState.ENDED:
            raise StreamNotFound(f"stream {key.name!r} is not published", key=str(key))
        if require_live and stream.state is not StreamState.LIVE:
            raise StreamNotFound(f"stream {key.name!r} is not live yet", key=str(key), pending=True)
        return stream

    async def resolve_stream(self, key: StreamKey, *, require_live: bool = True) -> Stream:
        """:meth:`get_stream`, or else the stream the :attr:`resolver` brings from another
        node; raises :class:`StreamNotFound` when neither has it."""
        try:
            return self.get_stream(key, require_live=require_live)
        except StreamNotFound:
            if self.resolver is None or key in self.streams_by_key:
                raise
            stream = await self.resolver.resolve(key)
            if stream is None or stream.state is StreamState.ENDED:
                raise
            return stream

    # -- rooms -------------------------------------------------------------------------------

    def room(self, key: StreamKey, *, create: bool = True) -> Room:
        room = self.rooms.get(key)
        if room is None:
            if not create:
                raise RoomNotFound(f"room {key.name!r} does not exist")
            room = self.rooms[key] = Room(self, key)
            self.room_directory.room_opened(room)
        return room

    def drop_room(self, room: Room) -> None:
        if self.rooms.get(room.key) is room:
            del self.rooms[room.key]
            self.room_directory.room_closed(room)

    def _route_to_rooms(self, event: events.Event) -> None:
        if isinstance(event, events.StreamLive):
            stream = self.streams_by_key.get(event.key)
            for room in tuple(self.rooms.values()):
                member = room.member_for(event.key)
                if member is not None and stream is not None:
                    room.stream_went_live(member, stream)
                remote = room.remote_member_for(event.key)
                if remote is not None:
                    room.remote_stream_live(remote)
        elif isinstance(event, events.StreamEnded) and event.was_live:
            for room in tuple(self.rooms.values()):
                member = room.member_for(event.key)
                if member is not None:
                    room.stream_ended(member, event.key)
                remote = room.remote_member_for(event.key)
                if remote is not None:
                    room.remote_stream_ended(remote)

    # -- lifetime ----------------------------------------------------------------------------

    async def close(self, reason: str = "shutdown") -> None:
        """Close every session, then the media engine and the directory (idempotent)."""
        if self.closed:
            return
        self.closed = True
        await asyncio.gather(
            *(s.close(reason) for s in tuple(self.sessions.values())), return_exceptions=True
        )
        await self.tasks.cancel_all()
        await self.media.close()
        await self.directory.close()
