"""The part of Ant Media's REST API (v2) that scripts around a deployment use.

``GET /{app}/rest/v2/broadcasts/list/{offset}/{size}``, ``GET .../broadcasts/count``,
``GET .../broadcasts/{id}``, ``POST .../broadcasts/create``, ``DELETE .../broadcasts/{id}``,
``GET .../broadcasts/{id}/token``, ``GET .../broadcasts/{id}/jwt-token`` and
``PUT .../broadcasts/{id}/recording/{true|false}`` (start or stop recording a live stream).

A broadcast is what the application knows of a stream id: the ones registered through REST
(:class:`BroadcastRegistry`) and the streams live in the application's namespace, whichever
dialect publishes them. Live ones read ``broadcasting`` (``preparing`` until media flows),
registered idle ones ``created``. Failures answer with Ant Media's Result object
``{"success": false, "message": ..., "dataId": ..., "errorId": ...}``.

REST calls are allowed from the addresses in the application's ``rest_allowed_cidrs``
(loopback by default, as Ant Media's ``remoteAllowedCIDR``) and, with ``rest_jwt_control``, with
a JWT in the ``Authorization`` header.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal, cast

import structlog
from aiohttp import web
from pydantic import BaseModel, TypeAdapter, ValidationError

from adapters.antmedia.broadcasts import (
    STATUS_BROADCASTING,
    STATUS_PREPARING,
    Broadcast,
    BroadcastRegistry,
)
from adapters.antmedia.recording import Recordings
from adapters.antmedia.security import Action, StreamSecurity, Token
from adapters.hookspecs import Route
from core.errors import InvalidName, LimitReached, NameInUse, Unauthorized
from core.hub import Hub
from core.names import StreamKey
from core.stream import Stream, StreamState

log = structlog.get_logger(__name__).bind(dialect="antmedia")

#: Ant Media answers at most this many broadcasts per list call.
MAX_LIST_SIZE = 50
#: ``errorId`` Ant Media puts in a Result refusing an invalid stream id.
INVALID_STREAM_NAME_ERROR = -1
TOKEN_PARAMS_MESSAGE = "Define Stream ID, Token Type and Expire Date (unix time)"
ID_IN_USE_MESSAGE = "Stream id is already being used. Please change stream id or keep it empty"


class Result(BaseModel):
    """Ant Media's Result object."""

    success: bool
    message: str | None = None
    dataId: str | None = None
    errorId: int = 0


class SimpleStat(BaseModel):
    """Ant Media's count object."""

    number: int


class BroadcastInput(Broadcast):
    """The body of ``POST .../broadcasts/create``: a Broadcast whose every field is optional."""

    streamId: str | None = None  # type: ignore[assignment]


_BROADCAST_LIST = TypeAdapter(list[Broadcast])


class RestError(Exception):
    """A refusal, answered with a Result body and ``status``."""

    def __init__(self, status: int, message: str, *, error_id: int = 0) -> None:
        super().__init__(message)
        self.status = status
        self.result = Result(success=False, message=message, errorId=error_id)


def _ms(seconds: float | None) -> int:
    return int(seconds * 1000) if seconds else 0


def _live_view(stream: Stream, registered: Broadcast | None) -> Broadcast:
    """The Broadcast of a stream in the hub, over its registration if it has one."""
    now = time.time()
    stats = stream.stats().values()
    width = next((s.width for s in stats if s.width), 0) or 0
    height = next((s.height for s in stats if s.height), 0) or 0
    app_data = stream.app_data
    live = stream.state is StreamState.LIVE
    base = registered or Broadcast(
        streamId=stream.name,
        name=_str_or_none(app_data.get("streamName")),
        metaData=_str_or_none(app_data.get("metaData")),
        mainTrackStreamId=_str_or_none(app_data.get("mainTrack")) or None,
        date=_ms(stream.created_at),
    )
    return base.model_copy(
        update={
            "status": STATUS_BROADCASTING if live else STATUS_PREPARING,
            "publishType": "WebRTC",
            "startTime": _ms(stream.live_at),
            "absoluteStartTimeMs": _ms(stream.live_at),
            "duration": _ms(now - stream.live_at) if stream.live_at else 0,
            "webRTCViewerCount": len(stream.subscriptions),
            "bitrate": sum(s.bitrate_bps for s in stats),
            "receivedBytes": sum(s.bytes for s in stats),
            "width": width,
            "height": height,
            "updateTime": _ms(now),
        }
    )


