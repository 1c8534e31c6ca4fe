"""An RTM dialect on 127.0.0.1 with its own delivery queue, webhook dispatcher and a
receiver for uploads and webhooks."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from adapters.hookspecs import GatewayContext
from adapters.rtm.dialect import RtmDialect
from adapters.rtm.settings import RtmSettings
from core.delivery import Backoff, DeliveryQueue
from core.hub import Hub
from core.media import MediaConfig, MediaEngine
from core.webhooks import WebhookDispatcher
from gateway.http_client import AiohttpClient

from .clients import RtmClient

FAST = Backoff(initial=0.1, factor=2.0, maximum=0.5)


@dataclass
class Receiver:
    """Takes PUT uploads and POSTed webhooks, answering ``statuses`` first (then 200)."""

    statuses: list[int] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""

    def _status(self) -> int:
        return self.statuses.pop(0) if self.statuses else 200

    async def put(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = self._status()
        if status == 200:
            self.uploads[request.match_info["name"]] = body
        return web.Response(status=status)

    async def post(self, request: web.Request) -> web.Response:
        self.posts.append((dict(request.headers), await request.read()))
        return web.Response()


@dataclass
class Rtm:
    dialect: RtmDialect
    hub: Hub
    base: str
    deliveries: DeliveryQueue
    webhooks: WebhookDispatcher
    receiver: Receiver
    http: aiohttp.ClientSession
    runner: web.AppRunner

    @property
    def ws_url(self) -> str:
        return self.base.replace("http", "ws", 1) + "/api/v2/io"

    def client(self, client_id: str) -> RtmClient:
        return RtmClient(self.http, self.ws_url, client_id)

    def hooks(self, status: str) -> list[dict[str, Any]]:
        return [
            json.loads(body)
            for _, body in self.receiver.posts
            if json.loads(body).get("status") == status
        ]


StartRtm = Callable[..., Awaitable[Rtm]]


async def _serve(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}"


@pytest.fixture
async def start_rtm(tmp_path: Path) -> AsyncIterator[StartRtm]:
    """Start the dialect with ``RtmSettings(**overrides)``."""
    cleanups: list[Callable[[], Awaitable[None]]] = []
    receiver = Receiver()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_put("/upload/{name}", receiver.put)
    app.router.add_post("/hook", receiver.post)
    receiver_runner, receiver.url = await _serve(app)
    http_client = AiohttpClient(timeout=5)
    session = aiohttp.ClientSession()

    async def start(*, deliveries_backoff: Backoff = FAST, **overrides: Any) -> Rtm:
        settings = RtmSettings(
            recordings_dir=str(tmp_path / "spool"),
            local_delivery_dir=str(tmp_path / "done"),
            **overrides,
        )
        hub = Hub(media=MediaEngine(MediaConfig(host_addresses=("127.0.0.1",))))
        deliveries = DeliveryQueue(
            tmp_path / "deliveries.sqlite", http_client, backoff=deliveries_backoff
        )
        webhooks = WebhookDispatcher(tmp_path / "webhooks.sqlite", http_client, backoff=FAST)
        await deliveries.start()
        await webhooks.start()
        dialect = RtmDialect(
            GatewayContext(
                name="rtm",
                settings=settings,
                hub=hub,
                services={"deliveries": deliveries, "webhooks": webhooks},
            )
        )
        app = web.Application()
        for route in dialect.routes():
            app.router.add_route(route.method, route.path, route.handler)
        await dialect.start()
        runner, base = await _serve(app)
        rtm = Rtm(dialect, hub, base, deliveries, webhooks, receiver, session, runner)

        async def stop() -> None:
            await dialect.stop(graceful=True)
            await runner.cleanup()
            await hub.close()
            await deliveries.close()
            await webhooks.close()

        cleanups.append(stop)
        return rtm

    yield start
    for cleanup in reversed(cleanups):
        await cleanup()
    await session.close()
    await http_client.close()
    await receiver_runner.cleanup()
