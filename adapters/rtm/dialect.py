"""The RTM runtime: the WebSocket pump, the REST around it, deliveries and webhooks.

Routes (paths from :class:`~adapters.rtm.settings.RtmSettings`)::

    GET  /api/v2/io[/{session_id}]              client WebSocket
    GET  /api/v2/supervisor_io[/{session_id}]   supervisor WebSocket (same protocol)
    POST /auth_v2/client, /auth_v2/supervisor   JWTs from the master key
    POST /api/v2/session, /api/v2/supervisor_session

Gateway services used when present (``GatewayContext.services``): ``webhooks``
(:class:`core.webhooks.WebhookDispatcher`) and ``deliveries``
(:class:`core.delivery.DeliveryQueue`); ``ice_servers`` for the REST answers.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Sequence
from typing import Any

import structlog
from aiohttp import WSMsgType, web

from adapters.hookspecs import GatewayContext, Route
from adapters.rtm import auth, codec
from adapters.rtm.session import ActiveRecording, Cause, RtmSession, State, iso
from adapters.rtm.settings import RtmSettings
from core.delivery import DeliveryOutcome, DeliveryQueue
from core.errors import LimitReached, Unauthorized
from core.hub import Hub
from core.limits import ConnectionGuard, Limiter
from core.names import validate_stream_name
from core.recording import RecordingResult
from core.tasks import TaskOwner
from core.webhooks import WebhookDispatcher

log = structlog.get_logger(__name__)

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-~@+=:]")


class RtmDialect:
    """One per gateway process."""

    name = "rtm"

    def __init__(self, ctx: GatewayContext) -> None:
        settings = ctx.settings
        assert isinstance(settings, RtmSettings)
        self.settings = settings
        self.ctx = ctx
        self.hub: Hub = ctx.hub
        self.tasks = TaskOwner("rtm")
        self.sessions: dict[str, RtmSession] = {}  # by session id, SETUP or later
        self.reserved: dict[str, auth.Claims] = {}  # INIT: ids handed out by the REST API
        self.webhooks: WebhookDispatcher | None = ctx.services.get("webhooks")
        self.deliveries: DeliveryQueue | None = ctx.services.get("deliveries")
        self._unobserve = (
            self.deliveries.observe(self._delivery_outcome) if self.deliveries else None
        )
        self._sockets: set[web.WebSocketResponse] = set()
        self._outbox: set[asyncio.Task[Any]] = set()  # webhooks being written to the outbox
        self.limiter: Limiter = ctx.services.get("limiter") or Limiter()
        self.stopping = False

    # -- Dialect ---------------------------------------------------------------------------

    def routes(self) -> Sequence[Route]:
        s = self.settings
        return [
            Route("GET", s.ws_path, self.websocket, name="rtm_io"),
            Route("GET", s.ws_path + "/{session_id}", self.websocket),
            Route("GET", s.supervisor_ws_path, self.websocket),
            Route("GET", s.supervisor_ws_path + "/{session_id}", self.websocket),
            Route("POST", "/auth_v2/client", self.auth_client),
            Route("POST", "/auth_v2/supervisor", self.auth_supervisor),
            Route("POST", "/api/v2/session", self.create_session),
            Route("POST", "/api/v2/supervisor_session", self.create_supervisor_session),
        ]

    async def start(self) -> None:
        pass

    async def stop(self, *, graceful: bool) -> None:
        self.stopping = True
        await asyncio.gather(
            *(s.terminate(Cause.SERVICE_SHUTDOWN) for s in tuple(self.sessions.values())),
            return_exceptions=True,
        )
        for ws in tuple(self._sockets):
            await ws.close()
        # the last session_finished webhooks must reach the outbox before anything stops
        await asyncio.gather(*tuple(self._outbox), return_exceptions=True)
        await self.tasks.cancel_all()
        if self._unobserve is not None:
            self._unobserve()

    # -- registry --------------------------------------------------------------------------

    def stream_name(self, client_id: str) -> str:
        name = self.settings.stream_name.replace("{client_id}", client_id)
        try:
            return validate_stream_name(name)
        except Exception:
            return validate_stream_name("rtm_" + _UNSAFE.sub("_", name)[:100])

    def live_session_of(self, client_id: str, role: str) -> RtmSession | None:
        for session in self.sessions.values():
            if session.client_id == client_id and session.role == role:
                if session.state in (State.SETUP, State.ACTIVE):
                    return session
        return None

    # -- the WebSocket pump ----------------------------------------------------------------

    def _claims(self, request: web.Request) -> auth.Claims | None:
        """The token's claims; None when authentication is off. Raises Unauthorized."""
        if not self.settings.master_key:
            return None
        token = request.query.get("token", "")
        header = request.headers.get("Authorization", "")
        if not token and header.lower().startswith("bearer "):
            token = header[7:].strip()
        if not token:
            raise Unauthorized("a token is required")
        return auth.check(self.settings.master_key, token)

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        try:
            claims = self._claims(request)
        except Unauthorized as exc:
            return web.json_response({"error": str(exc)}, status=401)
        ws = web.WebSocketResponse(heartbeat=30.0, max_msg_size=self.limiter.transport_max_bytes)
        await ws.prepare(request)
        try:
            guard = self.limiter.connect(request.remote)
        except LimitReached as exc:
            log.info("rtm_connection_refused", reason=exc.details.get("limit"))
            refusal = codec.SessionState(State.TERMINATED.value, Cause.CONN_ERROR.value)
            await ws.send_str(codec.encode(codec.Frame("", "", refusal)))
            await ws.close(code=1008, message=b"limit reached")
            return ws
        self._sockets.add(ws)
        connection = _Connection(self, ws, claims, request.match_info.get("session_id"), guard)
        try:
            await connection.pump()
        finally:
            guard.release()
            self._sockets.discard(ws)
            await connection.closed()
        return ws

    # -- recordings and webhooks -----------------------------------------------------------

    async def deliver(
        self, session: RtmSession, recording: ActiveRecording, result: RecordingResult
    ) -> None:
        meta = session.recording_meta(recording, result)
        if self.deliveries is None:
            log.warning("rtm_no_delivery_queue", rec_id=result.recording_id)
            return
        await self.deliveries.deliver(result.path, session.target_for(recording), meta=meta)

    def _delivery_outcome(self, outcome: DeliveryOutcome) -> None:
        meta = outcome.meta
        if meta.get("dialect") != "rtm":
            return
        rec_id = str(meta.get("rec_id"))
        url = meta.get("webhook_url")
        if outcome.ok:
            if url:
                payload = {
                    "status": "upload_ready",
                    "msg": "recording uploaded",
                    **{k: v for k, v in meta.items() if k.startswith("recording_")},
                    "rec_id": rec_id,
                    "client_id": meta.get("client_id"),
                }
                self._webhook(url, payload, "upload_ready")
            return
        if outcome.attempt != 1:
            return  # told once; the retries go on quietly until one succeeds
        session = self.sessions.get(str(meta.get("session_id")))
        if session is not None:
            session.send(codec.RecordingState(rec_id, "FAILED"))
        if url:
            self._webhook(
                url,
                {
                    "status": "upload_failed",
                    "msg": outcome.error or "upload failed",
                    "rec_id": rec_id,
                    "client_id": meta.get("client_id"),
                    "upload_status_code": outcome.status,
                },
                "upload_failed",
            )

    def _webhook(self, url: str, payload: dict[str, Any], event: str) -> None:
        """Put the webhook in the dispatcher's outbox (awaited by :meth:`stop`)."""
        if self.webhooks is None:
            return
        task = self.tasks.spawn(
            self.webhooks.send(url, payload, event=event), name=f"rtm-hook:{event}"
        )
        self._outbox.add(task)
        task.add_done_callback(self._outbox.discard)

    def session_finished(self, session: RtmSession) -> None:
        if self.sessions.get(session.id) is session:
            del self.sessions[session.id]
        if session.webhook_url and session.state is not State.INIT:
            status = (
                "session_finished" if session.role == "client" else "supervisor_session_finished"
            )
            self._webhook(
                session.webhook_url,
                {
                    "status": status,
                    "msg": "session finished",
                    "session_id": session.id,
                    "client_id": session.client_id,
                    "termination_cause": session.cause.value if session.cause else None,
                    "started_at": iso(session.started_at),
                    "stopped_at": iso(session.stopped_at),
                },
                status,
            )

    # -- REST ------------------------------------------------------------------------------

    async def _json(self, request: web.Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise web.HTTPBadRequest(text=json.dumps({"error": "body is not JSON"})) from exc
        if not isinstance(body, dict):
            raise web.HTTPBadRequest(text=json.dumps({"error": "body is not an object"}))
        return body

    def _master(self, body: dict[str, Any]) -> None:
        key = self.settings.master_key
        if not key or body.get("master_key") != key:
            raise web.HTTPUnauthorized(text=json.dumps({"error": "wrong master key"}))

    def _ttl(self, body: dict[str, Any]) -> int:
        ttl = body.get("token_ttl_s", self.settings.token_ttl)
        return ttl if isinstance(ttl, int) and ttl > 0 else self.settings.token_ttl

    async def auth_client(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        self._master(body)
        client_id = body.get("client_id")
        if not isinstance(client_id, str) or not client_id:
            return web.json_response({"error": "client_id is required"}, status=400)
        token = auth.issue(
            self.settings.master_key, auth.Claims(client_id, "client"), self._ttl(body)
        )
        return web.json_response({"auth_token": token}, status=201)

    async def auth_supervisor(self, request: web.Request) -> web.Response:
        body = await self._json(request)
        self._master(body)
        client_id, target = body.get("client_id"), body.get("client_to_monitor")
        if not isinstance(client_id, str) or not isinstance(target, str):
            return web.json_response(
                {"error": "client_id and client_to_monitor are required"}, status=400
            )
        claims = auth.Claims(client_id, "supervisor", target)
        token = auth.issue(self.settings.master_key, claims, self._ttl(body))
        return web.json_response({"auth_token": token}, status=201)

    def _bearer(self, request: web.Request, role: str) -> auth.Claims | None:
        try:
            claims = self._claims(request)
        except Unauthorized as exc:
            raise web.HTTPUnauthorized(text=json.dumps({"error": str(exc)})) from exc
        if claims is not None and claims.role != role:
            raise web.HTTPForbidden(text=json.dumps({"error": f"not a {role} token"}))
        return claims

    def _ice(self) -> dict[str, Any]:
        servers = []
        for server in self.ctx.services.get("ice_servers", ()):
            entry: dict[str, Any] = {"urls": list(server.urls)}
            if server.username:
                entry["username"] = server.username
                entry["credential"] = server.credential
            servers.append(entry)
        return {"iceServers": servers}

    def _ws_url(self, request: web.Request, path: str) -> str:
        scheme = "wss" if request.secure else "ws"
        return f"{scheme}://{request.host}{path}"

    async def create_session(self, request: web.Request) -> web.Response:
        claims = self._bearer(request, "client")
        body = await self._json(request) if request.can_read_body else {}
        client_id = claims.client_id if claims else str(body.get("client_id") or "")
        if not client_id:
            return web.json_response({"error": "client_id is required"}, status=400)
        session_id = str(uuid.uuid4())
        self.reserved[session_id] = auth.Claims(client_id, "client")
        return web.json_response(
            {
                "session_id": session_id,
                "ice_credentials": self._ice(),
                "ws_endpoint": self._ws_url(request, self.settings.ws_path),
            },
            status=201,
        )

    async def create_supervisor_session(self, request: web.Request) -> web.Response:
        claims = self._bearer(request, "supervisor")
        body = await self._json(request)
        client_id = claims.client_id if claims else str(body.get("client_id") or "")
        target_client = str(body.get("client_id_to_monitor") or "")
        if claims is not None and claims.client_to_monitor not in (None, target_client):
            return web.json_response({"error": "the token monitors another client"}, status=403)
        target_id = body.get("session_id_to_monitor")
        if not target_id:
            agent = self.live_session_of(target_client, "client")
            target_id = agent.id if agent else None
        if not client_id or not target_id:
            return web.json_response({"error": "no session to monitor"}, status=404)
        session_id = str(uuid.uuid4())
        self.reserved[session_id] = auth.Claims(client_id, "supervisor", target_client)
        return web.json_response(
            {
                "session_id": session_id,
                "session_id_to_monitor": target_id,
                "ice_credentials": self._ice(),
                "ws_endpoint": self._ws_url(
                    request, f"{self.settings.supervisor_ws_path}/{session_id}"
                ),
            },
            status=201,
        )


class _Connection:
    """One WebSocket: at most one RTM session; the reader is the only task reading it."""

    def __init__(
        self,
        dialect: RtmDialect,
        ws: web.WebSocketResponse,
        claims: auth.Claims | None,
        path_session_id: str | None,
        guard: ConnectionGuard | None = None,
    ) -> None:
        self.dialect = dialect
        self.guard = guard
        self.ws = ws
        self.claims = claims
        self.path_session_id = path_session_id
        self.session: RtmSession | None = None
        self.client_id = ""
        self.session_id = ""
        self.log = log.bind(remote=None)
        self._out: asyncio.Queue[str | None] = asyncio.Queue()
        self._finishing = False
        self._writer_task = dialect.tasks.spawn(self._writer(), name="rtm-writer")

    def send(self, message: codec.Message, *, client_id: str = "", session_id: str = "") -> None:
        """Queue a frame; the writer sends frames in order (a no-op once finishing)."""
        if self._finishing or self.ws.closed:
            return
        frame = codec.Frame(client_id or self.client_id, session_id or self.session_id, message)
        self._out.put_nowait(codec.encode(frame))

    async def _writer(self) -> None:
        try:
            while (text := await self._out.get()) is not None:
                try:
                    await self.ws.send_str(text)
                except (ConnectionError, RuntimeError):
                    break
        finally:
            await self.ws.close()

    async def finish(self) -> None:
        """Send what is queued, then close the socket (idempotent)."""
        if not self._finishing:
            self._finishing = True
            self._out.put_nowait(None)
        await asyncio.wait_for(asyncio.shield(self._writer_task), 5)

    async def pump(self) -> None:
        idle = self.dialect.settings.idle_timeout or None
        while True:
            try:
                message = await self.ws.receive(timeout=idle)
            except TimeoutError:
                self.log.info("rtm_idle_timeout")
                return
            if message.type in (WSMsgType.TEXT, WSMsgType.BINARY) and self.guard is not None:
                try:
                    self.guard.admit(_size(message.data))
                except LimitReached as exc:
                    await self._limited(exc)
                    return
            if message.type == WSMsgType.TEXT:
                try:
                    frame = codec.decode(message.data)
                except codec.CodecError as exc:
                    self.log.info("rtm_bad_frame", detail=str(exc))
                    continue
                await self.handle(frame)
                if self.session is not None and self.session.state is State.TERMINATED:
                    return
            elif message.type in (WSMsgType.CLOSE, WSMsgType.CLOSING, WSMsgType.CLOSED):
                return
            elif message.type == WSMsgType.ERROR:
                return

    async def _limited(self, exc: LimitReached) -> None:
        """The client went over a limit: its session ends with ``CONN_ERROR``."""
        self.log.info("rtm_connection_limited", reason=exc.details.get("limit"))
        if self.session is not None and self.session.state is not State.TERMINATED:
            await self.session.terminate(Cause.CONN_ERROR)
        else:
            self.send(codec.SessionState(State.TERMINATED.value, Cause.CONN_ERROR.value))

    async def closed(self) -> None:
        """The socket is gone: end the session it held (its recording is finished)."""
        session = self.session
        if session is not None and session.state is not State.TERMINATED:
            await session.terminate(Cause.CONN_ERROR)
        await self.finish()

    async def handle(self, frame: codec.Frame) -> None:
        message = frame.message
        session = self.session
        if isinstance(message, codec.Ping):
            self.send(codec.Pong(), client_id=frame.client_id, session_id=frame.session_id)
        elif isinstance(message, codec.SessionStart | codec.SupervisorJoinSession):
            if session is None:
                await self._start(frame)
        elif session is None:
            self.log.info("rtm_no_session", type=frame.type)
        elif isinstance(message, codec.Candidate):
            await session.candidate(message.candidate)
        elif isinstance(message, codec.RecordingStart):
            await session.start_recording(message)
        elif isinstance(message, codec.RecordingStop):
            await session.stop_recording()
        elif isinstance(message, codec.SessionStop):
            await session.terminate(Cause.TERM_BY_CLIENT)
        elif isinstance(message, codec.SdpUpdate):
            self.log.info("rtm_renegotiation_unsupported")

    async def _start(self, frame: codec.Frame) -> None:
        dialect = self.dialect
        message = frame.message
        supervisor = isinstance(message, codec.SupervisorJoinSession)
        role = "supervisor" if supervisor else "client"
        self.client_id = frame.client_id
        self.session_id = frame.session_id or self.path_session_id or str(uuid.uuid4())
        reserved = dialect.reserved.pop(self.session_id, None)
        claims = self.claims or reserved
        refused: Cause | None = None
        if dialect.settings.master_key and (
            claims is None or claims.client_id != frame.client_id or claims.role != role
        ):
            refused = Cause.CONN_ERROR
        elif dialect.stopping:
            refused = Cause.SERVICE_SHUTDOWN
        elif dialect.live_session_of(frame.client_id, role) or self.session_id in dialect.sessions:
            refused = Cause.TWO_TIMER
        target: RtmSession | None = None
        if refused is None and isinstance(message, codec.SupervisorJoinSession):
            target = dialect.sessions.get(message.session_id_to_monitor)
            if target is None or target.role != "client" or target.state is not State.ACTIVE:
                refused = Cause.NO_ACTIVE_AGENT
            elif (
                claims is not None
                and claims.client_to_monitor
                and claims.client_to_monitor != target.client_id
            ):
                refused = Cause.NO_ACTIVE_AGENT
            elif len(target.supervisors) >= dialect.settings.max_supervisors:
                refused = Cause.MAX_SUPERVISORS_PER_AGENT
        if refused is not None:
            self.send(codec.SessionState(State.TERMINATED.value, refused.value))
            self.log.info("rtm_session_refused", cause=refused.value, role=role)
            self.session = None
            await self.finish()
            return
        assert isinstance(message, codec.SessionStart | codec.SupervisorJoinSession)
        session = RtmSession(
            dialect,
            client_id=frame.client_id,
            session_id=self.session_id,
            role=role,
            send=self.send,
            on_end=self._ended,
            webhook_url=message.webhook_url,
        )
        self.session = session
        dialect.sessions[session.id] = session
        if target is not None:
            await session.start_supervisor(message.sdp, target)
        else:
            await session.start_client(message.sdp)

    def _ended(self) -> None:
        if not self._finishing:
            self._finishing = True
            self._out.put_nowait(None)


def _size(data: str | bytes) -> int:
    return len(data.encode()) if isinstance(data, str) else len(data)
