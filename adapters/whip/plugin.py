"""The ``whip`` dialect plugin (entry point ``whip = "adapters.whip.plugin"``)."""

from __future__ import annotations

from adapters.hookspecs import ConfigSection, Dialect, GatewayContext, hookimpl
from adapters.whip.dialect import WhipDialect
from adapters.whip.settings import WhipSettings


@hookimpl
def switchboard_config_section() -> ConfigSection:
    return ConfigSection(name="whip", model=WhipSettings, title="WHIP ingest and WHEP playback")


@hookimpl
def switchboard_create_dialect(ctx: GatewayContext) -> Dialect | None:
    return WhipDialect(ctx)
