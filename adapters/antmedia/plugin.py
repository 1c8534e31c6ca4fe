"""The ``antmedia`` dialect plugin (entry point ``antmedia = "adapters.antmedia.plugin"``)."""

from __future__ import annotations

from adapters.antmedia.dialect import AntMediaDialect
from adapters.antmedia.settings import AntMediaSettings
from adapters.hookspecs import ConfigSection, Dialect, GatewayContext, hookimpl


@hookimpl
def switchboard_config_section() -> ConfigSection:
    return ConfigSection(
        name="antmedia", model=AntMediaSettings, title="Ant Media Server WebSocket messaging"
    )


@hookimpl
def switchboard_create_dialect(ctx: GatewayContext) -> Dialect | None:
    return AntMediaDialect(ctx)
