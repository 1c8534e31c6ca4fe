"""The REST admin API under ``/api/v1``: read the hub, terminate, record.

Every handler is a pump: authorize, read the hub (or make one call), serialise. The shapes
are those of the OpenAPI document (:mod:`gateway.admin.openapi`); a test validates real
responses against it.

Authorization: with ``[admin] token`` set, every request but the OpenAPI document needs
``Authorization: Bearer <token>``; without a token only clients on a loopback address are
answered (403 for the others), so an unconfigured gateway never exposes the API.
"""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

from core.hub import Hub
from core.media import TrackStats
from core.names import DEFAULT_NAMESPACE, StreamKey
from core.recording import RecordingError
from core.room import Room
from core.session import Session
from core.stream import Stream, Subscription
from gateway.admin.openapi import document
from gateway.admin.recordings import AdminRecording, AdminRecordings, AlreadyRecording

PREFIX = "/api/v1"
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class DialectInfo:
    """What the API says about a loaded dialect."""

    name: str
    title: str
    started: bool
    routes: Sequence[tuple[str, str]]


@dataclass
class AdminApi:
    """What the handlers need, hung off the application under :data:`ADMIN`."""

    hub: Hub
    recordings: AdminRecordings
    dialects: Callable[[], list[DialectInfo]]
    token: str | None
    started_at: float


ADMIN = web.AppKey("admin", AdminApi)


class Problem(Exception):
    """A refusal, answered as an RFC 9457 ``application/problem+json`` body."""

    def __init__(self, status: int, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}

    def response(self) -> web.Response:
        body = {
            "type": "about:blank",
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "detail": self.detail,
        }
        response = web.json_response(body, status=self.status, headers=self.headers)
        response.content_type = PROBLEM
        return response


def is_loopback(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def authorize(request: web.Request, token: str | None) -> None:
    if token is None:
        if not is_loopback(request.remote):
            raise Problem(
                403, "the admin API answers loopback clients only until [admin] token is set"
            )
        return
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip(), token):
        raise Problem(
            401, "a valid bearer token is required", {"WWW-Authenticate": 'Bearer realm="admin"'}
        )


Handler = Callable[[web.Request, AdminApi], Awaitable[web.StreamResponse]]


def _pump(handler: Handler) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def pumped(request: web.Request) -> web.StreamResponse:
        try:
            api = request.app.get(ADMIN)
            if api is None:
                raise Problem(503, "the gateway is starting or stopping")
            authorize(request, api.token)
            return await handler(request, api)
        except Problem as problem:
            return problem.response()

    pumped.__name__ = handler.__name__
    return pumped


# -- serialisation ---------------------------------------------------------------------------


def track_stats(stats: dict[str, TrackStats]) -> dict[str, dict[str, Any]]:
    return {
        kind: {
            "codec": s.codec,
            "packets": s.packets,
            "bytes": s.bytes,
            "bitrate_bps": s.bitrate_bps,
            "fps": s.fps,
            "width": s.width,
            "height": s.height,
            "lost": s.lost,
            "nack_count": s.nack_count,
            "pli_count": s.pli_count,
        }
        for kind, s in stats.items()
    }


def _safe_stats(read: Callable[[], dict[str, TrackStats]]) -> dict[str, dict[str, Any]]:
    try:
        return track_stats(read())
    except Exception:  # torn down while we looked
        return {}


def stream_json(stream: Stream, recordings: AdminRecordings) -> dict[str, Any]:
    recording = recordings.of_stream(stream.key)
    return {
        "name": stream.name,
        "namespace": stream.namespace,
        "state": stream.state.value,
        "session_id": stream.session.id,
        "dialect": stream.session.dialect,
        "created_at": stream.created_at,
        "live_at": stream.live_at,
        "tracks": [
            {"kind": t.kind, "mid": t.mid, "codec": t.codec.mime_type} for t in stream.tracks
        ],
        "stats": _safe_stats(stream.stats),
        "subscribers": len(stream.subscriptions),
        "recording_id": recording.id if recording else None,
    }


def subscription_json(subscription: Subscription) -> dict[str, Any]:
    return {
        "id": subscription.id,
        "streams": [s.name for s in subscription.streams],
        "persistent": subscription.persistent,
        "stats": _safe_stats(subscription.endpoint.stats),
    }


def session_json(session: Session) -> dict[str, Any]:
    return {
        "id": session.id,
        "dialect": session.dialect,
        "namespace": session.namespace,
        "remote": session.remote,
        "created_at": session.created_at,
        "publishing": sorted(session.publications),
        "subscriptions": [subscription_json(s) for s in session.subscriptions.values()],
        "rooms": sorted(k.name for k in session.rooms),
    }


def room_json(room: Room) -> dict[str, Any]:
    live = {s.name for s in room.live_streams()}
    return {
        "name": room.name,
        "namespace": room.key.namespace,
        "members": [
            {"member_id": m.member_id, "session_id": m.session.id, "live": m.member_id in live}
            for m in room.members.values()
        ],
        "live_streams": sorted(live),
    }


