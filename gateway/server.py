"""Serving one application on several listeners, and stopping it gracefully."""

from __future__ import annotations

import asyncio
import signal
import ssl
from typing import Any

import pluggy
import structlog
from aiohttp import web

from gateway.app import DIALECTS, READINESS, Phase, create_app, stop_dialects
from gateway.config import Config, ListenerSettings
from gateway.logging import AccessLogger

log = structlog.stdlib.get_logger("gateway")


class ListenError(Exception):
    """A listener cannot be opened (address in use, bad certificate, ...)."""


def ssl_context(listener: ListenerSettings) -> ssl.SSLContext | None:
    """A server TLS context for the listener, or ``None`` for plain HTTP."""
    if listener.tls_cert is None or listener.tls_key is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(listener.tls_cert, listener.tls_key)
    return context


class Gateway:
    """The application, its runner and one TCP site per listener."""

    def __init__(
        self, config: Config, plugin_manager: pluggy.PluginManager, *, reuse_port: bool = False
    ) -> None:
        self.config = config
        #: Several worker processes share the listeners (``serve --workers N``).
        self.reuse_port = reuse_port
        self.app = create_app(config, plugin_manager)
        settings = config.settings
        kwargs: dict[str, Any] = {"handle_signals": False}
        if settings.log.access_log:
            kwargs["access_log_class"] = AccessLogger
        else:
            kwargs["access_log"] = None
        self.runner = web.AppRunner(
            self.app, shutdown_timeout=settings.gateway.shutdown_timeout, **kwargs
        )

    async def start(self) -> None:
        """Run the startup contexts, then open every listener."""
        try:
            await self.runner.setup()
            for listener in self.config.settings.listeners:
                try:
                    site = web.TCPSite(
                        self.runner,
                        listener.host,
                        listener.port,
                        ssl_context=ssl_context(listener),
                        shutdown_timeout=self.config.settings.gateway.shutdown_timeout,
                        reuse_port=self.reuse_port or None,
                    )
                    await site.start()
                except (OSError, ssl.SSLError) as exc:
                    raise ListenError(f"cannot listen on {listener.url()}: {exc}") from exc
        except BaseException:
            await self.runner.cleanup()
            raise
        for host, port, *_ in self.addresses:
            log.info("listening", host=host, port=port)

    @property
    def addresses(self) -> list[Any]:
        """The bound socket addresses (the real ports when a listener asked for port 0)."""
        return self.runner.addresses

    async def stop(self) -> None:
        """Tell every dialect's clients, then close the listeners and the hub."""
        self.app[READINESS].phase = Phase.STOPPING
        await stop_dialects(self.app)
        await self.runner.cleanup()


async def serve(
    config: Config, plugin_manager: pluggy.PluginManager, *, reuse_port: bool = False
) -> None:
    """Serve until SIGINT or SIGTERM, then stop gracefully."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)
    for sig in signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        gateway = Gateway(config, plugin_manager, reuse_port=reuse_port)
        await gateway.start()
        log.info(
            "gateway_ready",
            node_id=config.settings.gateway.node_id,
            dialects=[d.plugin.name for d in gateway.app[DIALECTS]],
        )
        await stop.wait()
        log.info("gateway_stopping")
        await gateway.stop()
        log.info("gateway_stopped")
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
