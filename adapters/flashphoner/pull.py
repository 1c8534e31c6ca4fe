"""Republishing between servers, as WCS does it: ``/rest-api/pull/*``.

* ``pull/push`` sends a local stream to a remote server: a core subscription to the local
  stream makes the offer, and a :class:`~adapters.flashphoner.client.WcsAgent` publishes it
  there with ``publishStream``. Packets are forwarded, never transcoded.
* ``pull/pull`` plays a remote stream and publishes it here under ``localStreamName``: a core
  publication makes a receive-only offer, the agent sends it with ``playStream``.
* ``pull/find``, ``pull/find_all`` and ``pull/terminate`` see and end them.

Each republishing is a :class:`Republish` run by one task the dialect owns. The REST call waits
for the first attempt: ``200`` with the republishing object once the remote reports
``PUBLISHING`` (push) or ``PLAYING`` (pull), ``404`` when the local stream does not exist,
``409`` when the name is taken or the same republishing already runs, ``500`` when the remote
cannot be reached or refuses. Afterwards, when the local stream ends the push ends (``STOPPED``);
when the remote drops, the status says ``FAILED`` with the reason and, if
``republish_retry_interval`` is set, the task tries again after that interval.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

import structlog
from aiohttp import web

from adapters.flashphoner import codec
from adapters.flashphoner.client import FINAL, RemoteError, WcsAgent, websocket_url
from adapters.flashphoner.connection import new_media_session_id
from adapters.hookspecs import Route
from core import errors, events
from core.session import Session
from core.tasks import TaskOwner

if TYPE_CHECKING:
    from adapters.flashphoner.dialect import FlashphonerDialect

log = structlog.get_logger(__name__)

PREFIX = "/rest-api/pull"
Kind = Literal["push", "pull"]


class LocalError(Exception):
    """The local side cannot take part: no such stream (404), or the name is taken (409)."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


@dataclass(eq=False)
class Republish:
    """One push or pull, across its retries."""

    kind: Kind
    uri: str
    url: str
    local_name: str
    remote_name: str
    id: str = field(default_factory=new_media_session_id)
    remote_id: str = field(default_factory=new_media_session_id)
    status: str = "NEW"
    info: str | None = None
    attempts: int = 0
    running: bool = True
    #: Set once the first attempt is established or has failed.
    settled: asyncio.Event = field(default_factory=asyncio.Event)
    error: Exception | None = None
    task: asyncio.Task[None] | None = None

    def to_wire(self) -> codec.PullQuery:
        extra: dict[str, object] = {"type": self.kind, "attempts": self.attempts}
        if self.info:
            extra["info"] = self.info
        return codec.PullQuery(
            uri=self.uri,
            local_stream_name=self.local_name,
            remote_stream_name=self.remote_name,
            local_media_session_id=self.id,
            remote_media_session_id=self.remote_id,
            status=self.status,
            extra=extra,
        )

    def matches(self, query: codec.PullQuery) -> bool:
        wanted = codec.encode_object(query)
        mine = codec.encode_object(self.to_wire())
        return all(mine.get(k) == v for k, v in wanted.items() if k in _FILTERS)


_FILTERS = frozenset(
    {
        "uri",
        "localStreamName",
        "remoteStreamName",
        "localMediaSessionId",
        "remoteMediaSessionId",
        "status",
    }
)


