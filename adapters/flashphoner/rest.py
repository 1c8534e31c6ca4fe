"""The WCS REST API: ``/rest-api/stream/*`` and ``/rest-api/connection/find_all``.

Every call is a POST with a JSON body (an empty body is an empty query). Answers use WCS's
status codes: 200 with the JSON result, 404 when nothing matches, 400 for a body that cannot
be read. The handlers are pumps: decode the body, make one call, serialise.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import structlog
from aiohttp import web

from adapters.flashphoner import codec
from adapters.flashphoner.connection import INFO, FlashphonerConnection, MediaSession
from adapters.hookspecs import Route
from core.stream import Stream

if TYPE_CHECKING:
    from adapters.flashphoner.dialect import FlashphonerDialect

log = structlog.get_logger(__name__)

PREFIX = "/rest-api"


@dataclass(frozen=True)
class Found:
    """A stream the REST API can see: a Flashphoner client's, or another dialect's."""

    obj: dict[str, Any]
    conn: FlashphonerConnection | None = None
    ms: MediaSession | None = None
    stream: Stream | None = None


class RestApi:
    def __init__(self, dialect: FlashphonerDialect) -> None:
        self.dialect = dialect

    def routes(self) -> Sequence[Route]:
        return [
            Route("POST", f"{PREFIX}/stream/find", self.find, name="flashphoner-stream-find"),
            Route("POST", f"{PREFIX}/stream/find_all", self.find_all, name="flashphoner-find-all"),
            Route("POST", f"{PREFIX}/stream/terminate", self.terminate, name="flashphoner-term"),
            Route(
                "POST",
                f"{PREFIX}/stream/startRecording",
                self.start_recording,
                name="flashphoner-start-recording",
            ),
            Route(
                "POST",
                f"{PREFIX}/stream/stopRecording",
                self.stop_recording,
                name="flashphoner-stop-recording",
            ),
            Route(
                "POST",
                f"{PREFIX}/connection/find_all",
                self.connections,
                name="flashphoner-connections",
            ),
        ]

    # -- lookups --------------------------------------------------------------------------

    def _all(self) -> Iterator[Found]:
        dialect = self.dialect
        owned: set[int] = set()
        for conn in tuple(dialect.connections.values()):
            for ms in tuple(conn.media.values()):
                if ms.publication is not None:
                    owned.add(id(ms.publication.stream))
                yield Found(
                    {**codec.encode_object(conn.status_of(ms, ms.status)), "appKey": conn.app_key},
                    conn,
                    ms,
                )
        for stream in dialect.hub.streams():
            if id(stream) in owned:
                continue
            yield Found(_foreign_stream(stream), stream=stream)

    def _matching(self, query: codec.RestQuery) -> list[Found]:
        out = []
        for found in self._all():
            obj = found.obj
            if (
                query.media_session_id is not None
                and obj["mediaSessionId"] != query.media_session_id
            ):
                continue
            if query.stream_name is not None and obj.get("name") != query.stream_name:
                continue
            if query.published is not None and obj.get("published") != query.published:
                continue
            if query.app_key is not None and obj.get("appKey") != query.app_key:
                continue
            out.append(found)
        return out

    # -- handlers -------------------------------------------------------------------------

    async def _query(self, request: web.Request) -> codec.RestQuery:
        try:
            return codec.decode_rest_query(await request.read())
        except codec.DecodeError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from exc

    async def find(self, request: web.Request) -> web.Response:
        query = await self._query(request)
        found = self._matching(query)
        if not found:
            return _not_found()
        return web.json_response([f.obj for f in found])

    async def find_all(self, request: web.Request) -> web.Response:
        await self._query(request)
        found = list(self._all())
        if not found:
            return _not_found()
        return web.json_response([f.obj for f in found])

    async def terminate(self, request: web.Request) -> web.Response:
        query = await self._query(request)
        if query.media_session_id is None and query.stream_name is None:
            raise web.HTTPBadRequest(text="mediaSessionId or name is required")
        found = self._matching(query)
        if not found:
            return _not_found()
        for f in found:
            if f.conn is not None and f.ms is not None:
                status = "UNPUBLISHED" if f.ms.published else "STOPPED"
                await f.conn.end(f.ms, status, INFO["rest_terminate"], reason="terminated")
            elif f.stream is not None:
                publication = f.stream.session.publications.get(f.stream.name)
                if publication is not None:
                    await publication.close("terminated")
        log.info("rest_terminate", streams=len(found))
        return web.Response(status=200)

    def _publishers(self, query: codec.RestQuery) -> list[Found]:
        return [f for f in self._matching(query) if f.ms is not None and f.ms.published]

    async def start_recording(self, request: web.Request) -> web.Response:
        query = await self._query(request)
        if query.media_session_id is None and query.stream_name is None:
            raise web.HTTPBadRequest(text="mediaSessionId or name is required")
        found = self._publishers(query)
        if not found:
            return _not_found()
        names = []
        for f in found:
            assert f.conn is not None and f.ms is not None
            name = f.conn.start_recording(f.ms)
            if name is None:
                raise web.HTTPInternalServerError(text="the stream cannot be recorded")
            names.append(name)
        return web.json_response({"fileName": names[0]} if len(names) == 1 else names)

    async def stop_recording(self, request: web.Request) -> web.Response:
        query = await self._query(request)
        if query.media_session_id is None and query.stream_name is None:
            raise web.HTTPBadRequest(text="mediaSessionId or name is required")
        found = [f for f in self._publishers(query) if f.ms is not None and f.ms.recorder]
        if not found:
            return _not_found()
        names = []
        for f in found:
            assert f.conn is not None and f.ms is not None
            names.append(await f.conn.stop_recording(f.ms))
        return web.json_response({"fileName": names[0]} if len(names) == 1 else names)

    async def connections(self, request: web.Request) -> web.Response:
        await self._query(request)
        out = []
        for conn in tuple(self.dialect.connections.values()):
            client = codec.encode_object(conn.client) if conn.client is not None else {}
            client.pop("authToken", None)
            out.append(
                {
                    **client,
                    "nodeId": conn.hub.node_id,
                    "appKey": conn.app_key,
                    "sessionId": conn.auth_token,
                    "status": "ESTABLISHED",
                    "remoteAddress": conn.remote,
                    "createDate": int(conn.created_at * 1000),
                    "mediaSessions": len(conn.media),
                }
            )
        if not out:
            return _not_found()
        return web.json_response(out)


def _not_found() -> web.Response:
    return web.json_response({"exception": "NotFoundException", "message": "Not found"}, status=404)


def _foreign_stream(stream: Stream) -> dict[str, Any]:
    """A stream published in another dialect, as WCS would describe it."""
    codecs = {t.kind: t.codec.name for t in stream.tracks}
    video = stream.stats().get("video")
    return {
        "mediaSessionId": f"{stream.session.dialect}:{stream.session.id}:{stream.name}",
        "name": stream.name,
        "published": True,
        "hasVideo": "video" in codecs,
        "hasAudio": "audio" in codecs,
        "status": "PUBLISHING" if stream.live else "PENDING",
        "audioCodec": codecs.get("audio", "").lower() or None,
        "videoCodec": codecs.get("video"),
        "record": False,
        "width": (video.width or 0) if video else 0,
        "height": (video.height or 0) if video else 0,
        "createDate": int(stream.created_at * 1000),
        "mediaProvider": stream.session.dialect,
        "appKey": None,
    }
