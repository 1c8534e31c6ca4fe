"""Rooms: named sets of members, each of whom may publish one stream (conference, P2P pairs).

A room on this node knows its local members; a :class:`RoomDirectory` shares the membership
with other nodes (a cluster) and tells the room of the members that sit elsewhere
(:meth:`Room.remote_member`, :meth:`Room.remote_member_gone`). A remote member's stream is
brought here through the hub's stream resolver when it goes live, and from then on it is a
local stream like any other: :meth:`Room.live_streams` and the room's events include it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import structlog

from core import events
from core.errors import DomainError, LimitReached, NameInUse
from core.names import StreamKey, validate_stream_name

if TYPE_CHECKING:
    from core.hub import Hub
    from core.session import Session
    from core.stream import Stream

log = structlog.get_logger(__name__)


class MemberState(enum.StrEnum):
    """What a room directory is told of a local member."""

    JOINED = "joined"  # a member, its stream not live
    LIVE = "live"  # a member whose stream is live on this node
    LEFT = "left"


class RoomDirectory(Protocol):
    """Shares room membership between nodes; :class:`LocalRooms` serves a gateway alone.

    Every method is called on the event loop and must be cheap: an implementation with I/O to
    do queues it. From :meth:`room_opened` until :meth:`room_closed`, the implementation tells
    the room of members on other nodes through :meth:`Room.remote_member` and
    :meth:`Room.remote_member_gone`.
    """

    def room_opened(self, room: Room) -> None:
        """``room`` now has a member on this node."""
        ...

    def room_closed(self, room: Room) -> None:
        """``room``'s last member on this node left."""
        ...

    def member_changed(self, room: StreamKey, member_id: str, state: MemberState) -> None:
        """A member on this node joined, left, or its stream went live or ended."""
        ...


class LocalRooms:
    """The room directory of a gateway that runs alone: every member is local."""

    def room_opened(self, room: Room) -> None:
        pass

    def room_closed(self, room: Room) -> None:
        pass

    def member_changed(self, room: StreamKey, member_id: str, state: MemberState) -> None:
        pass


@dataclass(eq=False)
class RoomMember:
    member_id: str
    session: Session

    @property
    def stream_key(self) -> StreamKey:
        return StreamKey(self.session.namespace, self.member_id)


@dataclass(eq=False)
class RemoteMember:
    """A member on another node. ``announced``: this node's members were told its stream
    was added (its copy here went live) and not yet that it was removed."""

    member_id: str
    node_id: str
    stream_key: StreamKey
    live: bool = False
    announced: bool = False


