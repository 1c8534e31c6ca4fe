"""A gateway serving every installed dialect on 127.0.0.1, and a raw WebSocket client.

The hardening tests (fuzzing, limits, faults, shutdown, security, soak) talk to the real
pumps through these, the way a misbehaving client would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp

from core.hub import Hub
from core.limits import Limiter
from gateway.app import DIALECTS, HUB, SERVICES
from gateway.config import DialectModel, RawConfig, Settings, validate
from gateway.plugins import discover, make_plugin_manager
from gateway.server import Gateway

DIALECT_NAMES = ("antmedia", "flashphoner", "rtm", "whip")

#: Where each dialect's WebSocket answers (WHIP/WHEP is HTTP only).
WS_PATHS = {
    "antmedia": "/WebRTCAppEE/websocket",
    "flashphoner": "/",
    "rtm": "/api/v2/io",
}


@dataclass
class Served:
    gateway: Gateway
    host: str
    port: int

    @property
    def hub(self) -> Hub:
        return self.gateway.app[HUB]

    @property
    def limiter(self) -> Limiter:
        limiter = self.gateway.app[SERVICES]["limiter"]
        assert isinstance(limiter, Limiter)
        return limiter

    def dialect(self, name: str) -> Any:
        return next(d.runtime for d in self.gateway.app[DIALECTS] if d.plugin.name == name)

    def url(self, path: str, scheme: str = "http") -> str:
        return f"{scheme}://{self.host}:{self.port}{path}"

    def ws_url(self, dialect: str) -> str:
        return self.url(WS_PATHS[dialect], "ws")

    def endpoint_count(self) -> int:
        return int(self.hub.media.endpoint_count)


def dialect_sections(state_dir: str) -> dict[str, dict[str, Any]]:
    """Each dialect's section for tests: no keepalive timers, files under ``state_dir``."""
    return {
        "flashphoner": {
            "ping_interval": 0,
            "video_rate_interval": 0,
            "recording_directory": f"{state_dir}/fp",
        },
        "rtm": {
            "recordings_dir": f"{state_dir}/rtm",
            "local_delivery_dir": f"{state_dir}/rtm/done",
        },
        "antmedia": {},
        "whip": {},
    }


@contextlib.asynccontextmanager
async def serve(
    *,
    limits: dict[str, Any] | None = None,
    sections: dict[str, dict[str, Any]] | None = None,
    shutdown_timeout: float = 5.0,
    access_log: bool = False,
) -> AsyncIterator[Served]:
    """A gateway with every installed dialect on an ephemeral loopback port."""
    with tempfile.TemporaryDirectory(prefix="switchboard-") as state_dir:
        pm = make_plugin_manager()
        models = [DialectModel(p.name, p.model) for p in discover(pm)]
        base = dialect_sections(state_dir)
        for name, section in (sections or {}).items():
            base[name] = {**base.get(name, {}), **section}
        loaded = {m.name for m in models}
        raw = RawConfig(
            data={
                "listeners": [{"host": "127.0.0.1", "port": 0}],
                "log": {"access_log": access_log, "level": "warning"},
                "media": {"host_addresses": ["127.0.0.1"]},
                "limits": limits or {},
                "gateway": {"shutdown_timeout": shutdown_timeout},
                "storage": {"state_dir": f"{state_dir}/state"},
                **{
                    k: {"enabled": False}
                    for k in ("metrics", "admin")
                    if k in Settings.model_fields
                },
                "dialects": {k: v for k, v in base.items() if k in loaded},
            }
        )
        config = validate(raw, models)
        gateway = Gateway(config, pm)
        await gateway.start()
        host, port = gateway.addresses[0][:2]
        try:
            yield Served(gateway, host, port)
        finally:
            await gateway.stop()


class RawClient:
    """A WebSocket that records everything the server says, and how it closed."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.http = http
        self.ws = ws
        self.texts: list[str] = []
        self.closed = asyncio.Event()
        self._arrived = asyncio.Event()
        self._reader = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def connect(cls, url: str, **kwargs: Any) -> RawClient:
        http = aiohttp.ClientSession()
        try:
            ws = await http.ws_connect(url, max_msg_size=0, **kwargs)
        except BaseException:
            await http.close()
            raise
        return cls(http, ws)

    async def _read(self) -> None:
        try:
            async for message in self.ws:
                if message.type is aiohttp.WSMsgType.TEXT:
                    self.texts.append(message.data)
                    self._arrived.set()
        finally:
            self.closed.set()
            self._arrived.set()

    def messages(self) -> list[Any]:
        out = []
        for text in self.texts:
            with contextlib.suppress(ValueError):
                out.append(json.loads(text))
        return out

    async def wait_for(self, predicate: Any, within: float = 5.0) -> Any:
        """The first JSON message ``predicate`` accepts (not consumed)."""
        deadline = time.monotonic() + within
        while True:
            for message in self.messages():
                if predicate(message):
                    return message
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"nothing matched; got {self.texts[-5:]}")
            if self.closed.is_set():
                raise AssertionError(f"closed before a match; got {self.texts[-5:]}")
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), left)

    async def wait_closed(self, within: float = 5.0) -> int | None:
        await asyncio.wait_for(self.closed.wait(), within)
        return self.ws.close_code

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.ws.close()
        self._reader.cancel()
        with contextlib.suppress(BaseException):
            await self._reader
        await self.http.close()


async def settled(check: Any, within: float = 5.0) -> None:
    """Wait until ``check()`` is true (polling), or fail."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("did not settle in time")
        await asyncio.sleep(0.02)
