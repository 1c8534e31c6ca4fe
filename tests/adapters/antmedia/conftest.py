from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from adapters.antmedia import plugin
from adapters.antmedia.dialect import AntMediaDialect
from adapters.antmedia.settings import AntMediaSettings
from core.hub import Hub
from gateway.app import DIALECTS, HUB
from gateway.config import DialectModel, RawConfig, validate
from gateway.plugins import entry_point_names, make_plugin_manager
from gateway.server import Gateway


@dataclass
class Running:
    """A gateway serving the antmedia dialect on 127.0.0.1."""

    gateway: Gateway
    host: str
    port: int

    @property
    def hub(self) -> Hub:
        return self.gateway.app[HUB]

    @property
    def dialect(self) -> AntMediaDialect:
        runtime = next(d.runtime for d in self.gateway.app[DIALECTS] if d.plugin.name == "antmedia")
        assert isinstance(runtime, AntMediaDialect)
        return runtime

    def ws_url(self, app: str = "WebRTCAppEE", query: str = "?target=origin") -> str:
        return f"ws://{self.host}:{self.port}/{app}/websocket{query}"


def plugin_manager() -> Any:
    """Only this dialect: through its entry point once installed, else as an extra plugin."""
    installed = entry_point_names()
    others = installed - {"antmedia"}
    extra = () if "antmedia" in installed else (plugin,)
    return make_plugin_manager(disabled=others, extra_plugins=extra)


StartGateway = Callable[..., Awaitable[Running]]


async def start_gateway_with(
    started: list[Gateway],
    *,
    host: str = "127.0.0.1",
    host_addresses: list[str] | None = None,
    ice_servers: list[dict[str, Any]] | None = None,
    limits: dict[str, int] | None = None,
    **antmedia: Any,
) -> Running:
    raw = RawConfig(
        data={
            "listeners": [{"host": host, "port": 0}],
            "log": {"access_log": False},
            "media": {
                "host_addresses": ["127.0.0.1"] if host_addresses is None else host_addresses,
                "ice_servers": ice_servers or [],
            },
            "limits": limits or {},
            "dialects": {"antmedia": antmedia},
        }
    )
    config = validate(raw, [DialectModel("antmedia", AntMediaSettings)])
    gateway = Gateway(config, plugin_manager())
    await gateway.start()
    started.append(gateway)
    bound_host, port = gateway.addresses[0][:2]
    return Running(gateway, bound_host, port)


@pytest.fixture
async def start_gateway() -> AsyncIterator[StartGateway]:
    """Start a gateway with ``[dialects.antmedia]`` = the keyword arguments."""
    started: list[Gateway] = []

    async def start(**kwargs: Any) -> Running:
        return await start_gateway_with(started, **kwargs)

    yield start
    for gateway in started:
        await gateway.stop()
