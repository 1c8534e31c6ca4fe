"""The Ant Media runtime: the ``/{app}/websocket`` pump, the REST routes and the webhooks.

The WebSocket handler is a pump: one reader that hands each text frame to the connection's
state machine, one writer that drains the connection's queue. Everything a connection says
goes through that queue, so a slow client never blocks the event loop or another client.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import Sequence
from typing import Any

import psutil
import structlog
from aiohttp import WSMsgType, web

from adapters.antmedia import codec
from adapters.antmedia.broadcasts import BroadcastRegistry
from adapters.antmedia.connection import Connection, Refused
from adapters.antmedia.p2p import PeerRooms
from adapters.antmedia.recording import Recordings
from adapters.antmedia.rest import rest_routes
from adapters.antmedia.security import StreamSecurity
from adapters.antmedia.settings import AntMediaSettings
from adapters.antmedia.webhooks import AntMediaWebhooks
from adapters.hookspecs import GatewayContext, Route
from core import errors
from core.hub import Hub
from core.limits import Limiter
from core.names import StreamKey

log = structlog.get_logger(__name__)

_CLOSE = object()  # tells a writer to close the socket


class AntMediaDialect:
    """One gateway process's Ant Media dialect."""

    def __init__(self, ctx: GatewayContext) -> None:
        settings = ctx.settings
        assert isinstance(settings, AntMediaSettings)
        self.name = ctx.name
        self.settings: AntMediaSettings = settings
        self.hub: Hub = ctx.hub
        self.services = ctx.services
        self.security = StreamSecurity(settings.security, settings.apps)
        self.registry = BroadcastRegistry()
        self.webhooks = AntMediaWebhooks(
            settings.webhooks, ctx.hub.bus, self.app_of, registry=self.registry, hub=ctx.hub
        )
        self.recordings = Recordings(settings, ctx.hub, self.webhooks, self.app_of)
        self.p2p = PeerRooms()
        self.connections: dict[str, Connection] = {}
        self.sockets: dict[str, asyncio.Queue[Any]] = {}
        self.disabled_tracks: dict[StreamKey, set[str]] = {}
        self._apps: dict[StreamKey, str] = {}
        self.limiter: Limiter = ctx.services.get("limiter") or Limiter()
        self.stopping = False

    # -- the Dialect protocol ------------------------------------------------------------------

    def routes(self) -> Sequence[Route]:
        return [
            Route("GET", "/{app}/websocket", self.websocket, name="antmedia-websocket"),
            *rest_routes(
                hub=self.hub,
                registry=self.registry,
                security=self.security,
                namespace_of=self.settings.namespace_of,
                recordings=self.recordings,
            ),
        ]

    async def start(self) -> None:
        psutil.cpu_percent(interval=None)  # the first reading is meaningless; prime it
        if self.settings.webhooks.url:
            await self.webhooks.start()
        self.recordings.deliveries = self.services.get("deliveries")
        self.recordings.start()

    async def stop(self, *, graceful: bool) -> None:
        """Say ``server_will_stop`` to every client (when graceful), then close them all."""
        self.stopping = True
        if graceful:
            for queue in self.sockets.values():
                queue.put_nowait(codec.ServerWillStop())
        for queue in self.sockets.values():
            queue.put_nowait(_CLOSE)
        await asyncio.gather(
            *(c.close("server_stopping") for c in tuple(self.connections.values())),
            return_exceptions=True,
        )
        await self.recordings.stop()
        await self.webhooks.stop()

    # -- shared state ---------------------------------------------------------------------------

    def remember_app(self, key: StreamKey, app: str) -> None:
        self._apps[key] = app
        if len(self._apps) > 10_000:  # forget the oldest: ended streams are not looked up
            for old in list(self._apps)[:1000]:
                if old not in self.hub.streams_by_key:
                    del self._apps[old]

    def app_of(self, key: StreamKey) -> str | None:
        """The application a stream belongs to, for webhooks."""
        app = self._apps.get(key)
        if app is not None:
            return app
        for name, namespace in self.settings.namespaces.items():
            if namespace == key.namespace:
                return name
        if key.namespace == self.settings.default_namespace:
            return self.settings.default_app
        return None

    def overloaded(self) -> bool:
        """Ant Media's ``highResourceUsage`` test: CPU above the limit or free RAM below it."""
        cpu_limit = self.settings.cpu_limit_percent
        if cpu_limit and psutil.cpu_percent(interval=None) > cpu_limit:
            return True
        ram_limit = self.settings.min_free_ram_mb
        return bool(ram_limit and psutil.virtual_memory().available < ram_limit * 1024 * 1024)

    def ice_server_config(self) -> codec.IceServerConfig:
        configured = self.settings.ice_server
        if configured is not None:
            return codec.IceServerConfig(configured.url, configured.username, configured.credential)
        for server in self.services.get("ice_servers", ()):
            urls = [u for u in server.urls if u.startswith(("stun:", "turn:"))]
            if urls:
                return codec.IceServerConfig(
                    urls[0], server.username or "", server.credential or ""
                )
        return codec.IceServerConfig()

    def enable_track(self, room: StreamKey, track_id: str, enabled: bool) -> None:
        disabled = self.disabled_tracks.setdefault(room, set())
        if enabled:
            disabled.discard(track_id)
        else:
            disabled.add(track_id)
        if not disabled:
            self.disabled_tracks.pop(room, None)
        for conn in tuple(self.connections.values()):
            conn.resync_room(room)

    def broadcast_object(self, key: StreamKey) -> codec.Message:
        room = self.hub.rooms.get(key)
        stream = self.hub.find_stream(key)
        if stream is not None and stream.live:
            broadcast: dict[str, Any] = {
                "streamId": key.name,
                "status": "broadcasting",
                "name": stream.app_data.get("streamName") or key.name,
                "publishType": "WebRTC",
                "subTrackStreamIds": [],
            }
        elif room is not None:
            broadcast = {
                "streamId": key.name,
                "status": "broadcasting",
                "name": key.name,
                "subTrackStreamIds": [s.name for s in room.live_streams()],
            }
        else:
            return codec.Error("no_stream_exist", stream_id=key.name, error_code="404")
        return codec.BroadcastObject(key.name, json.dumps(broadcast))

    # -- the WebSocket pump ----------------------------------------------------------------------

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        app = request.match_info["app"]
        max_size = self.settings.max_message_bytes or self.limiter.transport_max_bytes
        ws = web.WebSocketResponse(
            heartbeat=self.settings.heartbeat_s or None, max_msg_size=max_size
        )
        await ws.prepare(request)
        conn_id = secrets.token_hex(6)
        queue: asyncio.Queue[Any] = asyncio.Queue(maxsize=self.settings.send_queue_size)
        with structlog.contextvars.bound_contextvars(conn_id=conn_id, dialect=self.name):
            if self.stopping:
                await ws.close()
                return ws
            guard = None
            try:
                guard = self.limiter.connect(request.remote)
                session = self.hub.open_session(
                    dialect=self.name,
                    namespace=self.settings.namespace_of(app),
                    remote=request.remote,
                    app_data={"app": app},
                )
            except errors.DomainError as exc:
                if guard is not None:
                    guard.release()
                log.info("client_refused", reason=exc.details.get("limit", exc.code))
                await ws.send_str(codec.encode(codec.Error("highResourceUsage")))
                await ws.close(code=1008, message=b"limit reached")
                return ws
            structlog.contextvars.bind_contextvars(session_id=session.id)

            def send(message: codec.Message) -> None:
                try:
                    queue.put_nowait(message)
                except asyncio.QueueFull:
                    log.warning("client_too_slow", queued=queue.qsize())
                    queue.get_nowait()
                    queue.put_nowait(_CLOSE)

            conn = Connection(self, app=app, session=session, send=send, conn_id=conn_id)
            self.connections[conn_id] = conn
            self.sockets[conn_id] = queue
            writer = asyncio.create_task(self._write(ws, queue), name=f"antmedia-writer:{conn_id}")
            log.info("client_connected", app=app, remote=request.remote)
            try:
                async for msg in ws:
                    if msg.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                        try:
                            guard.admit(_size(msg.data))
                        except errors.LimitReached as exc:
                            log.info("client_limited", reason=exc.details.get("limit"))
                            send(codec.Error("highResourceUsage"))
                            break
                    if msg.type is WSMsgType.TEXT:
                        await conn.receive(msg.data)
                    elif msg.type is WSMsgType.BINARY:
                        send(Refused("missingParameter").message())
                    elif msg.type is WSMsgType.ERROR:
                        log.info("client_error", error=str(ws.exception()))
                        break
                    if writer.done():
                        break
            finally:
                guard.release()
                self.connections.pop(conn_id, None)
                self.sockets.pop(conn_id, None)
                await conn.close("disconnected")
                if not writer.done():
                    queue.put_nowait(_CLOSE)
                try:
                    await asyncio.wait_for(writer, 2.0)
                except (TimeoutError, asyncio.CancelledError):
                    writer.cancel()
                except Exception:
                    log.exception("writer_failed")
                if not ws.closed:
                    await ws.close()
                log.info("client_disconnected", app=app, code=ws.close_code)
        return ws

    @staticmethod
    async def _write(ws: web.WebSocketResponse, queue: asyncio.Queue[Any]) -> None:
        while True:
            item = await queue.get()
            if item is _CLOSE:
                await ws.close()
                return
            if ws.closed:
                return
            try:
                await ws.send_str(codec.encode(item))
            except ConnectionError:
                return


def _size(data: str | bytes) -> int:
    return len(data.encode()) if isinstance(data, str) else len(data)
