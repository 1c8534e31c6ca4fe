"""The Flashphoner dialect's runtime: its routes, its connections and its shutdown.

The WebSocket handler at ``/`` is a pump: one reader that decodes each frame and hands it to
the connection's state machine, and one writer task fed by a queue. A plain ``GET /`` without
an upgrade gets a short 400 text and leaves every other route alone.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from adapters.flashphoner import codec
from adapters.flashphoner.connection import INFO, FlashphonerConnection
from adapters.flashphoner.hooks import RestHooks
from adapters.flashphoner.pull import Republisher
from adapters.flashphoner.rest import RestApi
from adapters.flashphoner.settings import FlashphonerSettings
from adapters.hookspecs import Route
from core.errors import LimitReached
from core.hub import Hub
from core.limits import Limiter
from core.stream import Stream
from core.tasks import TaskOwner

log = structlog.get_logger(__name__)

NAME = "flashphoner"


class FlashphonerDialect:
    """One gateway process's Flashphoner dialect."""

    name = NAME

    def __init__(
        self, hub: Hub, settings: FlashphonerSettings, limiter: Limiter | None = None
    ) -> None:
        self.hub = hub
        self.settings = settings
        self.limiter = limiter or Limiter()
        self.hooks = RestHooks(settings.rest_hooks)
        #: Established connections by core session id.
        self.connections: dict[str, FlashphonerConnection] = {}
        self._sockets: set[web.WebSocketResponse] = set()
        self._rest = RestApi(self)
        self.republisher = Republisher(self)
        self._tasks = TaskOwner("flashphoner")
        self._stopping = False
        self._writers: dict[
            web.WebSocketResponse, tuple[asyncio.Queue[str | int | None], asyncio.Task[None]]
        ] = {}

    # -- Dialect contract -----------------------------------------------------------------

    def routes(self) -> Sequence[Route]:
        return [
            Route("GET", "/", self.websocket, name="flashphoner-ws"),
            *self._rest.routes(),
            *self.republisher.routes(),
        ]

    async def start(self) -> None:
        directory = Path(self.settings.recording_directory)
        await asyncio.to_thread(directory.mkdir, parents=True, exist_ok=True)

    @property
    def stopping(self) -> bool:
        """The gateway is shutting down (every stream that ends now ends for that reason)."""
        return self._stopping

    async def stop(self, *, graceful: bool) -> None:
        """End every stream (publishers and players hear FAILED with the info "Server
        shutdown", as WCS says when it stops), then close the sockets with 1001."""
        self._stopping = True
        await self.republisher.close()
        connections = tuple(self.connections.values())
        if graceful:
            for conn in connections:
                for ms in tuple(conn.media.values()):
                    with contextlib.suppress(Exception):
                        await conn.end(ms, "FAILED", INFO["shutdown"], reason="shutdown")
                conn.fail_open(INFO["shutdown"])
        # Through each socket's writer, so that what is queued (the FAILED above) goes first.
        writers = []
        for ws in tuple(self._sockets):
            queue, writer = self._writers.get(ws, (None, None))
            if queue is None or writer is None or writer.done():
                with contextlib.suppress(Exception):
                    await ws.close(code=1001, message=b"server shutdown")
            else:
                queue.put_nowait(GOING_AWAY)
                writers.append(writer)
        if writers:
            await asyncio.wait(writers, timeout=2.0)
        await asyncio.gather(*(c.close("shutdown") for c in connections), return_exceptions=True)
        await self._tasks.cancel_all()
        await self.hooks.close()

    # -- connections ----------------------------------------------------------------------

    def attach(self, conn: FlashphonerConnection) -> None:
        assert conn.session is not None
        self.connections[conn.session.id] = conn

    def detach(self, conn: FlashphonerConnection) -> None:
        if conn.session is not None:
            self.connections.pop(conn.session.id, None)

    def relay_stream_event(self, stream: Stream, type_: str, payload: Any) -> None:
        """Tell every Flashphoner player of ``stream`` about a publisher's stream event."""
        for subscription in tuple(stream.subscriptions):
            conn = self.connections.get(subscription.session.id)
            if conn is not None:
                conn.deliver_stream_event(subscription.id, type_, payload)

    # -- the WebSocket pump ---------------------------------------------------------------

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        max_size = max(self.settings.max_msg_size, self.limiter.transport_max_bytes)
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=max_size)
        if not ws.can_prepare(request).ok:
            return web.Response(
                status=400, text="Flashphoner WebSocket endpoint: upgrade expected\n"
            )
        if self._stopping:
            return web.Response(status=503, text="shutting down\n")
        await ws.prepare(request)
        try:
            guard = self.limiter.connect(request.remote)
        except LimitReached as exc:
            log.info("connection_refused", reason=exc.details.get("limit"))
            await ws.send_str(codec.encode(_limit_failure(exc)))
            await ws.close(code=1008, message=b"limit reached")
            return ws
        self._sockets.add(ws)
        queue: asyncio.Queue[str | int | None] = asyncio.Queue()
        peer = request.transport.get_extra_info("peername") if request.transport else None
        sock = request.transport.get_extra_info("sockname") if request.transport else None
        conn = FlashphonerConnection(
            self,
            remote=_address(peer),
            local=_address(sock),
            send=lambda m: queue.put_nowait(codec.encode(m)),
            close=lambda: queue.put_nowait(None),
        )
        writer = asyncio.create_task(_write(ws, queue), name=f"flashphoner-writer:{conn.id}")
        self._writers[ws] = (queue, writer)
        try:
            async for frame in ws:
                if frame.type in (WSMsgType.TEXT, WSMsgType.BINARY):
                    try:
                        guard.admit(_size(frame.data))
                    except LimitReached as exc:
                        conn.log.info("connection_limited", reason=exc.details.get("limit"))
                        conn.send(_limit_failure(exc))
                        break
                if frame.type is WSMsgType.TEXT:
                    try:
                        message = codec.decode_client(frame.data)
                    except codec.DecodeError as exc:
                        conn.handle_decode_error(exc)
                        continue
                    await conn.handle(message)
                elif frame.type is WSMsgType.BINARY:
                    conn.handle_decode_error(codec.MalformedJson("binary frames are not used"))
                elif frame.type is WSMsgType.ERROR:
                    log.info("websocket_error", conn_id=conn.id, error=str(ws.exception()))
                    break
        finally:
            guard.release()
            # aiohttp cancels the handler when the peer goes away: the cleanup runs in a task
            # the dialect owns, so that it always finishes.
            cleanup = self._tasks.spawn(
                self._cleanup(conn, ws, queue, writer), name=f"flashphoner-close:{conn.id}"
            )
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(cleanup)
        return ws

    async def _cleanup(
        self,
        conn: FlashphonerConnection,
        ws: web.WebSocketResponse,
        queue: asyncio.Queue[str | int | None],
        writer: asyncio.Task[None],
    ) -> None:
        try:
            await conn.close("disconnected")
        finally:
            queue.put_nowait(None)
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(writer, timeout=2.0)
            self._sockets.discard(ws)
            self._writers.pop(ws, None)
            await ws.close()


async def _write(ws: web.WebSocketResponse, queue: asyncio.Queue[str | int | None]) -> None:
    """The socket's only writer; ``None`` closes the socket, a number closes it with that
    close code."""
    while True:
        text = await queue.get()
        if text is None:
            break
        if isinstance(text, int):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await ws.close(code=text, message=b"server shutdown")
            break
        try:
            await ws.send_str(text)
        except (ConnectionError, RuntimeError):
            break
    await ws.close()


#: Queued last on a socket when the gateway stops: close with 1001 (going away).
GOING_AWAY = 1001


def _limit_failure(exc: LimitReached) -> codec.Fail:
    """WCS's refusal of a connection that went over a limit (the socket closes after it)."""
    return codec.Fail(api_method="ConnectionStatusEvent", status="FAILED", info=str(exc))


def _size(data: str | bytes) -> int:
    return len(data.encode()) if isinstance(data, str) else len(data)


def _address(info: Any) -> str | None:
    if isinstance(info, tuple) and len(info) >= 2:
        return f"{info[0]}:{info[1]}"
    return None
