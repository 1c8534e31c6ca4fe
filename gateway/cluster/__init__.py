"""Several gateway nodes sharing a Redis directory, relaying streams to each other.

:class:`Cluster` is one node's part: it swaps the hub's in-memory directory for the
:class:`~gateway.cluster.directory.RedisDirectory`, installs the
:class:`~gateway.cluster.relay.RelayManager` as the hub's stream resolver, serves the internal
relay endpoint on its own listener (``[cluster] listen``, never on the public listeners), and
runs the heartbeat that keeps the node alive in Redis and reaps dead nodes. It also installs
:class:`~gateway.cluster.rooms.RedisRooms` as the hub's room directory, so that conference
rooms span nodes. Nothing here knows a dialect: a relay is an ordinary core publication, so a
player of any dialect is served.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import structlog
from aiohttp import web

from core.directory import StreamDirectory
from core.hub import Hub
from core.room import RoomDirectory
from gateway.cluster.directory import RedisDirectory
from gateway.cluster.relay import RELAY_PATH, RelayManager, RelayOrigin
from gateway.cluster.rooms import RedisRooms
from gateway.cluster.settings import ClusterSettings
from gateway.metrics import METRICS, Metrics

log = structlog.stdlib.get_logger("gateway.cluster")

__all__ = ["Cluster", "ClusterSettings", "cluster_context"]


def _split(listen: str) -> tuple[str, int]:
    host, _, port = listen.rpartition(":")
    return host.strip("[]") or "127.0.0.1", int(port)


class Cluster:
    """This node's membership of the cluster."""

    def __init__(self, settings: ClusterSettings, hub: Hub, metrics: Metrics | None = None) -> None:
        assert settings.redis_url is not None and settings.secret is not None
        self.settings = settings
        self.hub = hub
        self.directory = RedisDirectory.from_url(
            settings.redis_url,
            prefix=settings.key_prefix,
            node_id=hub.node_id,
            node_ttl=settings.node_ttl,
        )

        def count(direction: str) -> Callable[[int], None]:
            def counted(n: int) -> None:
                if metrics is not None:
                    metrics.set_cluster_relays(n, direction=direction)

            return counted

        self.relays = RelayManager(
            hub,
            self.directory,
            secret=settings.secret,
            timeout=settings.relay_timeout,
            counted=count("in"),
        )
        self.origin = RelayOrigin(
            hub, secret=settings.secret, timeout=settings.relay_timeout, counted=count("out")
        )
        self.rooms = RedisRooms(
            self.directory.redis,
            prefix=settings.key_prefix,
            node_id=hub.node_id,
            alive=self.directory.alive,
            changed=self.relays.rooms_changed,
        )
        self.directory.on_node_dead(self.relays.node_dead)
        self.directory.on_node_dead(self.rooms.node_dead)
        self._runner: web.AppRunner | None = None
        self._heartbeat: asyncio.Task[None] | None = None
        self._previous: StreamDirectory | None = None
        self._previous_rooms: RoomDirectory | None = None
        self.url = ""

    async def start(self) -> None:
        """Reach Redis, open the internal listener, register the node and start beating."""
        await self.directory.redis.ping()
        app = web.Application()
        app.router.add_get(RELAY_PATH, self.origin.handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        host, port = _split(self.settings.listen)
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = self.settings.advertise_url or f"http://{host}:{bound[1]}"
        self.directory.url = self.url
        await self.directory.heartbeat()
        self._previous, self.hub.directory = self.hub.directory, self.directory
        self.hub.resolver = self.relays
        await self.rooms.start()
        self._previous_rooms, self.hub.room_directory = self.hub.room_directory, self.rooms
        self._heartbeat = asyncio.create_task(self._beat(), name="cluster-heartbeat")
        log.info("cluster_joined", node=self.hub.node_id, url=self.url)

    async def _beat(self) -> None:
        interval = self.settings.heartbeat_interval
        while True:
            await asyncio.sleep(interval)
            try:
                await self.directory.heartbeat()
                await self.directory.reap()
                for relay in list(self.relays.relays.values()):
                    if not await self.directory.alive(relay.origin):
                        self.relays.node_dead(relay.origin)
            except Exception as exc:  # Redis away: keep trying, the node expires meanwhile
                log.warning("cluster_heartbeat_failed", error=str(exc))

    async def stop(self) -> None:
        """Stop relaying and beating; leave the cluster. The hub closes the directory later,
        after its sessions have released their names."""
        if self._heartbeat is not None:
            self._heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._heartbeat
        if self._previous_rooms is not None:
            self.hub.room_directory = self._previous_rooms
        await self.rooms.close()
        self.hub.resolver = None
        await self.relays.close()
        await self.origin.close()
        if self._runner is not None:
            await self._runner.cleanup()
        with contextlib.suppress(Exception):
            await self.directory.leave()
        log.info("cluster_left", node=self.hub.node_id)


def cluster_context(
    settings: ClusterSettings, hub: Callable[[], Hub]
) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that runs :class:`Cluster` when ``settings`` name a Redis; it goes
    after the hub's and before the dialects'."""

    async def context(app: web.Application) -> AsyncIterator[None]:
        if not settings.enabled:
            yield
            return
        cluster = Cluster(settings, hub(), app.get(METRICS))
        await cluster.start()
        try:
            yield
        finally:
            await cluster.stop()

    return context
