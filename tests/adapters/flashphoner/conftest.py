"""A Flashphoner dialect on a real hub and media engine, served by aiohttp on 127.0.0.1, and
a test client that speaks the Raw WebSocket API with real aiortc peers."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

# ``tests/adapters`` has no ``__init__``: make the repository importable as ``tests.*``.
ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from adapters.flashphoner.dialect import FlashphonerDialect  # noqa: E402
from adapters.flashphoner.settings import FlashphonerSettings  # noqa: E402
from core.hub import Hub  # noqa: E402
from core.media import MediaConfig, MediaEngine  # noqa: E402

LOOPBACK_CONFIG = MediaConfig(host_addresses=("127.0.0.1",))


@dataclass
class Gateway:
    hub: Hub
    dialect: FlashphonerDialect
    server: TestServer

    @property
    def ws_url(self) -> str:
        return str(self.server.make_url("/")).replace("http", "ws", 1)

    def url(self, path: str) -> str:
        return str(self.server.make_url(path))


async def start_gateway(settings: FlashphonerSettings) -> Gateway:
    hub = Hub(media=MediaEngine(LOOPBACK_CONFIG))
    dialect = FlashphonerDialect(hub, settings)
    app = web.Application()
    for route in dialect.routes():
        app.router.add_route(route.method, route.path, route.handler, name=route.name)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    await dialect.start()
    return Gateway(hub, dialect, server)


async def stop_gateway(gw: Gateway) -> None:
    await gw.dialect.stop(graceful=False)
    await gw.server.close()
    await gw.hub.close()


@pytest.fixture
def settings(tmp_path: Path) -> FlashphonerSettings:
    return FlashphonerSettings(
        ping_interval=0,
        video_rate_interval=0.5,
        media_timeout=10,
        recording_directory=str(tmp_path / "records"),
    )


@pytest.fixture
async def gateway(settings: FlashphonerSettings) -> AsyncIterator[Gateway]:
    gw = await start_gateway(settings)
    yield gw
    await stop_gateway(gw)


class WcsClient:
    """A WebSocket client of the Raw WebSocket API that keeps every frame it receives."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.http = http
        self.ws = ws
        self.frames: list[dict[str, Any]] = []
        self._new = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, url: str) -> WcsClient:
        http = aiohttp.ClientSession()
        ws = await http.ws_connect(url)
        return cls(http, ws)

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                self.frames.append(json.loads(msg.data))
                self._new.set()
        self._new.set()

    async def send(self, message: str, *data: Any) -> None:
        await self.ws.send_json({"message": message, "data": list(data)})

    async def expect(
        self,
        message: str,
        where: Callable[[dict[str, Any]], bool] = lambda f: True,
        within: float = 10.0,
    ) -> dict[str, Any]:
        """The first frame named ``message`` (with ``where``) not yet taken."""

        async def wait() -> dict[str, Any]:
            while True:
                for frame in self.frames:
                    if frame.get("message") == message and not frame.get("_taken") and where(frame):
                        frame["_taken"] = True
                        return frame
                if self.ws.closed and self._reader.done():
                    raise AssertionError(f"socket closed before {message}")
                self._new.clear()
                await self._new.wait()

        return await asyncio.wait_for(wait(), within)

    async def status(self, msid: str, status: str, within: float = 10.0) -> dict[str, Any]:
        frame = await self.expect(
            "notifyStreamStatusEvent",
            lambda f: f["data"][0]["mediaSessionId"] == msid and f["data"][0]["status"] == status,
            within,
        )
        return dict(frame["data"][0])

    async def connect(self, **fields: Any) -> dict[str, Any]:
        body = {"appKey": "defaultApp", "mediaProviders": ["WebRTC"], "clientVersion": "2.0"}
        body.update(fields)
        await self.send("connection", body)
        return await self.expect("getUserData")

    async def close(self) -> None:
        await self.ws.close()
        await self._reader
        await self.http.close()


@pytest.fixture
async def clients(gateway: Gateway) -> AsyncIterator[Callable[[], Any]]:
    opened: list[WcsClient] = []

    async def make() -> WcsClient:
        client = await WcsClient.open(gateway.ws_url)
        opened.append(client)
        return client

    yield make
    for client in opened:
        await client.close()
