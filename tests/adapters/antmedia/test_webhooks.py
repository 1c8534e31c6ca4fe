"""Ant Media webhooks, received by a real aiohttp server on loopback."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

from adapters.antmedia.broadcasts import BroadcastRegistry
from adapters.antmedia.webhooks import AntMediaWebhooks, WebhookSettings
from core import events
from core.names import StreamKey

FORM = "application/x-www-form-urlencoded"


@dataclass
class Post:
    path: str
    content_type: str
    fields: dict[str, str]


@dataclass
class Receiver:
    """An HTTP server that records every POST and answers with the queued statuses (200 once
    they run out); ``gate`` holds every answer back while it is clear."""

    url: str = ""
    posts: asyncio.Queue[Post] = field(default_factory=asyncio.Queue)
    statuses: list[int] = field(default_factory=list)
    gate: asyncio.Event = field(default_factory=asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            fields = await request.json()
        else:
            fields = {k: str(v) for k, v in (await request.post()).items()}
        await self.posts.put(Post(request.path, request.content_type, fields))
        await self.gate.wait()
        return web.Response(status=self.statuses.pop(0) if self.statuses else 200, text="ok")

    async def next(self) -> Post:
        async with asyncio.timeout(5):
            return await self.posts.get()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    rec.gate.set()
    app = web.Application()
    app.router.add_post("/{tail:.*}", rec.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    rec.url = f"http://127.0.0.1:{port}"
    try:
        yield rec
    finally:
        rec.gate.set()
        await runner.cleanup()


def app_of(key: StreamKey) -> str | None:
    return "LiveApp" if key.namespace == "default" else None


@dataclass
class FakeStream:
    app_data: dict[str, Any]


class FakeHub:
    def __init__(self) -> None:
        self.streams: dict[StreamKey, FakeStream] = {}

    def find_stream(self, key: StreamKey) -> FakeStream | None:
        return self.streams.get(key)


def key(name: str, namespace: str = "default") -> StreamKey:
    return StreamKey(namespace, name)


def live(name: str, namespace: str = "default") -> events.StreamLive:
    return events.StreamLive(key(name, namespace), "session-1")


def ended(name: str, *, was_live: bool = True, namespace: str = "default") -> events.StreamEnded:
    return events.StreamEnded(key(name, namespace), "session-1", "stopped", was_live)


@pytest.fixture
async def bus() -> events.EventBus:
    return events.EventBus()


async def started(hooks: AntMediaWebhooks) -> AntMediaWebhooks:
    await hooks.start()
    return hooks


async def test_live_stream_started_and_ended_are_posted_as_forms(
    receiver: Receiver, bus: events.EventBus
) -> None:
    hub = FakeHub()
    hub.streams[key("cam1")] = FakeStream({"streamName": "Yard", "metaData": '{"a":1}'})
    hooks = await started(
        AntMediaWebhooks(
            WebhookSettings(url=f"{receiver.url}/hooks"),
            bus,
            app_of,
            hub=hub,  # type: ignore[arg-type]
        )
    )
    try:
        bus.publish(live("cam1"))
        first = await receiver.next()
        assert first == Post(
            "/hooks",
            FORM,
            {
                "action": "liveStreamStarted",
                "id": "cam1",
                "streamName": "Yard",
                "metadata": '{"a":1}',
            },
        )
        del hub.streams[key("cam1")]  # the hub forgets a stream before StreamEnded
        bus.publish(ended("cam1"))
        second = await receiver.next()
        assert second.fields == {
            "action": "liveStreamEnded",
            "id": "cam1",
            "streamName": "Yard",
            "metadata": '{"a":1}',
        }
    finally:
        await hooks.stop()
    assert hooks.delivered == 2


async def test_registered_broadcast_fields_and_its_own_hook_url(
    receiver: Receiver, bus: events.EventBus
) -> None:
    registry = BroadcastRegistry()
    registry.create(
        "LiveApp",
        stream_id="cam1",
        name="Front door",
        category="doors",
        metaData="m",
        listenerHookURL=f"{receiver.url}/own",
    )
    registry.create("LiveApp", stream_id="cam2", name=None)
    hooks = await started(
        AntMediaWebhooks(
            WebhookSettings(url=f"{receiver.url}/app", workers=1), bus, app_of, registry=registry
        )
    )
    try:
        bus.publish(live("cam1"))
        bus.publish(live("cam2"))
        own = await receiver.next()
        assert own == Post(
            "/own",
            FORM,
            {
                "action": "liveStreamStarted",
                "id": "cam1",
                "streamName": "Front door",
                "category": "doors",
                "metadata": "m",
            },
        )
        app_wide = await receiver.next()
        assert app_wide == Post("/app", FORM, {"action": "liveStreamStarted", "id": "cam2"})
    finally:
        await hooks.stop()


async def test_streams_without_an_application_or_that_never_went_live_are_not_posted(
    receiver: Receiver, bus: events.EventBus
) -> None:
    hooks = await started(
        AntMediaWebhooks(WebhookSettings(url=f"{receiver.url}/h", workers=1), bus, app_of)
    )
    try:
        bus.publish(live("elsewhere", namespace="other"))
        bus.publish(ended("elsewhere", namespace="other"))
        bus.publish(ended("never-live", was_live=False))
        bus.publish(events.StreamPublished(key("cam1"), "session-1"))
        bus.publish(live("sentinel"))
        # One worker delivers in order: the first post to arrive is the sentinel.
        assert (await receiver.next()).fields["id"] == "sentinel"
    finally:
        await hooks.stop()
    assert receiver.posts.empty()


async def test_a_failed_post_is_retried(receiver: Receiver, bus: events.EventBus) -> None:
    receiver.statuses = [500, 503]
    hooks = await started(
        AntMediaWebhooks(WebhookSettings(url=f"{receiver.url}/h", backoff_s=0.01), bus, app_of)
    )
    try:
        bus.publish(live("cam1"))
        attempts = [await receiver.next() for _ in range(3)]
        assert all(p.fields == {"action": "liveStreamStarted", "id": "cam1"} for p in attempts)
    finally:
        await hooks.stop()
    assert (hooks.delivered, hooks.failed) == (1, 0)


async def test_retries_are_bounded(receiver: Receiver, bus: events.EventBus) -> None:
    receiver.statuses = [500] * 10
    settings = WebhookSettings(url=f"{receiver.url}/h", retries=2, backoff_s=0.01, workers=1)
    hooks = await started(AntMediaWebhooks(settings, bus, app_of))
    try:
        bus.publish(live("cam1"))
        bus.publish(live("sentinel"))
        received = [await receiver.next() for _ in range(4)]
        assert [p.fields["id"] for p in received] == ["cam1", "cam1", "cam1", "sentinel"]
    finally:
        await hooks.stop()
    assert hooks.failed >= 1


async def test_an_unreachable_receiver_is_retried_then_given_up(bus: events.EventBus) -> None:
    # A port nobody listens on: connection refused at once.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    settings = WebhookSettings(
        url=f"http://127.0.0.1:{port}/h", retries=1, backoff_s=0.01, drain_timeout_s=5
    )
    hooks = await started(AntMediaWebhooks(settings, bus, app_of))
    bus.publish(live("cam1"))
    await hooks.stop()  # waits for the call in flight, retries included
    assert (hooks.delivered, hooks.failed) == (0, 1)


async def test_a_slow_receiver_blocks_nothing(receiver: Receiver, bus: events.EventBus) -> None:
    receiver.gate.clear()  # the receiver holds every answer back
    settings = WebhookSettings(
        url=f"{receiver.url}/h", workers=1, queue_size=3, drain_timeout_s=0.05
    )
    hooks = await started(AntMediaWebhooks(settings, bus, app_of))
    bus.publish(live("cam0"))
    assert (await receiver.next()).fields["id"] == "cam0"  # in flight, unanswered
    for i in range(1, 10):
        bus.publish(live(f"cam{i}"))  # returns at once: three are queued, the rest dropped
    assert hooks.dropped == 6
    # The loop stays free while the post hangs: other work on it completes.
    other = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().call_soon(other.set_result, "done")
    assert await other == "done"
    async with asyncio.timeout(3):
        await hooks.stop()  # gives up on the hung call after drain_timeout_s
    receiver.gate.set()


async def test_stop_lets_queued_calls_go_out(receiver: Receiver, bus: events.EventBus) -> None:
    hooks = await started(
        AntMediaWebhooks(WebhookSettings(url=f"{receiver.url}/h", workers=1), bus, app_of)
    )
    for i in range(5):
        bus.publish(live(f"cam{i}"))
    await hooks.stop()
    assert hooks.delivered == 5
    assert receiver.posts.qsize() == 5
    bus.publish(live("after-stop"))
    assert receiver.posts.qsize() == 5


async def test_ended_never_overtakes_started(receiver: Receiver, bus: events.EventBus) -> None:
    receiver.statuses = [500]  # the first post of cam1 fails and is retried
    settings = WebhookSettings(url=f"{receiver.url}/h", workers=4, backoff_s=0.01)
    hooks = await started(AntMediaWebhooks(settings, bus, app_of))
    try:
        bus.publish(live("cam1"))
        bus.publish(ended("cam1"))
        actions = [(await receiver.next()).fields["action"] for _ in range(3)]
    finally:
        await hooks.stop()
    assert actions == ["liveStreamStarted", "liveStreamStarted", "liveStreamEnded"]


async def test_json_content_type(receiver: Receiver, bus: events.EventBus) -> None:
    settings = WebhookSettings(url=f"{receiver.url}/h", content_type="application/json")
    hooks = await started(AntMediaWebhooks(settings, bus, app_of))
    try:
        bus.publish(live("cam1"))
        post = await receiver.next()
    finally:
        await hooks.stop()
    assert post == Post("/h", "application/json", {"action": "liveStreamStarted", "id": "cam1"})


async def test_without_a_url_nothing_is_queued(bus: events.EventBus) -> None:
    hooks = await started(AntMediaWebhooks(WebhookSettings(), bus, app_of))
    bus.publish(live("cam1"))
    await hooks.stop()
    assert (hooks.delivered, hooks.failed, hooks.dropped) == (0, 0, 0)
