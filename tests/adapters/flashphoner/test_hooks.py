"""REST hooks against a real aiohttp backend on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from adapters.flashphoner.settings import FlashphonerSettings, RestHookApp
from tests.core.media.clients import ClientPublisher

from .conftest import WcsClient, start_gateway, stop_gateway
from .test_flows import msid, stream_object


@dataclass
class Backend:
    server: TestServer
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    deny: dict[str, tuple[int, str]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/hooks"))

    def methods(self) -> list[str]:
        return [m for m, _ in self.calls]


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    state = Backend(server=None)  # type: ignore[arg-type]

    async def hook(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        body = await request.json()
        state.calls.append((method, body))
        if method in state.deny:
            status, reason = state.deny[method]
            return web.Response(status=status, reason=reason)
        return web.json_response(body)

    app = web.Application()
    app.router.add_post("/hooks/{method}", hook)
    state.server = TestServer(app, host="127.0.0.1")
    await state.server.start_server()
    yield state
    await state.server.close()


def with_hooks(settings: FlashphonerSettings, **apps: RestHookApp) -> FlashphonerSettings:
    return settings.model_copy(update={"rest_hooks": apps})


async def test_allowing_backend_sees_wcs_shaped_calls(
    settings: FlashphonerSettings, backend: Backend
) -> None:
    gw = await start_gateway(with_hooks(settings, defaultApp=RestHookApp(backend=backend.url)))
    client = await WcsClient.open(gw.ws_url)
    try:
        await client.connect(custom={"token": "abc"})
        peer = ClientPublisher(video=False)
        mid = msid()
        await client.send(
            "publishStream", stream_object(mid, "cam1", await peer.offer(), published=True)
        )
        await client.expect("setRemoteSDP")
        await client.send("unPublishStream", {"mediaSessionId": mid, "name": "cam1"})
        await client.status(mid, "UNPUBLISHED")
        await peer.close()
        await client.close()
        for _ in range(100):
            if "ConnectionStatusEvent" in backend.methods()[2:]:
                break
            await asyncio.sleep(0.02)
    finally:
        await stop_gateway(gw)
    methods = backend.methods()
    assert methods[0] == "connect" and methods[1] == "ConnectionStatusEvent"
    assert {"publishStream", "unPublishStream", "StreamStatusEvent"} <= set(methods)
    connect = backend.calls[0][1]
    assert connect["appKey"] == "defaultApp" and connect["custom"] == {"token": "abc"}
    assert connect["sessionId"] and connect["nodeId"]
    publish = dict(backend.calls)["publishStream"]
    assert publish["name"] == "cam1" and publish["mediaSessionId"] == mid
    assert "sdp" not in publish
    statuses = [b["status"] for m, b in backend.calls if m == "StreamStatusEvent"]
    assert "UNPUBLISHED" in statuses


async def test_denied_connect_and_publish(settings: FlashphonerSettings, backend: Backend) -> None:
    gw = await start_gateway(
        with_hooks(
            settings,
            defaultApp=RestHookApp(backend=backend.url),
            strictApp=RestHookApp(backend=backend.url, methods=["connect"]),
        )
    )
    try:
        backend.deny["publishStream"] = (403, "Publishing forbidden")
        client = await WcsClient.open(gw.ws_url)
        await client.connect()
        mid = msid()
        await client.send("publishStream", stream_object(mid, "cam1", "v=0", published=True))
        assert (await client.status(mid, "FAILED"))["info"] == "Publishing forbidden"
        assert not gw.hub.streams()
        await client.close()

        backend.deny["connect"] = (401, "Bad token")
        refused = await WcsClient.open(gw.ws_url)
        await refused.send("connection", {"appKey": "strictApp"})
        fail = await refused.expect("fail")
        assert fail["data"][0]["info"] == "Bad token"
        await asyncio.wait_for(refused._reader, 5)
        assert refused.ws.closed
        assert not [f for f in refused.frames if f["message"] == "getUserData"]
        await refused.close()
    finally:
        await stop_gateway(gw)


@pytest.mark.parametrize("policy", ["deny", "allow"])
async def test_unreachable_backend_follows_the_policy(
    settings: FlashphonerSettings, policy: str
) -> None:
    dead = RestHookApp(backend="http://127.0.0.1:9/hooks", on_unreachable=policy, timeout=1)
    gw = await start_gateway(with_hooks(settings, defaultApp=dead))
    client = await WcsClient.open(gw.ws_url)
    try:
        await client.send("connection", {"appKey": "defaultApp"})
        if policy == "allow":
            await client.expect("getUserData")
        else:
            assert (await client.expect("fail"))["data"][0]["info"] == "Restricted access"
    finally:
        await client.close()
        await stop_gateway(gw)
