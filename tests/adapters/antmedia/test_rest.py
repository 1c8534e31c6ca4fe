"""Ant Media's REST API on a real aiohttp server on loopback, over a real hub.

Streams go live without a media plane: a stand-in publisher endpoint sets ``media_flowing``
the way the real one does when the first packet arrives.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Collection
from typing import Any

import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from adapters.antmedia.broadcasts import BroadcastRegistry
from adapters.antmedia.rest import rest_routes
from adapters.antmedia.security import SecuritySettings, StreamSecurity
from core import events
from core.errors import Unauthorized
from core.hub import Hub
from core.media.types import TrackStats
from core.names import StreamKey
from core.session import Session
from core.stream import Publication


class FakeEndpoint:
    def __init__(self) -> None:
        self.closed = asyncio.Event()
        self._on_close: list[Callable[[str], None]] = []

    def on_close(self, callback: Callable[[str], None]) -> None:
        self._on_close.append(callback)

    async def close(self) -> None:
        self.closed.set()


class FakePublisher(FakeEndpoint):
    def __init__(self) -> None:
        super().__init__()
        self.media_flowing = asyncio.Event()
        self.tracks: list[Any] = []

    def stats(self) -> dict[str, TrackStats]:
        if not self.media_flowing.is_set():
            return {}
        return {
            "0": TrackStats(codec="opus", bytes=1000, bitrate_bps=32_000),
            "1": TrackStats(codec="VP8", bytes=9000, bitrate_bps=800_000, width=640, height=480),
        }


class FakeSubscriber(FakeEndpoint):
    def attach(self, source: Any, *, kinds: Collection[str] | None = None) -> list[str]:
        return ["0"]

    def detach(self, source: Any) -> None:
        pass

    def mids_of(self, source: Any) -> list[str]:
        return ["0"]


class FakeEngine:
    def publisher(self, *, name: str) -> FakePublisher:
        return FakePublisher()

    def subscriber(self, *, name: str) -> FakeSubscriber:
        return FakeSubscriber()

    async def close(self) -> None:
        pass


STREAM_SECRET = "stream-secret-of-at-least-32-bytes"
REST_SECRET = "rest-secret-of-at-least-32-bytes!!"
PER_APP = {
    "TokenApp": SecuritySettings(play_token_control=True),
    "JwtApp": SecuritySettings(publish_jwt_control=True, jwt_stream_secret=STREAM_SECRET),
    "LockedApp": SecuritySettings(rest_allowed_cidrs=["10.0.0.0/8"]),
    "RestJwtApp": SecuritySettings(rest_jwt_control=True, rest_jwt_secret=REST_SECRET),
}
NAMESPACES = {"Other": "other"}


def namespace_of(app: str) -> str:
    return NAMESPACES.get(app, "default")


class Env:
    def __init__(self, client: TestClient[web.Request, web.Application], hub: Hub) -> None:
        self.client = client
        self.hub = hub
        self.registry = BroadcastRegistry()
        self.security = StreamSecurity(SecuritySettings(), PER_APP)

    async def go_live(
        self, name: str, *, namespace: str = "default", **app_data: Any
    ) -> Publication:
        session = self.hub.open_session(dialect="antmedia", namespace=namespace)
        live = asyncio.Event()
        unsubscribe = self.hub.bus.subscribe(
            lambda e: (
                live.set() if isinstance(e, events.StreamLive) and e.key.name == name else None
            )
        )
        publication = await session.publish(name, app_data=app_data)
        publication.endpoint.media_flowing.set()
        async with asyncio.timeout(5):
            await live.wait()
        unsubscribe()
        return publication

    async def get(self, path: str, status: int = 200, **kw: Any) -> Any:
        async with self.client.get(path, **kw) as response:
            assert response.status == status, await response.text()
            assert response.content_type == "application/json"
            return await response.json()

    async def post(self, path: str, status: int = 200, **kw: Any) -> Any:
        async with self.client.post(path, **kw) as response:
            assert response.status == status, await response.text()
            return await response.json()

    async def delete(self, path: str, status: int = 200) -> Any:
        async with self.client.delete(path) as response:
            assert response.status == status, await response.text()
            return await response.json()


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    hub = Hub(media=FakeEngine(), node_id="n1")  # type: ignore[arg-type]
    app = web.Application()
    server = TestServer(app, host="127.0.0.1")
    client: TestClient[web.Request, web.Application] = TestClient(server)
    e = Env(client, hub)
    for route in rest_routes(
        hub=hub, registry=e.registry, security=e.security, namespace_of=namespace_of
    ):
        app.router.add_route(route.method, route.path, route.handler)
    await client.start_server()
    try:
        yield e
    finally:
        await client.close()
        await hub.close()


BASE = "/LiveApp/rest/v2/broadcasts"


async def test_empty_application_lists_nothing(env: Env) -> None:
    assert await env.get(f"{BASE}/list/0/10") == []
    assert await env.get(f"{BASE}/count") == {"number": 0}


async def test_create_then_get_and_list(env: Env) -> None:
    before = int(time.time() * 1000)
    created = await env.post(
        f"{BASE}/create",
        json={"streamId": "cam1", "name": "Front door", "category": "doors", "status": "hacked"},
    )
    assert created["streamId"] == "cam1"
    assert created["name"] == "Front door"
    assert created["category"] == "doors"
    assert created["status"] == "created"
    assert created["type"] == "liveStream"
    assert created["publishType"] == "WebRTC"
    assert created["date"] >= before
    assert created["webRTCViewerCount"] == 0 and created["hlsViewerCount"] == 0

    assert await env.get(f"{BASE}/cam1") == created
    assert await env.get(f"{BASE}/list/0/10") == [created]
    assert env.registry.is_registered("LiveApp", "cam1")
    # Registrations belong to their application.
    assert not env.registry.is_registered("WebRTCAppEE", "cam1")
    await env.get("/WebRTCAppEE/rest/v2/broadcasts/cam1", status=404)


async def test_create_without_body_generates_an_id(env: Env) -> None:
    first = await env.post(f"{BASE}/create")
    second = await env.post(f"{BASE}/create", json={"name": "n"})
    assert first["streamId"] != second["streamId"]
    assert len(first["streamId"]) > 12 and first["streamId"].isalnum()
    assert second["name"] == "n"


async def test_create_refuses_used_and_invalid_ids_and_bad_bodies(env: Env) -> None:
    await env.post(f"{BASE}/create", json={"streamId": "cam1"})
    refused = await env.post(f"{BASE}/create", status=400, json={"streamId": "cam1"})
    assert refused["success"] is False
    assert refused["message"].startswith("Stream id is already being used")

    await env.go_live("live1")
    refused = await env.post(f"{BASE}/create", status=400, json={"streamId": "live1"})
    assert refused["message"].startswith("Stream id is already being used")

    invalid = await env.post(f"{BASE}/create", status=400, json={"streamId": "bad id/"})
    assert invalid == {
        "success": False,
        "message": "Stream id is not valid.",
        "dataId": None,
        "errorId": -1,
    }
    bad = await env.post(f"{BASE}/create", status=400, data=b"{not json")
    assert bad["success"] is False
    bad = await env.post(f"{BASE}/create", status=400, json={"webRTCViewerLimit": "many"})
    assert bad["success"] is False


async def test_live_streams_appear_as_broadcasting(env: Env) -> None:
    publication = await env.go_live("cam1", streamName="Yard", metaData="m1")
    viewer = env.hub.open_session(dialect="whip")
    await viewer.subscribe("cam1")

    broadcast = await env.get(f"{BASE}/cam1")
    assert broadcast["status"] == "broadcasting"
    assert broadcast["streamId"] == "cam1"
    assert broadcast["name"] == "Yard"
    assert broadcast["metaData"] == "m1"
    assert broadcast["webRTCViewerCount"] == 1
    assert broadcast["bitrate"] == 832_000
    assert (broadcast["width"], broadcast["height"]) == (640, 480)
    live_at = publication.stream.live_at
    assert live_at is not None
    assert broadcast["startTime"] == int(live_at * 1000)
    assert [b["streamId"] for b in await env.get(f"{BASE}/list/0/10")] == ["cam1"]
    # The same namespace through another application name; not through an unrelated one.
    assert (await env.get("/WebRTCAppEE/rest/v2/broadcasts/cam1"))["status"] == "broadcasting"
    assert await env.get("/Other/rest/v2/broadcasts/list/0/10") == []


async def test_a_stream_waiting_for_media_is_preparing(env: Env) -> None:
    session = env.hub.open_session(dialect="antmedia")
    await session.publish("cam1")
    assert (await env.get(f"{BASE}/cam1"))["status"] == "preparing"


async def test_registered_stream_goes_live_and_back_to_created(env: Env) -> None:
    await env.post(f"{BASE}/create", json={"streamId": "cam1", "name": "Door"})
    publication = await env.go_live("cam1")
    live = await env.get(f"{BASE}/cam1")
    assert (live["status"], live["name"]) == ("broadcasting", "Door")
    assert [b["streamId"] for b in await env.get(f"{BASE}/list/0/10")] == ["cam1"]
    await publication.close("stopped")
    assert (await env.get(f"{BASE}/cam1"))["status"] == "created"


async def test_get_unknown_is_404_with_a_result(env: Env) -> None:
    missing = await env.get(f"{BASE}/nope", status=404)
    assert missing["success"] is False
    assert "nope" in missing["message"]


async def test_delete_registered_broadcast(env: Env) -> None:
    await env.post(f"{BASE}/create", json={"streamId": "cam1"})
    result = await env.delete(f"{BASE}/cam1")
    assert result["success"] is True
    await env.get(f"{BASE}/cam1", status=404)
    again = await env.delete(f"{BASE}/cam1", status=404)
    assert again["success"] is False


async def test_delete_terminates_a_live_stream(env: Env) -> None:
    ended: list[events.StreamEnded] = []
    env.hub.bus.subscribe(lambda e: ended.append(e) if isinstance(e, events.StreamEnded) else None)
    publication = await env.go_live("cam1")
    session: Session = publication.stream.session

    result = await env.delete(f"{BASE}/cam1")
    assert result == {
        "success": True,
        "message": "broadcast is deleted and stopped successfully",
        "dataId": "cam1",
        "errorId": 0,
    }
    assert publication.closed
    assert "cam1" not in session.publications
    assert env.hub.find_stream(StreamKey("default", "cam1")) is None
    assert [(e.key.name, e.reason, e.was_live) for e in ended] == [("cam1", "deleted", True)]
    await env.get(f"{BASE}/cam1", status=404)


async def test_list_pages_sorts_and_searches(env: Env) -> None:
    for i in range(60):
        env.registry.create("LiveApp", stream_id=f"s{i:02d}", name=f"name {59 - i:02d}")
    first = await env.get(f"{BASE}/list/0/100")
    assert len(first) == 50  # Ant Media's cap
    rest = await env.get(f"{BASE}/list/50/50")
    assert [b["streamId"] for b in rest] == [f"s{i}" for i in range(50, 60)]
    assert await env.get(f"{BASE}/list/60/10") == []
    assert await env.get(f"{BASE}/list/0/0") == []
    by_name = await env.get(f"{BASE}/list/0/3", params={"sort_by": "name", "order_by": "asc"})
    assert [b["streamId"] for b in by_name] == ["s59", "s58", "s57"]
    desc = await env.get(f"{BASE}/list/0/2", params={"order_by": "desc", "sort_by": "date"})
    assert len(desc) == 2
    found = await env.get(f"{BASE}/list/0/50", params={"search": "NAME 0"})
    assert sorted(b["streamId"] for b in found) == [f"s{i}" for i in range(50, 60)]
    assert await env.get(f"{BASE}/count") == {"number": 60}

    bad = await env.get(f"{BASE}/list/x/10", status=400)
    assert bad["success"] is False


async def test_token_is_issued_and_consumed_once(env: Env) -> None:
    expire = int(time.time()) + 60
    token = await env.get(
        "/TokenApp/rest/v2/broadcasts/cam1/token",
        params={"expireDate": str(expire), "type": "play"},
    )
    assert token == {
        "tokenId": token["tokenId"],
        "streamId": "cam1",
        "expireDate": expire,
        "type": "play",
        "roomId": None,
    }
    kwargs: dict[str, Any] = {
        "app": "TokenApp",
        "stream_id": "cam1",
        "action": "play",
        "subscriber_id": None,
        "subscriber_code": None,
    }
    env.security.authorize(token=token["tokenId"], **kwargs)
    with pytest.raises(Unauthorized):
        env.security.authorize(token=token["tokenId"], **kwargs)


async def test_room_token(env: Env) -> None:
    expire = str(int(time.time()) + 60)
    token = await env.get(
        "/TokenApp/rest/v2/broadcasts/cam1/token",
        params={"expireDate": expire, "type": "play", "roomId": "room1"},
    )
    assert token["roomId"] == "room1"


@pytest.mark.parametrize(
    "params",
    [
        {"type": "play"},
        {"expireDate": "0", "type": "play"},
        {"expireDate": "soon", "type": "play"},
        {"expireDate": "1999999999"},
        {"expireDate": "1999999999", "type": "record"},
    ],
)
async def test_token_needs_type_and_expire_date(env: Env, params: dict[str, str]) -> None:
    refused = await env.get(f"{BASE}/cam1/token", status=400, params=params)
    assert refused == {
        "success": False,
        "message": "Define Stream ID, Token Type and Expire Date (unix time)",
        "dataId": None,
        "errorId": 0,
    }


async def test_jwt_token_is_signed_with_the_application_secret(env: Env) -> None:
    params = {"expireDate": "1999999999", "type": "publish"}
    await env.get(f"{BASE}/cam1/jwt-token", status=400, params=params)  # no secret there
    token = await env.get("/JwtApp/rest/v2/broadcasts/cam1/jwt-token", params=params)
    assert token["streamId"] == "cam1" and token["type"] == "publish"
    claims = jwt.decode(token["tokenId"], STREAM_SECRET, algorithms=["HS256"])
    assert claims == {"streamId": "cam1", "type": "publish", "exp": 1999999999}


async def test_rest_is_refused_from_addresses_not_allowed(env: Env) -> None:
    locked = "/LockedApp/rest/v2/broadcasts"
    refused = await env.get(f"{locked}/list/0/10", status=403)
    assert refused["success"] is False
    await env.post(f"{locked}/create", status=403, json={"streamId": "cam1"})
    await env.get(
        f"{locked}/cam1/token", status=403, params={"expireDate": "1999999999", "type": "play"}
    )
    assert not env.registry.is_registered("LockedApp", "cam1")
    assert await env.get(f"{BASE}/list/0/10") == []


async def test_rest_jwt_control(env: Env) -> None:
    base = "/RestJwtApp/rest/v2/broadcasts"
    await env.get(f"{base}/list/0/10", status=401)
    await env.get(f"{base}/list/0/10", status=401, headers={"Authorization": "nonsense"})
    good = jwt.encode({"exp": int(time.time()) + 60}, REST_SECRET, algorithm="HS256")
    assert await env.get(f"{base}/list/0/10", headers={"Authorization": good}) == []
    assert await env.get(f"{base}/count", headers={"Authorization": f"Bearer {good}"}) == {
        "number": 0
    }
