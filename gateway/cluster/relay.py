"""Origin → edge relays between the nodes of a cluster.

When a local player asks for a stream the directory says another node (the origin) publishes,
the edge opens a relay: a local publication of the same name that is not claimed in the
directory (``Session.publish(claim=False)``), whose receive-only offer it sends to the origin
over a WebSocket at ``/_cluster/relay/{namespace}/{name}`` (bearer: the cluster secret). The
origin answers with a subscription to the stream, packets forwarded as for any player; the edge
then fans out to every local player of any dialect, so the origin sends each stream once per
edge.

The WebSocket stays open for the relay's life and is its liveness: the origin closes it when
its stream ends, and when the origin process dies its kernel resets the connection at once; the
edge also ends the relays of a node whose heartbeat expired. Ending the relay publication tells
the players in their own dialect (the core's ``StreamEnded`` / ``SubscriptionEnded``). The
relay also ends when its last local player leaves, unless a room open here holds it (a member
on another node publishes it: the relay stays while the room has members here).

Both sides report their count of relays to the ``counted`` callback (the metrics).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import aiohttp
import structlog
from aiohttp import web

from core import errors, events
from core.hub import Hub
from core.names import StreamKey
from core.session import Session
from core.stream import Publication, Stream, StreamState
from core.tasks import TaskOwner
from gateway.cluster.directory import RedisDirectory

log = structlog.stdlib.get_logger("gateway.cluster")

RELAY_PATH = "/_cluster/relay/{namespace}/{name}"
DIALECT = "cluster"
#: A relay whose last player left lingers this long, so that a player who reconnects at
#: once does not make the edge pull the stream again.
LINGER = 1.0


# -- the relay's wire messages -----------------------------------------------------------------


@dataclass(frozen=True)
class RelayMessage:
    """One JSON text frame: ``{"type": "offer"|"answer"|"error", "sdp"?, "code"?, "message"?}``."""

    type: str
    sdp: str | None = None
    code: str | None = None
    message: str | None = None

    def encode(self) -> str:
        obj = {k: v for k, v in vars(self).items() if v is not None}
        return json.dumps(obj, separators=(",", ":"))

    @classmethod
    def parse(cls, text: str) -> RelayMessage:
        try:
            obj = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"not JSON: {exc}") from exc
        if not isinstance(obj, dict) or obj.get("type") not in ("offer", "answer", "error"):
            raise ValueError("not a relay message")
        fields = {k: obj.get(k) for k in ("sdp", "code", "message")}
        if any(v is not None and not isinstance(v, str) for v in fields.values()):
            raise ValueError("a relay message field has the wrong type")
        return cls(type=obj["type"], **fields)


class RelayError(Exception):
    """The origin cannot be reached or refuses the relay."""


# -- the edge --------------------------------------------------------------------------------


@dataclass(eq=False)
class Relay:
    key: StreamKey
    origin: str
    session: Session
    publication: Publication
    socket: aiohttp.ClientWebSocketResponse
    opened_at: float = field(default_factory=lambda: asyncio.get_running_loop().time())

    @property
    def stream(self) -> Stream:
        return self.publication.stream


class RelayManager:
    """The edge side: a :class:`core.directory.StreamResolver` the hub asks for streams that
    live on other nodes."""

    def __init__(
        self,
        hub: Hub,
        directory: RedisDirectory,
        *,
        secret: str,
        timeout: float,
        counted: Callable[[int], None] | None = None,
    ) -> None:
        self.hub = hub
        self.directory = directory
        self.timeout = timeout
        self._secret = secret
        self._counted = counted or (lambda n: None)
        self.relays: dict[StreamKey, Relay] = {}
        self._opening: dict[StreamKey, asyncio.Future[Stream | None]] = {}
        self._tasks = TaskOwner("cluster-relays")
        self._http: aiohttp.ClientSession | None = None
        self._unsubscribe = hub.bus.subscribe(self._on_event)
        self.opened = 0

    async def resolve(self, key: StreamKey) -> Stream | None:
        relay = self.relays.get(key)
        if relay is not None and relay.stream.state is StreamState.LIVE:
            return relay.stream
        pending = self._opening.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        entry = await self.directory.lookup(key)
        if entry is None or entry.node_id == self.hub.node_id:
            return None
        future: asyncio.Future[Stream | None] = asyncio.get_running_loop().create_future()
        self._opening[key] = future
        try:
            stream = await self._open(key, entry.node_id)
        except (RelayError, errors.DomainError) as exc:
            log.warning("relay_failed", stream=str(key), origin=entry.node_id, error=str(exc))
            stream = None
        finally:
            self._opening.pop(key, None)
        future.set_result(stream)
        return stream

    async def _open(self, key: StreamKey, origin: str) -> Stream:
        node = await self.directory.node(origin)
        if node is None or not node.url:
            raise RelayError(f"node {origin} is not alive")
        session = self.hub.open_session(
            dialect=DIALECT, namespace=key.namespace, remote=node.url, app_data={"origin": origin}
        )
        socket: aiohttp.ClientWebSocketResponse | None = None
        try:
            publication = await session.publish(
                key.name, claim=False, app_data={"relay_origin": origin}
            )
            offer = await publication.endpoint.create_offer()
            url = node.url.rstrip("/") + RELAY_PATH.format(
                namespace=quote(key.namespace, safe=""), name=quote(key.name, safe="")
            )
            if self._http is None:
                self._http = aiohttp.ClientSession()
            async with asyncio.timeout(self.timeout):
                socket = await self._http.ws_connect(
                    url, headers={"Authorization": f"Bearer {self._secret}"}, heartbeat=None
                )
                await socket.send_str(RelayMessage("offer", sdp=offer).encode())
                frame = await socket.receive()
                if frame.type is not aiohttp.WSMsgType.TEXT:
                    raise RelayError(f"the origin closed the relay ({frame.type.name})")
                reply = RelayMessage.parse(frame.data)
                if reply.type != "answer" or not reply.sdp:
                    raise RelayError(f"the origin refused: {reply.code}: {reply.message}")
                await publication.endpoint.accept_answer(reply.sdp)
                await _live(self.hub, publication.stream)
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            await _close_quietly(socket)
            await session.close("relay_failed")
            raise RelayError(f"relay from {origin}: {exc or type(exc).__name__}") from exc
        except BaseException:
            await _close_quietly(socket)
            await session.close("relay_failed")
            raise
        relay = Relay(key, origin, session, publication, socket)
        self.relays[key] = relay
        self.opened += 1
        self._counted(len(self.relays))
        self._tasks.spawn(self._watch(relay), name=f"relay:{key}")
        self._tasks.spawn(self._linger(relay), name=f"relay-linger:{key}")
        log.info("relay_opened", stream=str(key), origin=origin)
        return publication.stream

    async def _watch(self, relay: Relay) -> None:
        """The socket's only reader: the relay ends when it closes."""
        with contextlib.suppress(Exception):
            async for _ in relay.socket:
                pass
        await self.close_relay(relay, "origin_gone")

    async def _linger(self, relay: Relay) -> None:
        await asyncio.sleep(LINGER + self.timeout)
        if self._idle(relay):
            await self.close_relay(relay, "no_players")

    def _idle(self, relay: Relay) -> bool:
        """No player here, and no room here with the relayed stream's member."""
        if relay.stream.subscriptions:
            return False
        return not any(r.remote_member_for(relay.key) for r in self.hub.rooms.values())

    def rooms_changed(self) -> None:
        """A room closed here or lost a member on another node: end relays no one needs."""
        for relay in [r for r in self.relays.values() if self._idle(r)]:
            self._tasks.spawn(self._close_if_idle(relay), name=f"relay-idle:{relay.key}")

    def _on_event(self, event: events.Event) -> None:
        if isinstance(event, events.SubscriberLeft):
            relay = self.relays.get(event.key)
            if relay is not None and self._idle(relay):
                self._tasks.spawn(self._close_if_idle(relay), name=f"relay-idle:{event.key}")

    async def _close_if_idle(self, relay: Relay) -> None:
        await asyncio.sleep(LINGER)
        if self._idle(relay):
            await self.close_relay(relay, "no_players")

    def node_dead(self, node_id: str) -> None:
        for relay in [r for r in self.relays.values() if r.origin == node_id]:
            self._tasks.spawn(self.close_relay(relay, "origin_dead"), name=f"relay-dead:{node_id}")

    async def close_relay(self, relay: Relay, reason: str) -> None:
        if self.relays.get(relay.key) is not relay:
            return
        del self.relays[relay.key]
        self._counted(len(self.relays))
        await _close_quietly(relay.socket)
        await relay.session.close(reason)
        log.info("relay_closed", stream=str(relay.key), origin=relay.origin, reason=reason)

    async def close(self) -> None:
        self._unsubscribe()
        for relay in list(self.relays.values()):
            await self.close_relay(relay, "shutdown")
        await self._tasks.cancel_all()
        if self._http is not None:
            await self._http.close()


