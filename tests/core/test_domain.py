"""The domain model: names, ownership, cascading close, rooms, limits and events."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core import events
from core.errors import (
    AlreadyPlaying,
    AlreadyPublishing,
    InvalidName,
    LimitReached,
    NameInUse,
    SessionClosed,
    StreamNotFound,
)
from core.hub import Hub, Limits
from core.names import StreamKey
from core.stream import StreamState
from tests.core.fakes import FakeEngine, FakePublisher


def make_hub(**limits: int) -> tuple[Hub, FakeEngine]:
    engine = FakeEngine()
    hub = Hub(media=engine, limits=Limits(**limits), node_id="n1")  # type: ignore[arg-type]
    return hub, engine


async def until(predicate: Any, within: float = 2.0) -> None:
    """Let the hub's background tasks run until ``predicate`` holds (no fixed sleeps)."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - yields to the tasks under test, no delay
            await asyncio.sleep(0)


async def go_live(publication: Any) -> None:
    endpoint: FakePublisher = publication.endpoint
    endpoint.media_flowing.set()
    await until(lambda: publication.stream.state is StreamState.LIVE)


async def test_publish_claims_name_and_goes_live_when_media_flows() -> None:
    hub, _ = make_hub()
    seen: list[events.Event] = []
    hub.bus.subscribe(seen.append)
    session = hub.open_session(dialect="d")
    own: list[events.Event] = []
    session.on_event(own.append)

    publication = await session.publish("cam1")
    assert publication.stream.state is StreamState.PENDING
    with pytest.raises(StreamNotFound):
        hub.get_stream(StreamKey("default", "cam1"))
    await go_live(publication)

    assert hub.get_stream(StreamKey("default", "cam1")) is publication.stream
    assert [type(e) for e in own] == [events.StreamPublished, events.StreamLive]
    assert isinstance(seen[0], events.SessionOpened)
    assert await hub.directory.lookup(StreamKey("default", "cam1")) is not None


@pytest.mark.parametrize("name", ["", "a/b", "x" * 129, "-lead", "sp ace", None])
async def test_invalid_names_are_refused(name: Any) -> None:
    hub, _ = make_hub()
    with pytest.raises(InvalidName):
        await hub.open_session(dialect="d").publish(name)


async def test_a_name_is_published_once() -> None:
    hub, _ = make_hub()
    first = hub.open_session(dialect="d")
    await first.publish("cam1")
    with pytest.raises(AlreadyPublishing):
        await first.publish("cam1")
    with pytest.raises(NameInUse):
        await hub.open_session(dialect="e").publish("cam1")
    # Namespaces keep names apart.
    await hub.open_session(dialect="e", namespace="other").publish("cam1")


async def test_closing_a_session_cascades_to_streams_and_subscribers() -> None:
    hub, engine = make_hub()
    publisher = hub.open_session(dialect="d")
    publication = await publisher.publish("cam1")
    await go_live(publication)
    player = hub.open_session(dialect="e")
    player_events: list[events.Event] = []
    player.on_event(player_events.append)
    subscription = await player.subscribe("cam1")
    assert publication.stream.subscriptions == {subscription}

    await publisher.close("bye")
    await publisher.close("again")  # idempotent

    assert publication.stream.state is StreamState.ENDED
    await until(lambda: subscription.closed)
    ended = [e for e in player_events if isinstance(e, events.SubscriptionEnded)]
    assert ended and ended[0].reason == "stream_ended"
    assert ended[0].keys == (StreamKey("default", "cam1"),)
    assert not hub.streams()
    assert await hub.directory.lookup(StreamKey("default", "cam1")) is None
    assert player.subscriptions == {}
    assert publisher.id not in hub.sessions
    # The name is free again.
    await hub.open_session(dialect="d").publish("cam1")
    await hub.close()
    assert engine.endpoint_count == 0
    assert len(hub.tasks) == 0


async def test_a_failed_publisher_endpoint_ends_its_stream() -> None:
    hub, _ = make_hub()
    session = hub.open_session(dialect="d")
    publication = await session.publish("cam1")
    await go_live(publication)
    endpoint: FakePublisher = publication.endpoint
    endpoint.fail()
    await until(lambda: publication.closed and not hub.streams())
    assert publication.stream.ended_reason == "publisher_failed"


async def test_subscribe_errors() -> None:
    hub, _ = make_hub(max_subscribers_per_stream=1)
    session = hub.open_session(dialect="d")
    with pytest.raises(StreamNotFound):
        await session.subscribe("nothing")
    publication = await session.publish("cam1")
    with pytest.raises(StreamNotFound):  # not live yet
        await session.subscribe("cam1")
    await go_live(publication)
    await session.subscribe("cam1")
    with pytest.raises(AlreadyPlaying):
        await session.subscribe("cam1")
    with pytest.raises(LimitReached):
        await hub.open_session(dialect="e").subscribe("cam1")


async def test_limits_on_sessions_and_streams() -> None:
    hub, _ = make_hub(max_sessions=1, max_streams=1)
    session = hub.open_session(dialect="d")
    with pytest.raises(LimitReached):
        hub.open_session(dialect="d")
    await session.publish("a")
    with pytest.raises(LimitReached):
        await session.publish("b")
    await session.close()
    with pytest.raises(SessionClosed):
        await session.publish("c")


async def test_persistent_subscription_survives_its_streams() -> None:
    hub, _ = make_hub()
    a = hub.open_session(dialect="d")
    pub_a = await a.publish("a")
    await go_live(pub_a)
    player = hub.open_session(dialect="d")
    got: list[events.Event] = []
    player.on_event(got.append)
    subscription = await player.subscribe(["a"], persistent=True)
    await a.close()
    assert any(isinstance(e, events.SubscriptionStreamRemoved) for e in got)
    assert not subscription.closed and subscription.streams == []
    b = hub.open_session(dialect="d")
    pub_b = await b.publish("b")
    await go_live(pub_b)
    subscription.add_stream(pub_b.stream)
    assert subscription.keys == (StreamKey("default", "b"),)
    await player.close()
    assert subscription.closed and pub_b.stream.subscriptions == set()


async def test_room_members_hear_arrivals_streams_and_departures() -> None:
    hub, _ = make_hub()
    alice = hub.open_session(dialect="d")
    bob = hub.open_session(dialect="d")
    heard: list[events.Event] = []
    alice.on_event(heard.append)

    alice.join_room("room1", "alice")
    room = bob.join_room("room1", "bob")
    with pytest.raises(NameInUse):
        hub.open_session(dialect="d").join_room("room1", "bob")
    publication = await bob.publish("bob")
    await go_live(publication)
    assert room.live_streams() == [publication.stream]

    await bob.close()
    kinds = [type(e) for e in heard]
    assert kinds == [
        events.RoomMemberJoined,
        events.RoomMemberJoined,
        events.RoomStreamAdded,
        events.RoomStreamRemoved,
        events.RoomMemberLeft,
    ]
    assert list(room.members) == ["alice"]
    await alice.close()
    assert not hub.rooms


async def test_a_broken_observer_does_not_stop_the_others() -> None:
    bus = events.EventBus()
    seen: list[events.Event] = []

    def broken(event: events.Event) -> None:
        raise RuntimeError("observer bug")

    bus.subscribe(broken)
    unsubscribe = bus.subscribe(seen.append)
    bus.publish(events.SessionOpened("s", "d", "n"))
    unsubscribe()
    bus.publish(events.SessionOpened("s2", "d", "n"))
    assert len(seen) == 1
