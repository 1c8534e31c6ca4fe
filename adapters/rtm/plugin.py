"""The ``rtm`` dialect plugin (entry point ``rtm = "adapters.rtm.plugin"``)."""

from __future__ import annotations

from adapters.hookspecs import ConfigSection, Dialect, GatewayContext, hookimpl
from adapters.rtm.dialect import RtmDialect
from adapters.rtm.settings import RtmSettings


@hookimpl
def switchboard_config_section() -> ConfigSection:
    return ConfigSection(
        name="rtm", model=RtmSettings, title="RTM: stream recording sessions and supervisors"
    )


@hookimpl
def switchboard_create_dialect(ctx: GatewayContext) -> Dialect | None:
    return RtmDialect(ctx)
