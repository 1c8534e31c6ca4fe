"""The Flashphoner dialect as a Switchboard plugin (entry point ``flashphoner``)."""

from __future__ import annotations

from adapters.flashphoner.dialect import NAME, FlashphonerDialect
from adapters.flashphoner.settings import FlashphonerSettings
from adapters.hookspecs import ConfigSection, Dialect, GatewayContext, hookimpl


@hookimpl
def switchboard_config_section() -> ConfigSection:
    return ConfigSection(
        name=NAME,
        model=FlashphonerSettings,
        title="Flashphoner Web Call Server: Raw WebSocket API, REST API and REST hooks",
    )


@hookimpl
def switchboard_create_dialect(ctx: GatewayContext) -> Dialect | None:
    if ctx.name != NAME:
        return None
    settings = ctx.settings
    if not isinstance(settings, FlashphonerSettings):
        settings = FlashphonerSettings.model_validate(settings.model_dump(exclude={"enabled"}))
    return FlashphonerDialect(ctx.hub, settings, limiter=ctx.services.get("limiter"))