def _str_or_none(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


class BroadcastService:
    """What the REST calls do, apart from HTTP."""

    def __init__(
        self,
        *,
        hub: Hub,
        registry: BroadcastRegistry,
        security: StreamSecurity,
        namespace_of: Callable[[str], str],
    ) -> None:
        self.hub = hub
        self.registry = registry
        self.security = security
        self.namespace_of = namespace_of

    def _stream(self, app: str, stream_id: str) -> Stream | None:
        stream = self.hub.find_stream(StreamKey(self.namespace_of(app), stream_id))
        if stream is None or stream.state is StreamState.ENDED:
            return None
        return stream

    def lookup(self, app: str, stream_id: str) -> Broadcast:
        registered = self.registry.get(app, stream_id)
        stream = self._stream(app, stream_id)
        if stream is not None:
            return _live_view(stream, registered)
        if registered is None:
            raise RestError(404, f"Broadcast with streamId {stream_id} does not exist")
        return registered

    def all(self, app: str) -> list[Broadcast]:
        live = {
            s.name: s
            for s in self.hub.streams(self.namespace_of(app))
            if s.state is not StreamState.ENDED
        }
        merged: list[Broadcast] = []
        for registered in self.registry.list(app):
            stream = live.pop(registered.streamId, None)
            merged.append(registered if stream is None else _live_view(stream, registered))
        merged.extend(_live_view(s, None) for s in live.values())
        return merged

    def page(
        self,
        app: str,
        offset: int,
        size: int,
        *,
        sort_by: str | None = None,
        order_by: str | None = None,
        search: str | None = None,
    ) -> list[Broadcast]:
        found: Iterable[Broadcast] = self.all(app)
        if search:
            needle = search.lower()
            found = [
                b for b in found if needle in b.streamId.lower() or needle in (b.name or "").lower()
            ]
        reverse = (order_by or "asc").lower() == "desc"
        key: Callable[[Broadcast], Any]
        if sort_by == "name":
            key = lambda b: (b.name or "").lower()  # noqa: E731
        elif sort_by == "status":
            key = lambda b: b.status  # noqa: E731
        else:
            key = lambda b: b.date  # noqa: E731
        ordered = sorted(found, key=key, reverse=reverse)
        size = min(size, MAX_LIST_SIZE)
        if offset < 0 or size <= 0:
            return []
        return ordered[offset : offset + size]

    def create(self, app: str, data: BroadcastInput) -> Broadcast:
        stream_id = data.streamId or None
        if stream_id is not None and self._stream(app, stream_id) is not None:
            raise RestError(400, ID_IN_USE_MESSAGE)
        fields = data.model_dump(exclude_unset=True, exclude={"streamId", "name"})
        try:
            broadcast = self.registry.create(app, stream_id=stream_id, name=data.name, **fields)
        except NameInUse:
            raise RestError(400, ID_IN_USE_MESSAGE) from None
        except InvalidName:
            raise RestError(
                400, "Stream id is not valid.", error_id=INVALID_STREAM_NAME_ERROR
            ) from None
        except LimitReached as exc:
            raise RestError(400, str(exc)) from None
        log.info("broadcast_created", app=app, stream=broadcast.streamId)
        return broadcast

    async def delete(self, app: str, stream_id: str) -> Result:
        stream = self._stream(app, stream_id)
        removed = self.registry.delete(app, stream_id)
        if stream is None and not removed:
            raise RestError(404, f"Broadcast with streamId {stream_id} does not exist")
        if stream is not None:
            publication = stream.session.publications.get(stream.name)
            if publication is not None:
                await publication.close("deleted")
        log.info("broadcast_deleted", app=app, stream=stream_id, was_live=stream is not None)
        message = "broadcast is deleted and stopped successfully" if stream else None
        return Result(success=True, message=message, dataId=stream_id)

    def token(
        self, app: str, stream_id: str, action: str | None, expire_date: int, room_id: str | None
    ) -> Token:
        if action not in ("publish", "play") or expire_date <= 0:
            raise RestError(400, TOKEN_PARAMS_MESSAGE)
        try:
            token = self.security.issue_token(
                app=app,
                stream_id=stream_id,
                action=cast(Action, action),
                expire_date=expire_date,
                room_id=room_id or None,
            )
        except OverflowError:
            raise RestError(400, "Cannot save token to the datastore") from None
        log.info("token_issued", app=app, stream=stream_id, type=action)
        return token

    def jwt_token(self, app: str, stream_id: str, action: str | None, expire_date: int) -> Token:
        if action not in ("publish", "play") or expire_date <= 0:
            raise RestError(400, TOKEN_PARAMS_MESSAGE)
        try:
            return self.security.issue_jwt(
                app=app, stream_id=stream_id, action=cast(Action, action), expire_date=expire_date
            )
        except ValueError:
            raise RestError(400, "JWT stream secret key is not set for this application") from None


# -- HTTP ------------------------------------------------------------------------------------

RestHandler = Callable[[web.Request, str], Awaitable[web.Response]]


def _json(model: BaseModel, status: int = 200) -> web.Response:
    return web.json_response(text=model.model_dump_json(), status=status)


def _int(value: str | None, what: str) -> int:
    try:
        return int(value or "")
    except ValueError:
        raise RestError(400, f"{what} must be an integer") from None


def rest_routes(
    *,
    hub: Hub,
    registry: BroadcastRegistry,
    security: StreamSecurity,
    namespace_of: Callable[[str], str],
    recordings: Recordings | None = None,
) -> list[Route]:
    """The REST routes, for every application name."""
    service = BroadcastService(
        hub=hub, registry=registry, security=security, namespace_of=namespace_of
    )

    def guarded(handler: RestHandler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            app = request.match_info["app"]
            try:
                security.authorize_rest(
                    app=app,
                    remote=request.remote,
                    authorization=request.headers.get("Authorization"),
                )
            except Unauthorized as exc:
                status = 403 if exc.details.get("reason") == "address" else 401
                log.info("rest_refused", app=app, remote=request.remote, status=status)
                return _json(Result(success=False, message="Not allowed"), status)
            try:
                return await handler(request, app)
            except RestError as exc:
                return _json(exc.result, exc.status)

        return handle

    async def list_broadcasts(request: web.Request, app: str) -> web.Response:
        offset = _int(request.match_info["offset"], "offset")
        size = _int(request.match_info["size"], "size")
        query = request.query
        page = service.page(
            app,
            offset,
            size,
            sort_by=query.get("sort_by"),
            order_by=query.get("order_by"),
            search=query.get("search"),
        )
        return web.json_response(text=_BROADCAST_LIST.dump_json(page).decode())

    async def count(request: web.Request, app: str) -> web.Response:
        return _json(SimpleStat(number=len(service.all(app))))

    async def get(request: web.Request, app: str) -> web.Response:
        return _json(service.lookup(app, request.match_info["id"]))

    async def create(request: web.Request, app: str) -> web.Response:
        body = await request.read()
        try:
            data = BroadcastInput.model_validate_json(body) if body.strip() else BroadcastInput()
        except ValidationError:
            raise RestError(400, "The body is not a valid Broadcast object") from None
        return _json(service.create(app, data))

    async def delete(request: web.Request, app: str) -> web.Response:
        return _json(await service.delete(app, request.match_info["id"]))

    def token_params(request: web.Request) -> tuple[str | None, int]:
        expire = request.query.get("expireDate")
        try:
            expire_date = int(expire) if expire else 0
        except ValueError:
            raise RestError(400, TOKEN_PARAMS_MESSAGE) from None
        return request.query.get("type"), expire_date

    async def token(request: web.Request, app: str) -> web.Response:
        action, expire_date = token_params(request)
        issued = service.token(
            app, request.match_info["id"], action, expire_date, request.query.get("roomId")
        )
        return _json(issued)

    async def jwt_token(request: web.Request, app: str) -> web.Response:
        action, expire_date = token_params(request)
        return _json(service.jwt_token(app, request.match_info["id"], action, expire_date))

    async def recording(request: web.Request, app: str) -> web.Response:
        stream_id = request.match_info["id"]
        wanted = request.match_info["status"].lower()
        if wanted not in ("true", "false"):
            raise RestError(400, "Recording status must be true or false")
        key = StreamKey(namespace_of(app), stream_id)
        stream = service._stream(app, stream_id)
        if recordings is None or stream is None or stream.state is not StreamState.LIVE:
            raise RestError(404, f"Broadcast with streamId {stream_id} is not broadcasting")
        if wanted == "true":
            started = recordings.start_recording(key)
            if started is None:
                raise RestError(400, f"Recording of {stream_id} could not be started")
            log.info("rest_recording_started", app=app, stream=stream_id)
            return _json(Result(success=True, dataId=started.recorder.path.name))
        if not await recordings.stop_recording(key):
            raise RestError(400, f"Broadcast with streamId {stream_id} is not being recorded")
        log.info("rest_recording_stopped", app=app, stream=stream_id)
        return _json(Result(success=True, dataId=stream_id))

    base = "/{app}/rest/v2/broadcasts"
    routes: list[tuple[Literal["GET", "POST", "PUT", "DELETE"], str, RestHandler]] = [
        ("GET", f"{base}/list/{{offset}}/{{size}}", list_broadcasts),
        ("GET", f"{base}/count", count),
        ("POST", f"{base}/create", create),
        ("GET", f"{base}/{{id}}/token", token),
        ("GET", f"{base}/{{id}}/jwt-token", jwt_token),
        ("GET", f"{base}/{{id}}", get),
        ("DELETE", f"{base}/{{id}}", delete),
        ("PUT", f"{base}/{{id}}/recording/{{status}}", recording),
    ]
    return [Route(method, path, guarded(handler)) for method, path, handler in routes]