def _json(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _key(request: web.Request) -> StreamKey:
    return StreamKey(request.query.get("namespace", DEFAULT_NAMESPACE), request.match_info["name"])


def _stream(api: AdminApi, key: StreamKey) -> Stream:
    stream = api.hub.streams_by_key.get(key)
    if stream is None:
        raise Problem(404, f"no stream {key.name!r} in namespace {key.namespace!r}")
    return stream


def _recording(recording: AdminRecording) -> dict[str, Any]:
    return recording.as_json()


# -- handlers --------------------------------------------------------------------------------


async def get_status(request: web.Request, api: AdminApi) -> web.Response:
    hub = api.hub
    return _json(
        {
            "node_id": hub.node_id,
            "uptime_s": round(time.time() - api.started_at, 1),
            "sessions": len(hub.sessions),
            "streams": len(hub.streams_by_key),
            "live_streams": sum(1 for s in hub.streams_by_key.values() if s.live),
            "rooms": len(hub.rooms),
            "recordings": len(api.recordings.active),
        }
    )


async def list_streams(request: web.Request, api: AdminApi) -> web.Response:
    namespace = request.query.get("namespace")
    streams = sorted(api.hub.streams(namespace), key=lambda s: (s.namespace, s.name))
    return _json({"streams": [stream_json(s, api.recordings) for s in streams]})


async def get_stream(request: web.Request, api: AdminApi) -> web.Response:
    return _json(stream_json(_stream(api, _key(request)), api.recordings))


async def delete_stream(request: web.Request, api: AdminApi) -> web.Response:
    stream = _stream(api, _key(request))
    publication = stream.session.publications.get(stream.name)
    if publication is not None:
        await publication.close("terminated_by_admin")
    return web.Response(status=204)


async def list_sessions(request: web.Request, api: AdminApi) -> web.Response:
    dialect = request.query.get("dialect")
    sessions = [s for s in api.hub.sessions.values() if dialect in (None, s.dialect)]
    sessions.sort(key=lambda s: s.created_at)
    return _json({"sessions": [session_json(s) for s in sessions]})


def _session(api: AdminApi, request: web.Request) -> Session:
    session = api.hub.sessions.get(request.match_info["id"])
    if session is None:
        raise Problem(404, "no such session")
    return session


async def get_session(request: web.Request, api: AdminApi) -> web.Response:
    return _json(session_json(_session(api, request)))


async def delete_session(request: web.Request, api: AdminApi) -> web.Response:
    await _session(api, request).close("terminated_by_admin")
    return web.Response(status=204)


async def list_rooms(request: web.Request, api: AdminApi) -> web.Response:
    rooms = sorted(api.hub.rooms.values(), key=lambda r: (r.key.namespace, r.name))
    return _json({"rooms": [room_json(r) for r in rooms]})


async def list_recordings(request: web.Request, api: AdminApi) -> web.Response:
    return _json({"recordings": [_recording(r) for r in api.recordings.list()]})


async def get_recording(request: web.Request, api: AdminApi) -> web.Response:
    recording = api.recordings.by_id.get(request.match_info["id"])
    if recording is None:
        raise Problem(404, "no such recording")
    return _json(_recording(recording))


async def start_recording(request: web.Request, api: AdminApi) -> web.Response:
    stream = _stream(api, _key(request))
    if not stream.live:
        raise Problem(409, f"stream {stream.name!r} is not live yet", {"Retry-After": "2"})
    try:
        recording = await api.recordings.start(stream)
    except AlreadyRecording as exc:
        raise Problem(409, str(exc)) from None
    except RecordingError as exc:
        raise Problem(422, str(exc)) from None
    location = f"{PREFIX}/recordings/{recording.id}"
    return web.json_response(_recording(recording), status=201, headers={"Location": location})


async def stop_recording(request: web.Request, api: AdminApi) -> web.Response:
    key = _key(request)
    recording = await api.recordings.stop(key, "stopped_by_admin")
    if recording is None:
        raise Problem(404, f"stream {key.name!r} is not being recorded")
    return _json(_recording(recording))


async def list_dialects(request: web.Request, api: AdminApi) -> web.Response:
    counts: dict[str, int] = {}
    for session in api.hub.sessions.values():
        counts[session.dialect] = counts.get(session.dialect, 0) + 1
    return _json(
        {
            "dialects": [
                {
                    "name": d.name,
                    "title": d.title,
                    "started": d.started,
                    "sessions": counts.get(d.name, 0),
                    "routes": [{"method": m, "path": p} for m, p in d.routes],
                }
                for d in api.dialects()
            ]
        }
    )


async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3.1 document; public, it holds no data."""
    return web.json_response(document(), headers={"Access-Control-Allow-Origin": "*"})


def add_routes(app: web.Application) -> None:
    """Mount the API on ``app`` (the handlers find their state under :data:`ADMIN`)."""
    r = app.router
    r.add_get(f"{PREFIX}/openapi.json", openapi, name="admin_openapi")
    r.add_get(f"{PREFIX}/status", _pump(get_status), name="admin_status")
    r.add_get(f"{PREFIX}/streams", _pump(list_streams), name="admin_streams")
    r.add_get(f"{PREFIX}/streams/{{name}}", _pump(get_stream), name="admin_stream")
    r.add_delete(f"{PREFIX}/streams/{{name}}", _pump(delete_stream))
    r.add_post(f"{PREFIX}/streams/{{name}}/recording", _pump(start_recording))
    r.add_delete(f"{PREFIX}/streams/{{name}}/recording", _pump(stop_recording))
    r.add_get(f"{PREFIX}/sessions", _pump(list_sessions), name="admin_sessions")
    r.add_get(f"{PREFIX}/sessions/{{id}}", _pump(get_session), name="admin_session")
    r.add_delete(f"{PREFIX}/sessions/{{id}}", _pump(delete_session))
    r.add_get(f"{PREFIX}/rooms", _pump(list_rooms), name="admin_rooms")
    r.add_get(f"{PREFIX}/recordings", _pump(list_recordings), name="admin_recordings")
    r.add_get(f"{PREFIX}/recordings/{{id}}", _pump(get_recording), name="admin_recording")
    r.add_get(f"{PREFIX}/dialects", _pump(list_dialects), name="admin_dialects")
