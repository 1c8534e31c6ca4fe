"""The aiohttp application: one per process, every piece of state under a typed key.

Startup and teardown are cleanup contexts in dependency order:

1. the media engine and the hub (closed last);
2. the gateway-wide services: the HTTP client, the durable delivery queue and the webhook
   dispatcher (their sqlite files under ``[storage] state_dir``), closed after the dialects;
3. the dialects: created through the plugin hook, their routes mounted, ``start()`` awaited.

A dialect's routes can only be known once it exists, and it needs the hub, so routes are
added during startup; aiohttp freezes the router only after the startup signals have run.

On shutdown every dialect is first asked to ``stop(graceful=True)`` from ``on_shutdown`` --
before aiohttp waits for open connections, so WebSocket clients hear the dialect's goodbye --
within ``gateway.shutdown_timeout``; then the hub closes.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pluggy
import structlog
from aiohttp import web

from adapters.hookspecs import Dialect, GatewayContext, Route
from core.delivery import DeliveryQueue
from core.hub import Hub, Limits
from core.limits import ClientLimits, Limiter
from core.media import IceServer, MediaConfig, MediaEngine
from core.webhooks import WebhookDispatcher
from gateway import admin
from gateway.cluster import cluster_context
from gateway.config import Config, Settings
from gateway.http_client import AiohttpClient
from gateway.metrics import METRICS, Metrics, metrics_handler
from gateway.plugins import DialectPlugin, create_dialect, discover

log = structlog.stdlib.get_logger("gateway")


class Phase(enum.Enum):
    STARTING = "starting"
    READY = "ready"
    STOPPING = "stopping"


@dataclass
class Readiness:
    """Where the process is in its life; ``/readyz`` answers from it."""

    phase: Phase = Phase.STARTING


@dataclass
class RunningDialect:
    """A dialect's runtime and what the gateway knows of it."""

    plugin: DialectPlugin
    runtime: Dialect
    routes: Sequence[Route] = ()
    started: bool = False
    stopped: bool = False


CONFIG = web.AppKey("config", Config)
PLUGINS = web.AppKey("plugins", pluggy.PluginManager)
READINESS = web.AppKey("readiness", Readiness)
HUB = web.AppKey("hub", Hub)
DIALECTS = web.AppKey("dialects", list[RunningDialect])
SERVICES = web.AppKey("services", dict[str, Any])


def media_config(settings: Settings) -> MediaConfig:
    """The ``[media]`` section as the media plane's own config."""
    return MediaConfig(
        ice_servers=tuple(
            IceServer(urls=tuple(s.urls), username=s.username, credential=s.credential)
            for s in settings.media.ice_servers
        ),
        host_addresses=tuple(settings.media.host_addresses),
        publisher_silence_timeout=settings.media.publisher_silence_timeout,
    )


def hub_limits(settings: Settings) -> Limits:
    """The ``[limits]`` the hub enforces."""
    limits = settings.limits
    return Limits(
        max_sessions=limits.max_sessions,
        max_streams=limits.max_streams,
        max_subscribers_per_stream=limits.max_subscribers_per_stream,
    )


def gateway_services(settings: Settings) -> dict[str, Any]:
    """What every dialect finds in ``GatewayContext.services``:

    - ``ice_servers``: the configured STUN/TURN servers (``core.media.IceServer``), for
      dialects that hand them to clients;
    - ``limits``: the ``[limits]`` section;
    - ``max_message_bytes``: the largest WebSocket message a dialect should accept;
    - ``limiter``: the :class:`~core.limits.Limiter` every dialect's connections take a
      guard from (connections per address, message size and rate);
    - once started (see :func:`_services_ctx`): ``http_client``, ``deliveries`` (the
      durable :class:`~core.delivery.DeliveryQueue`) and ``webhooks`` (the durable
      :class:`~core.webhooks.WebhookDispatcher`).
    """
    return {
        "ice_servers": media_config(settings).ice_servers,
        "limits": settings.limits,
        "max_message_bytes": settings.limits.max_message_bytes,
        "limiter": Limiter(client_limits(settings)),
    }


def client_limits(settings: Settings) -> ClientLimits:
    """The ``[limits]`` on how each client talks, as the shared limiter's own."""
    limits = settings.limits
    return ClientLimits(
        max_message_bytes=limits.max_message_bytes,
        messages_per_second=limits.messages_per_second,
        message_burst=limits.message_burst,
        max_connections_per_ip=limits.max_connections_per_ip,
    )


async def _hub_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[CONFIG].settings
    hub = Hub(
        media=MediaEngine(media_config(settings)),
        limits=hub_limits(settings),
        node_id=settings.gateway.node_id,
    )
    app[HUB] = hub
    log.info("hub_started", node_id=hub.node_id)
    try:
        yield
    finally:
        await hub.close()
        log.info("hub_closed", node_id=hub.node_id)


