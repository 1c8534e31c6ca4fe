"""A tiny dialect for the gateway's tests, registered as an extra plugin (never installed).

``GET /echo`` is a WebSocket that greets, echoes text frames, and on a graceful stop sends
``goodbye`` before closing -- the way a real dialect tells its clients the server stops.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from aiohttp import WSMsgType, web
from pydantic import BaseModel

from adapters.hookspecs import ConfigSection, Dialect, GatewayContext, Route, hookimpl

GOODBYE = "goodbye"


class EchoSettings(BaseModel):
    greeting: str = "hello"
    max_frames: int = 100


class EchoDialect:
    name = "echo"

    def __init__(self, ctx: GatewayContext) -> None:
        assert isinstance(ctx.settings, EchoSettings)
        self.ctx = ctx
        self.settings = ctx.settings
        self.sockets: set[web.WebSocketResponse] = set()
        self.started = asyncio.Event()
        self.stop_calls: list[bool] = []
        self.hub_closed_at_stop: bool | None = None

    def routes(self) -> Sequence[Route]:
        return [
            Route("GET", "/echo", self.websocket, name="echo"),
            Route("GET", "/echo/settings", self.show_settings),
        ]

    async def start(self) -> None:
        self.started.set()

    async def stop(self, *, graceful: bool) -> None:
        self.stop_calls.append(graceful)
        self.hub_closed_at_stop = self.ctx.hub.closed
        for ws in tuple(self.sockets):
            if graceful:
                await ws.send_str(GOODBYE)
            await ws.close()

    async def show_settings(self, request: web.Request) -> web.Response:
        return web.json_response(self.settings.model_dump())

    async def websocket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=30, max_msg_size=64 * 1024)
        await ws.prepare(request)
        self.sockets.add(ws)
        try:
            await ws.send_str(self.settings.greeting)
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    await ws.send_str(msg.data)
        finally:
            self.sockets.discard(ws)
        return ws


class EchoPlugin:
    """The plugin object: declares ``[dialects.echo]`` and creates :class:`EchoDialect`."""

    def __init__(self) -> None:
        self.dialects: list[EchoDialect] = []

    @hookimpl
    def switchboard_config_section(self) -> ConfigSection:
        return ConfigSection(name="echo", model=EchoSettings, title="Echo (test dialect)")

    @hookimpl
    def switchboard_create_dialect(self, ctx: GatewayContext) -> Dialect | None:
        dialect = EchoDialect(ctx)
        self.dialects.append(dialect)
        return dialect


plugin = EchoPlugin()
