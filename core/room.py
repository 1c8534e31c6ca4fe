"""Rooms: named sets of members, each of whom may publish one stream (conference, P2P pairs)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from core import events
from core.errors import LimitReached, NameInUse
from core.names import StreamKey, validate_stream_name

if TYPE_CHECKING:
    from core.hub import Hub
    from core.session import Session
    from core.stream import Stream


@dataclass(eq=False)
class RoomMember:
    member_id: str
    session: Session

    @property
    def stream_key(self) -> StreamKey:
        return StreamKey(self.session.namespace, self.member_id)


class Room:
    """Members and their streams. Members hear of each other's arrivals, departures and
    streams going live or ending; the room disappears with its last member."""

    def __init__(self, hub: Hub, key: StreamKey, *, max_members: int = 0) -> None:
        self.hub = hub
        self.key = key
        self.max_members = max_members
        self.members: dict[str, RoomMember] = {}

    @property
    def name(self) -> str:
        return self.key.name

    def live_streams(self) -> list[Stream]:
        """The live streams of the members, in join order."""
        found = []
        for member in self.members.values():
            stream = self.hub.streams_by_key.get(member.stream_key)
            if stream is not None and stream.live:
                found.append(stream)
        return found

    def join(self, session: Session, member_id: str) -> RoomMember:
        validate_stream_name(member_id)
        existing = self.members.get(member_id)
        if existing is not None:
            if existing.session is session:
                return existing
            raise NameInUse(f"{member_id!r} is already a member of room {self.name!r}")
        if self.max_members and len(self.members) >= self.max_members:
            raise LimitReached(f"room {self.name!r} is full")
        member = RoomMember(member_id, session)
        self.members[member_id] = member
        self._tell(events.RoomMemberJoined(self.key, member_id, session.id))
        return member

    def leave_session(self, session: Session) -> None:
        for member in [m for m in self.members.values() if m.session is session]:
            del self.members[member.member_id]
            self._tell(events.RoomMemberLeft(self.key, member.member_id, session.id), member)
        if not self.members:
            self.hub.drop_room(self)

    def member_for(self, stream_key: StreamKey) -> RoomMember | None:
        member = self.members.get(stream_key.name)
        if member is not None and member.stream_key == stream_key:
            return member
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

    def stream_ended(self, member: RoomMember, key: StreamKey) -> None:
        self._tell(events.RoomStreamRemoved(self.key, key, member.member_id))