class Room:
    """Members and their streams. Members hear of each other's arrivals, departures and
    streams going live or ending; the room disappears with its last local member."""

    def __init__(self, hub: Hub, key: StreamKey, *, max_members: int = 0) -> None:
        self.hub = hub
        self.key = key
        self.max_members = max_members
        self.members: dict[str, RoomMember] = {}
        self.remote: dict[str, RemoteMember] = {}

    @property
    def name(self) -> str:
        return self.key.name

    def live_streams(self) -> list[Stream]:
        """The live streams of the members here, in join order, then those of the members on
        other nodes whose streams have been brought here."""
        found = []
        for member in self.members.values():
            stream = self.hub.streams_by_key.get(member.stream_key)
            if stream is not None and stream.live:
                found.append(stream)
        for remote in self.remote.values():
            stream = self.hub.streams_by_key.get(remote.stream_key)
            if remote.announced and stream is not None and stream.live:
                found.append(stream)
        return found

    def join(self, session: Session, member_id: str) -> RoomMember:
        validate_stream_name(member_id)
        existing = self.members.get(member_id)
        if existing is not None:
            if existing.session is session:
                return existing
            raise NameInUse(f"{member_id!r} is already a member of room {self.name!r}")
        if member_id in self.remote:
            raise NameInUse(f"{member_id!r} is already a member of room {self.name!r}")
        if self.max_members and len(self.members) + len(self.remote) >= self.max_members:
            raise LimitReached(f"room {self.name!r} is full")
        member = RoomMember(member_id, session)
        self.members[member_id] = member
        self._tell(events.RoomMemberJoined(self.key, member_id, session.id))
        stream = self.hub.streams_by_key.get(member.stream_key)
        live = stream is not None and stream.live and stream.session is session
        state = MemberState.LIVE if live else MemberState.JOINED
        self.hub.room_directory.member_changed(self.key, member_id, state)
        return member

    def leave_session(self, session: Session) -> None:
        for member in [m for m in self.members.values() if m.session is session]:
            del self.members[member.member_id]
            self._tell(events.RoomMemberLeft(self.key, member.member_id, session.id), member)
            self.hub.room_directory.member_changed(self.key, member.member_id, MemberState.LEFT)
        if not self.members:
            self.hub.drop_room(self)

    def member_for(self, stream_key: StreamKey) -> RoomMember | None:
        member = self.members.get(stream_key.name)
        if member is not None and member.stream_key == stream_key:
            return member
        return None

    def remote_member_for(self, stream_key: StreamKey) -> RemoteMember | None:
        remote = self.remote.get(stream_key.name)
        if remote is not None and remote.stream_key == stream_key:
            return remote
        return None

    def _tell(self, event: events.Event, also: RoomMember | None = None) -> None:
        targets = list(self.members.values())
        if also is not None:
            targets.append(also)
        for member in targets:
            member.session.notify(event)
        self.hub.bus.publish(event)

    def stream_went_live(self, member: RoomMember, stream: Stream) -> None:
        self._tell(events.RoomStreamAdded(self.key, stream.key, member.member_id))
        self.hub.room_directory.member_changed(self.key, member.member_id, MemberState.LIVE)

    def stream_ended(self, member: RoomMember, key: StreamKey) -> None:
        self._tell(events.RoomStreamRemoved(self.key, key, member.member_id))
        if member.member_id in self.members:
            self.hub.room_directory.member_changed(self.key, member.member_id, MemberState.JOINED)

    # -- members on other nodes (told by the room directory) -----------------------------------

    def remote_member(self, member_id: str, node_id: str, *, live: bool) -> None:
        """``member_id`` is a member on ``node_id``; ``live``: its stream is live there. A
        stream that goes live is brought here (the hub's resolver); its members hear of it
        once its copy here is live. Joins and departures of remote members are told with an
        empty ``session_id``."""
        if member_id in self.members:
            return  # the name is taken here; the first to join keeps it
        remote = self.remote.get(member_id)
        if remote is None:
            key = StreamKey(self.key.namespace, member_id)
            remote = self.remote[member_id] = RemoteMember(member_id, node_id, key)
            self._tell(events.RoomMemberJoined(self.key, member_id, ""))
        remote.node_id = node_id
        was_live, remote.live = remote.live, live
        if live and not was_live:
            stream = self.hub.streams_by_key.get(remote.stream_key)
            if stream is not None and stream.live:
                self.remote_stream_live(remote)
            else:
                self.hub.tasks.spawn(self._fetch(remote), name=f"room-fetch:{remote.stream_key}")
        elif not live:
            self.remote_stream_ended(remote)

    def remote_member_gone(self, member_id: str) -> None:
        remote = self.remote.pop(member_id, None)
        if remote is None:
            return
        remote.live = False
        self.remote_stream_ended(remote)
        self._tell(events.RoomMemberLeft(self.key, member_id, ""))

    def remote_stream_live(self, remote: RemoteMember) -> None:
        if remote.live and not remote.announced and self.remote.get(remote.member_id) is remote:
            remote.announced = True
            self._tell(events.RoomStreamAdded(self.key, remote.stream_key, remote.member_id))

    def remote_stream_ended(self, remote: RemoteMember) -> None:
        if remote.announced:
            remote.announced = False
            self._tell(events.RoomStreamRemoved(self.key, remote.stream_key, remote.member_id))

    async def _fetch(self, remote: RemoteMember) -> None:
        try:
            stream = await self.hub.resolve_stream(remote.stream_key)
        except DomainError as exc:
            log.info(
                "room_stream_unavailable",
                room=str(self.key),
                stream=remote.member_id,
                error=exc.code,
            )
            return
        if stream.live:
            self.remote_stream_live(remote)