async def _live(hub: Hub, stream: Stream) -> None:
    """Wait for the core to mark ``stream`` live (its first packet arrived)."""
    live = asyncio.Event()

    def on_event(event: events.Event) -> None:
        if isinstance(event, events.StreamLive) and event.key == stream.key:
            live.set()

    unsubscribe = hub.bus.subscribe(on_event)
    try:
        if stream.state is StreamState.PENDING:
            await live.wait()
    finally:
        unsubscribe()


async def _close_quietly(socket: aiohttp.ClientWebSocketResponse | None) -> None:
    if socket is not None:
        with contextlib.suppress(Exception):
            await socket.close()


# -- the origin ------------------------------------------------------------------------------


class RelayOrigin:
    """The origin side: answers an edge's offer with a subscription to a local stream."""

    def __init__(
        self,
        hub: Hub,
        *,
        secret: str,
        timeout: float,
        counted: Callable[[int], None] | None = None,
    ) -> None:
        self.hub = hub
        self.timeout = timeout
        self._secret = secret
        self._counted = counted or (lambda n: None)
        self._tasks = TaskOwner("cluster-origin")
        self.serving = 0

    def authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        expected = f"Bearer {self._secret}"
        return hmac.compare_digest(header.encode(), expected.encode())

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if not self.authorised(request):
            return web.json_response({"error": "forbidden"}, status=403)
        ws = web.WebSocketResponse(heartbeat=None, max_msg_size=1 << 20)
        if not ws.can_prepare(request).ok:
            return web.json_response({"error": "upgrade expected"}, status=400)
        await ws.prepare(request)
        key = StreamKey(request.match_info["namespace"], request.match_info["name"])
        task = self._tasks.spawn(self._serve(ws, key, request.remote), name=f"origin:{key}")
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(task)
        return ws

    async def _serve(self, ws: web.WebSocketResponse, key: StreamKey, peer: str | None) -> None:
        session = self.hub.open_session(
            dialect=DIALECT, namespace=key.namespace, remote=peer, app_data={"edge": peer}
        )
        ended = asyncio.Event()

        def on_event(event: events.Event) -> None:
            if isinstance(event, events.SubscriptionEnded):
                ended.set()

        session.on_event(on_event)
        serving = False
        try:
            try:
                async with asyncio.timeout(self.timeout):
                    frame = await ws.receive()
                if frame.type is not aiohttp.WSMsgType.TEXT:
                    return
                offer = RelayMessage.parse(frame.data)
                if offer.type != "offer" or not offer.sdp:
                    raise ValueError("an offer was expected")
                subscription = await session.subscribe(key.name)
                answer = await subscription.endpoint.accept_offer(offer.sdp)
            except errors.DomainError as exc:
                await ws.send_str(RelayMessage("error", code=exc.code, message=str(exc)).encode())
                return
            except (ValueError, TimeoutError) as exc:
                error = RelayMessage("error", code="bad_request", message=str(exc))
                await ws.send_str(error.encode())
                return
            await ws.send_str(RelayMessage("answer", sdp=answer).encode())
            serving = True
            self.serving += 1
            self._counted(self.serving)
            log.info("relay_serving", stream=str(key), edge=peer)
            reader = asyncio.ensure_future(_drain(ws))
            stop = asyncio.ensure_future(ended.wait())
            try:
                await asyncio.wait([reader, stop], return_when=asyncio.FIRST_COMPLETED)
            finally:
                reader.cancel()
                stop.cancel()
        finally:
            if serving:
                self.serving -= 1
                self._counted(self.serving)
            with contextlib.suppress(Exception):
                await ws.close()
            await session.close("relay_closed")

    async def close(self) -> None:
        await self._tasks.cancel_all()


async def _drain(ws: web.WebSocketResponse) -> Any:
    async for _ in ws:
        pass
