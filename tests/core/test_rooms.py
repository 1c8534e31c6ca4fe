"""Rooms whose members sit on several nodes, through the core's room directory hook: a fake
directory records what the room reports, and a fake resolver stands in for the relay that
brings a remote member's stream here."""

from __future__ import annotations

import pytest

from core import events
from core.errors import NameInUse
from core.names import StreamKey
from core.room import LocalRooms, MemberState, Room
from core.stream import Stream
from tests.core.test_domain import go_live, make_hub, until


class RecordingRooms(LocalRooms):
    def __init__(self) -> None:
        self.opened: list[StreamKey] = []
        self.closed: list[StreamKey] = []
        self.changes: list[tuple[str, MemberState]] = []

    def room_opened(self, room: Room) -> None:
        self.opened.append(room.key)

    def room_closed(self, room: Room) -> None:
        self.closed.append(room.key)

    def member_changed(self, room: StreamKey, member_id: str, state: MemberState) -> None:
        self.changes.append((member_id, state))


async def test_local_members_are_reported_to_the_room_directory() -> None:
    hub, _ = make_hub()
    rooms = hub.room_directory = RecordingRooms()
    alice = hub.open_session(dialect="d")
    alice.join_room("room1", "alice")
    publication = await alice.publish("alice")
    await go_live(publication)
    await publication.close("done")
    await alice.close()
    assert rooms.opened == rooms.closed == [StreamKey("default", "room1")]
    assert rooms.changes == [
        ("alice", MemberState.JOINED),
        ("alice", MemberState.LIVE),
        ("alice", MemberState.JOINED),
        ("alice", MemberState.LEFT),
    ]


async def test_a_remote_member_stream_is_fetched_announced_and_removed() -> None:
    hub, _ = make_hub()
    relay_session = hub.open_session(dialect="relay")
    fetched: list[StreamKey] = []

    class Resolver:
        async def resolve(self, key: StreamKey) -> Stream | None:
            fetched.append(key)
            publication = await relay_session.publish(key.name, claim=False)
            await go_live(publication)
            return publication.stream

    hub.resolver = Resolver()
    alice = hub.open_session(dialect="d")
    heard: list[events.Event] = []
    alice.on_event(heard.append)
    room = alice.join_room("room1", "alice")

    room.remote_member("bob", "node-b", live=False)
    with pytest.raises(NameInUse):
        hub.open_session(dialect="d").join_room("room1", "bob")
    assert room.live_streams() == []
    room.remote_member("bob", "node-b", live=True)
    await until(lambda: len(room.live_streams()) == 1)
    assert fetched == [StreamKey("default", "bob")]
    assert room.live_streams()[0].key == StreamKey("default", "bob")

    room.remote_member_gone("bob")
    assert room.live_streams() == []
    kinds = [(type(e), getattr(e, "member_id", None)) for e in heard]
    assert kinds == [
        (events.RoomMemberJoined, "alice"),
        (events.RoomMemberJoined, "bob"),
        (events.RoomStreamAdded, "bob"),
        (events.RoomStreamRemoved, "bob"),
        (events.RoomMemberLeft, "bob"),
    ]
    # The copy ending later does not announce the removal twice.
    await relay_session.close()
    assert sum(isinstance(e, events.RoomStreamRemoved) for e in heard) == 1
    await alice.close()
    assert not hub.rooms