async def _services_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[CONFIG].settings
    state_dir = Path(settings.storage.state_dir)
    await asyncio.to_thread(state_dir.mkdir, parents=True, exist_ok=True)
    http = AiohttpClient()
    deliveries = DeliveryQueue(state_dir / "deliveries.sqlite", http)
    webhooks = WebhookDispatcher(
        state_dir / "webhooks.sqlite", http, secret=settings.storage.webhook_secret
    )
    services = gateway_services(settings)
    try:
        await deliveries.start()
        await webhooks.start()
        services |= {"http_client": http, "deliveries": deliveries, "webhooks": webhooks}
        app[SERVICES] = services
        yield
    finally:
        await deliveries.close()
        await webhooks.close()
        await http.close()


async def _metrics_ctx(app: web.Application) -> AsyncIterator[None]:
    """Point the metrics at the hub and the delivery services; offer them to dialects (and
    the cluster) as the ``metrics`` service."""
    metrics, services = app[METRICS], app[SERVICES]
    metrics.watch_hub(app[HUB])
    metrics.watch_deliveries(services["deliveries"])
    metrics.watch_webhooks(services["webhooks"])
    services["metrics"] = metrics
    try:
        yield
    finally:
        metrics.close()


def _admin_parts(app: web.Application) -> admin.AdminParts:
    def dialects() -> list[admin.DialectInfo]:
        return [
            admin.DialectInfo(
                name=d.plugin.name,
                title=d.plugin.title,
                started=d.started and not d.stopped,
                routes=[(r.method, r.path) for r in d.routes],
            )
            for d in app[DIALECTS]
        ]

    services = app[SERVICES]
    return admin.AdminParts(app[HUB], services["deliveries"], app[METRICS], dialects)


async def _dialects_ctx(app: web.Application) -> AsyncIterator[None]:
    config, pm, hub = app[CONFIG], app[PLUGINS], app[HUB]
    dialects = app[DIALECTS]
    services = app[SERVICES]
    try:
        for plugin in discover(pm):
            settings = config.dialects.get(plugin.name)
            if settings is None:  # disabled after the config was validated
                continue
            ctx = GatewayContext(
                name=plugin.name,
                settings=settings,
                hub=hub,
                public_host=config.settings.gateway.public_host,
                services=services,
            )
            runtime = create_dialect(pm, plugin, ctx)
            if runtime is None:
                continue
            running = RunningDialect(plugin=plugin, runtime=runtime, routes=tuple(runtime.routes()))
            for route in running.routes:
                app.router.add_route(route.method, route.path, route.handler, name=route.name)
            dialects.append(running)
        for running in dialects:
            await running.runtime.start()
            running.started = True
            log.info("dialect_started", dialect=running.plugin.name, routes=len(running.routes))
        app[READINESS].phase = Phase.READY
        yield
    finally:
        app[READINESS].phase = Phase.STOPPING
        await stop_dialects(app)


async def stop_dialects(app: web.Application) -> None:
    """Ask every started dialect to stop gracefully, all at once, within the shutdown
    timeout (idempotent: the second call finds nothing to stop)."""
    app[READINESS].phase = Phase.STOPPING
    pending = [d for d in app[DIALECTS] if d.started and not d.stopped]
    if not pending:
        return
    for d in pending:
        d.stopped = True
    timeout = app[CONFIG].settings.gateway.shutdown_timeout

    async def stop(d: RunningDialect) -> None:
        try:
            await d.runtime.stop(graceful=True)
            log.info("dialect_stopped", dialect=d.plugin.name)
        except Exception:
            log.exception("dialect_stop_failed", dialect=d.plugin.name)

    tasks = [asyncio.create_task(stop(d), name=f"stop-{d.plugin.name}") for d in pending]
    _, late = await asyncio.wait(tasks, timeout=timeout)
    for task in late:
        task.cancel()
    if late:
        await asyncio.wait(late)
        log.warning("dialect_stop_timeout", timeout=timeout, late=len(late))


async def _on_shutdown(app: web.Application) -> None:
    await stop_dialects(app)


async def healthz(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    """Readiness: 200 once every dialect runs, 503 while starting or stopping."""
    phase = request.app[READINESS].phase
    status = 200 if phase is Phase.READY else 503
    return web.json_response({"status": phase.value}, status=status)


def create_app(config: Config, plugin_manager: pluggy.PluginManager) -> web.Application:
    """The gateway application for ``config``, with the dialects ``plugin_manager`` holds."""
    app = web.Application(client_max_size=config.settings.limits.max_message_bytes)
    app[CONFIG] = config
    app[PLUGINS] = plugin_manager
    app[READINESS] = Readiness()
    app[DIALECTS] = []
    app[METRICS] = Metrics()
    app.router.add_get("/healthz", healthz, name="healthz")
    app.router.add_get("/readyz", readyz, name="readyz")
    if config.settings.metrics.enabled:
        app.router.add_get(config.settings.metrics.path, metrics_handler, name="metrics")
    app.cleanup_ctx.append(_hub_ctx)
    app.cleanup_ctx.append(_services_ctx)
    app.cleanup_ctx.append(_metrics_ctx)
    app.cleanup_ctx.append(cluster_context(config.settings.cluster, lambda: app[HUB]))
    admin.install(app, config.settings, _admin_parts)
    app.cleanup_ctx.append(_dialects_ctx)
    app.on_shutdown.append(_on_shutdown)
    return app
