from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from adapters.whip import plugin
from adapters.whip.dialect import WhipDialect
from adapters.whip.settings import WhipSettings
from core.hub import Hub
from gateway.app import DIALECTS, HUB
from gateway.config import DialectModel, RawConfig, validate
from gateway.plugins import entry_point_names, make_plugin_manager
from gateway.server import Gateway


@dataclass
class Running:
    """A gateway serving the whip dialect on 127.0.0.1."""

    gateway: Gateway
    base: str

    @property
    def hub(self) -> Hub:
        return self.gateway.app[HUB]

    @property
    def dialect(self) -> WhipDialect:
        runtime = next(d.runtime for d in self.gateway.app[DIALECTS] if d.plugin.name == "whip")
        assert isinstance(runtime, WhipDialect)
        return runtime

    def url(self, path: str) -> str:
        return self.base + path


def plugin_manager() -> Any:
    """Only this dialect: through its entry point once installed, else as an extra plugin."""
    installed = entry_point_names()
    others = installed - {"whip"}
    extra = () if "whip" in installed else (plugin,)
    return make_plugin_manager(disabled=others, extra_plugins=extra)


StartGateway = Callable[..., Awaitable[Running]]


@pytest.fixture
async def start_gateway() -> AsyncIterator[StartGateway]:
    """Start a gateway with ``[dialects.whip]`` = the keyword arguments."""
    started: list[Gateway] = []

    async def start(
        *,
        host_addresses: list[str] | None = None,
        limits: dict[str, int] | None = None,
        **whip: Any,
    ) -> Running:
        raw = RawConfig(
            data={
                "listeners": [{"host": "127.0.0.1", "port": 0}],
                "log": {"access_log": False},
                "media": {
                    "host_addresses": ["127.0.0.1"] if host_addresses is None else host_addresses
                },
                "limits": limits or {},
                "dialects": {"whip": whip},
            }
        )
        config = validate(raw, [DialectModel("whip", WhipSettings)])
        gateway = Gateway(config, plugin_manager())
        await gateway.start()
        started.append(gateway)
        host, port = gateway.addresses[0][:2]
        return Running(gateway, f"http://{host}:{port}")

    yield start
    for gateway in started:
        await gateway.stop()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session
