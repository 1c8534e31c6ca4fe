"""The admin API of a real gateway: a WHIP publisher and a WHEP player on loopback, every
response validated against the OpenAPI document the gateway serves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from unittest import mock

import aiohttp
import jsonschema
import pytest
from aiohttp.test_utils import make_mocked_request

from gateway.admin.api import Problem, authorize
from gateway.app import HUB
from tests.gateway.operator import TOKEN, Operated, operated

pytestmark = pytest.mark.timeout(90)

AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[Operated]:
    admin = {"token": TOKEN, "recordings_dir": str(tmp_path / "recordings")}
    async for running in operated(tmp_path / "state", admin=admin):
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


class Api:
    """Calls the API and checks each answer against the served OpenAPI document."""

    def __init__(self, http: aiohttp.ClientSession, gw: Operated, doc: dict[str, Any]) -> None:
        self.http, self.gw, self.doc = http, gw, doc
        self.checked: set[tuple[str, str, str]] = set()

    def schema_of(self, template: str, method: str, status: int, content_type: str) -> Any:
        operation = self.doc["paths"][template][method.lower()]
        response = operation["responses"][str(status)]
        if "content" not in response:
            return None
        return response["content"][content_type]["schema"]

    async def call(
        self, method: str, template: str, status: int, *, headers: Any = AUTH, **params: str
    ) -> Any:
        path = template.format(**params)
        query = {"namespace": params["namespace"]} if "namespace" in params else None
        async with self.http.request(
            method, self.gw.url("/api/v1" + path), headers=headers, params=query
        ) as response:
            body = await response.read()
            assert response.status == status, (method, path, response.status, body)
            schema = self.schema_of(template, method, status, response.content_type)
            if schema is None:
                assert body == b""
                self.checked.add((method.lower(), template, str(status)))
                return None
            data = await response.json(content_type=None)
        validator = jsonschema.Draft202012Validator(
            {**schema, "components": self.doc["components"]}
        )
        validator.validate(data)
        self.checked.add((method.lower(), template, str(status)))
        return data


@pytest.fixture
async def api(gw: Operated, http: aiohttp.ClientSession) -> Api:
    async with http.get(gw.url("/api/v1/openapi.json")) as response:  # public, no token
        assert response.status == 200
        doc = await response.json()
    assert doc["openapi"].startswith("3.1")
    jsonschema.Draft202012Validator.check_schema({"$defs": doc["components"]["schemas"]})
    return Api(http, gw, doc)


def test_every_api_route_is_documented(gw: Operated) -> None:
    from gateway.admin.openapi import document

    doc = document()
    routed = set()
    for route in gw.gateway.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if path.startswith("/api/v1/") and route.method != "HEAD":
            routed.add((route.method.lower(), path.removeprefix("/api/v1")))
    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert routed - {("get", "/openapi.json")} == documented


async def test_responses_match_the_document(gw: Operated, http: aiohttp.ClientSession, api: Api):
    await gw.publish(http, "cam")
    await gw.play(http, "cam")

    status = await api.call("GET", "/status", 200)
    assert status["live_streams"] == 1 and status["sessions"] == 2
    streams = (await api.call("GET", "/streams", 200))["streams"]
    [cam] = streams
    assert cam["name"] == "cam" and cam["state"] == "live" and cam["dialect"] == "whip"
    assert cam["subscribers"] == 1 and cam["stats"]["video"]["packets"] > 0
    assert cam["tracks"][0]["codec"] == "video/VP8"
    assert (await api.call("GET", "/streams/{name}", 200, name="cam"))["name"] == "cam"
    await api.call("GET", "/streams/{name}", 404, name="nothing")
    await api.call("GET", "/streams/{name}", 404, name="cam", namespace="elsewhere")

    sessions = (await api.call("GET", "/sessions", 200))["sessions"]
    assert len(sessions) == 2
    publisher = next(s for s in sessions if s["publishing"] == ["cam"])
    player = next(s for s in sessions if s["subscriptions"])
    assert player["subscriptions"][0]["streams"] == ["cam"]
    assert publisher["remote"] == "127.0.0.1"
    await api.call("GET", "/sessions/{id}", 200, id=publisher["id"])
    await api.call("GET", "/sessions/{id}", 404, id="nope")

    assert (await api.call("GET", "/rooms", 200)) == {"rooms": []}
    dialects = (await api.call("GET", "/dialects", 200))["dialects"]
    assert [d["name"] for d in dialects] == ["whip"] and dialects[0]["sessions"] == 2

    # Record for a while, stop: the file is delivered to the recordings directory.
    started = await api.call("POST", "/streams/{name}/recording", 201, name="cam")
    assert started["state"] == "recording"
    await api.call("POST", "/streams/{name}/recording", 409, name="cam")
    assert (await api.call("GET", "/streams/{name}", 200, name="cam"))["recording_id"] == started[
        "id"
    ]
    await asyncio.sleep(1.5)
    stopped = await api.call("DELETE", "/streams/{name}/recording", 200, name="cam")
    assert stopped["state"] == "finished" and stopped["duration_ms"] > 0
    await api.call("DELETE", "/streams/{name}/recording", 404, name="cam")
    recording: dict[str, Any] = {}
    for _ in range(100):
        recording = await api.call("GET", "/recordings/{id}", 200, id=started["id"])
        if recording["delivery"] == "delivered":
            break
        await asyncio.sleep(0.05)
    assert recording["delivery"] == "delivered"
    delivered = Path(recording["path"])
    assert (await asyncio.to_thread(delivered.stat)).st_size == recording["size_bytes"]
    assert (await api.call("GET", "/recordings", 200))["recordings"][0]["id"] == started["id"]
    await api.call("GET", "/recordings/{id}", 404, id="nope")

    # Terminate the player's session, then the stream.
    hub = gw.gateway.app[HUB]
    await api.call("DELETE", "/sessions/{id}", 204, id=player["id"])
    assert player["id"] not in hub.sessions
    await api.call("DELETE", "/sessions/{id}", 404, id=player["id"])
    await api.call("DELETE", "/streams/{name}", 204, name="cam")
    assert (await api.call("GET", "/streams", 200)) == {"streams": []}
    await api.call("DELETE", "/streams/{name}", 404, name="cam")
    await api.call("POST", "/streams/{name}/recording", 404, name="cam")

    # Every documented success status was checked against a real response.
    documented = {
        (method, path, status)
        for path, ops in api.doc["paths"].items()
        for method, op in ops.items()
        for status in op["responses"]
        if status.startswith("2")
    }
    assert documented <= api.checked


async def test_a_recording_stops_with_its_stream(
    gw: Operated, http: aiohttp.ClientSession, api: Api
) -> None:
    await gw.publish(http, "cam")
    started = await api.call("POST", "/streams/{name}/recording", 201, name="cam")
    await asyncio.sleep(1.0)
    await gw.close_peers()
    state = ""
    for _ in range(100):
        recording = await api.call("GET", "/recordings/{id}", 200, id=started["id"])
        state = recording["state"]
        if state in ("finished", "empty", "failed"):
            break
        await asyncio.sleep(0.1)
    assert state == "finished" and recording["stop_reason"] == "stream_ended"


async def test_the_token_is_required(gw: Operated, api: Api) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong-token-wrong-token"}, {"X": "y"}):
        problem = await api.call("GET", "/streams", 401, headers=headers)
        assert problem["status"] == 401
    async with api.http.get(gw.url("/api/v1/streams")) as response:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.content_type == "application/problem+json"


def _request(remote: str, headers: dict[str, str] | None = None) -> Any:
    transport = mock.Mock()
    transport.get_extra_info.side_effect = lambda name, default=None: (
        (remote, 40000) if name == "peername" else default
    )
    return make_mocked_request("GET", "/api/v1/streams", headers=headers, transport=transport)


def test_without_a_token_only_loopback_clients_are_answered() -> None:
    authorize(_request("127.0.0.1"), None)
    authorize(_request("::1"), None)
    with pytest.raises(Problem) as refused:
        authorize(_request("192.0.2.7"), None)
    assert refused.value.status == 403
    # With a token, the address does not matter, the token does.
    authorize(_request("192.0.2.7", {"Authorization": "Bearer " + TOKEN}), TOKEN)
    with pytest.raises(Problem):
        authorize(_request("127.0.0.1"), TOKEN)


async def test_no_token_answers_loopback_and_admin_can_be_disabled(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async for gw in operated(tmp_path / "a"):
        async with http.get(gw.url("/api/v1/status")) as response:
            assert response.status == 200
    async for gw in operated(tmp_path / "b", admin={"enabled": False}):
        for path in ("/api/v1/status", "/api/v1/openapi.json", "/dashboard"):
            async with http.get(gw.url(path)) as response:
                assert response.status == 404