class Republisher:
    """Every push and pull of one gateway process, and their REST API."""

    def __init__(self, dialect: FlashphonerDialect) -> None:
        self.dialect = dialect
        self.settings = dialect.settings
        self.records: dict[str, Republish] = {}
        self._tasks = TaskOwner("flashphoner-republish")

    def routes(self) -> Sequence[Route]:
        return [
            Route("POST", f"{PREFIX}/push", self.push, name="flashphoner-pull-push"),
            Route("POST", f"{PREFIX}/pull", self.pull, name="flashphoner-pull-pull"),
            Route("POST", f"{PREFIX}/find", self.find, name="flashphoner-pull-find"),
            Route("POST", f"{PREFIX}/find_all", self.find_all, name="flashphoner-pull-find-all"),
            Route("POST", f"{PREFIX}/terminate", self.terminate, name="flashphoner-pull-terminate"),
        ]

    async def close(self) -> None:
        for record in self.records.values():
            record.running = False
        await self._tasks.cancel_all()

    # -- REST -----------------------------------------------------------------------------

    async def _query(self, request: web.Request) -> codec.PullQuery:
        try:
            return codec.decode_pull_query(await request.read())
        except codec.DecodeError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc

    async def push(self, request: web.Request) -> web.Response:
        return await self._start("push", await self._query(request))

    async def pull(self, request: web.Request) -> web.Response:
        return await self._start("pull", await self._query(request))

    async def _start(self, kind: Kind, query: codec.PullQuery) -> web.Response:
        if not query.uri or not query.local_stream_name:
            raise web.HTTPBadRequest(text="uri and localStreamName are required")
        try:
            url = websocket_url(query.uri, secure=self.settings.agent_ssl)
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc
        remote_name = query.remote_stream_name or query.local_stream_name
        for other in self.records.values():
            if not other.running or other.kind != kind:
                continue
            same_target = other.url == url and other.remote_name == remote_name
            if other.local_name == query.local_stream_name and (kind == "pull" or same_target):
                return _error(409, "ConflictException", f"{kind} of this stream already runs")
        record = Republish(
            kind=kind,
            uri=query.uri,
            url=url,
            local_name=query.local_stream_name,
            remote_name=remote_name,
        )
        self.records[record.id] = record
        record.task = self._tasks.spawn(
            self._run(record), name=f"republish:{kind}:{record.local_name}"
        )
        await record.settled.wait()
        if record.error is not None:
            self.records.pop(record.id, None)
            if isinstance(record.error, LocalError):
                name = "ConflictException" if record.error.status == 409 else "NotFoundException"
                return _error(record.error.status, name, str(record.error))
            return _error(500, "InternalServerErrorException", str(record.error))
        return web.json_response(codec.encode_object(record.to_wire()))

    async def find(self, request: web.Request) -> web.Response:
        query = await self._query(request)
        found = [r for r in self.records.values() if r.matches(query)]
        if not found:
            return _error(404, "NotFoundException", "Not found")
        return web.json_response([codec.encode_object(r.to_wire()) for r in found])

    async def find_all(self, request: web.Request) -> web.Response:
        await self._query(request)
        if not self.records:
            return _error(404, "NotFoundException", "Not found")
        return web.json_response([codec.encode_object(r.to_wire()) for r in self.records.values()])

    async def terminate(self, request: web.Request) -> web.Response:
        query = await self._query(request)
        if not (set(codec.encode_object(query)) & _FILTERS):
            raise web.HTTPBadRequest(text="localMediaSessionId or a stream name is required")
        found = [r for r in self.records.values() if r.matches(query)]
        if not found:
            return _error(404, "NotFoundException", "Not found")
        for record in found:
            await self.stop(record)
        return web.Response(status=200)

    async def stop(self, record: Republish) -> None:
        """End ``record`` for good and forget it."""
        record.running = False
        self.records.pop(record.id, None)
        task = record.task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- the life of one republishing -----------------------------------------------------

    async def _run(self, record: Republish) -> None:
        interval = self.settings.republish_retry_interval
        try:
            while record.running:
                record.attempts += 1
                retry = await self._attempt(record)
                if not record.settled.is_set():
                    record.settled.set()
                    return
                if not retry or interval <= 0 or not record.running:
                    return
                await asyncio.sleep(interval)
        finally:
            record.running = False
            record.settled.set()

    async def _attempt(self, record: Republish) -> bool:
        """One connection to the remote; returns whether trying again makes sense."""
        hub = self.dialect.hub
        session = hub.open_session(
            dialect=self.dialect.name,
            namespace=self.settings.namespace,
            remote=record.url,
            app_data={"republish": record.kind, "republish_id": record.id},
        )
        local_ended = asyncio.Event()
        remote_ended = asyncio.Event()

        def on_local(event: events.Event) -> None:
            if isinstance(event, events.SubscriptionEnded | events.StreamEnded):
                local_ended.set()

        def on_remote(message: codec.StreamStatus) -> None:
            if message.media_session_id == record.remote_id and message.status in FINAL:
                record.info = message.info or message.status
                remote_ended.set()

        session.on_event(on_local)
        agent = WcsAgent(record.url, timeout=self.settings.republish_timeout)
        agent.on_status(on_remote)
        record.status = "PENDING"
        bound = log.bind(kind=record.kind, stream=record.local_name, remote=record.url)
        try:
            try:
                if record.kind == "push":
                    await self._push(record, session, agent)
                else:
                    await self._pull(record, session, agent)
            except (RemoteError, errors.DomainError, LocalError) as exc:
                record.status = "FAILED"
                record.info = str(exc)
                bound.info("republish_failed", error=str(exc), attempt=record.attempts)
                if not record.settled.is_set():
                    record.error = exc
                return not isinstance(exc, LocalError)
            record.info = None
            record.settled.set()
            bound.info("republish_started", status=record.status, attempt=record.attempts)
            await _first(local_ended, remote_ended, agent.closed)
            if local_ended.is_set():
                record.status = "STOPPED"
                record.info = "local stream ended"
                bound.info("republish_ended", reason="local_ended")
                return False
            record.status = "FAILED"
            record.info = record.info or f"connection lost ({agent.close_reason})"
            bound.info("republish_dropped", info=record.info)
            return True
        finally:
            with contextlib.suppress(Exception):
                await agent.stop(record.remote_id, record.remote_name, published=_is_push(record))
            await agent.close("republish_ended")
            await session.close("republish_ended")

    async def _push(self, record: Republish, session: Session, agent: WcsAgent) -> None:
        try:
            subscription = await session.subscribe(record.local_name)
        except errors.StreamNotFound as exc:
            raise LocalError(f"stream {record.local_name!r} is not published", 404) from exc
        kinds = {t.kind for s in subscription.streams for t in s.tracks}
        await agent.connect()
        offer = await subscription.endpoint.create_offer()
        answer = await agent.publish(
            record.remote_id,
            record.remote_name,
            offer,
            has_audio="audio" in kinds,
            has_video="video" in kinds,
        )
        await subscription.endpoint.accept_answer(answer)
        await agent.wait_status(record.remote_id, "PUBLISHING")
        record.status = "PUBLISHING"

    async def _pull(self, record: Republish, session: Session, agent: WcsAgent) -> None:
        try:
            publication = await session.publish(
                record.local_name, app_data={"republished_from": record.url}
            )
        except (errors.NameInUse, errors.AlreadyPublishing) as exc:
            raise LocalError(f"stream {record.local_name!r} is already published", 409) from exc
        await agent.connect()
        offer = await publication.endpoint.create_offer()
        answer = await agent.play(record.remote_id, record.remote_name, offer)
        await publication.endpoint.accept_answer(answer)
        await agent.wait_status(record.remote_id, "PLAYING")
        record.status = "PLAYING"


def _is_push(record: Republish) -> bool:
    return record.kind == "push"


async def _first(*flags: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(f.wait()) for f in flags]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()


def _error(status: int, exception: str, message: str) -> web.Response:
    return web.json_response({"exception": exception, "message": message}, status=status)
