"""The WHIP / WHEP runtime: HTTP handlers that parse, make one core call and answer.

Routes (prefixes from :class:`~adapters.whip.settings.WhipSettings`)::

    OPTIONS|POST        /whip/{stream}            WHIP endpoint
    OPTIONS|POST|HEAD   /whep/{stream}            WHEP endpoint
    OPTIONS|PATCH|DELETE /whip|whep/{stream}/{id}  session resource (the Location)

Every error is an ``application/problem+json`` body; every response carries the CORS headers
when ``cors_origin`` is set.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import structlog
from aiohttp import web
from multidict import CIMultiDict

from adapters.hookspecs import GatewayContext, Route
from adapters.whip import codec
from adapters.whip.codec import SDP, SDPFRAG, IceServerLink, IfMatch, OfferSummary, Problem
from adapters.whip.resource import IceRestartUnsupported, Kind, Resource
from adapters.whip.settings import WhipSettings
from core import errors
from core.limits import MESSAGE_RATE, ConnectionGuard, Limiter
from core.names import DEFAULT_NAMESPACE, StreamKey
from core.session import Session
from core.tasks import TaskOwner

log = structlog.get_logger(__name__)

REALM = "switchboard"
ENDPOINT_METHODS = {Kind.WHIP: "OPTIONS, POST", Kind.WHEP: "OPTIONS, POST, HEAD"}
RESOURCE_METHODS = "OPTIONS, PATCH, DELETE"
ALLOW_HEADERS = "Authorization, Content-Type, If-Match"
EXPOSE_HEADERS = (
    "Location, ETag, Link, Accept-Post, Accept-Patch, Retry-After, WWW-Authenticate, Content-Type"
)


class HttpProblem(Exception):
    """A request the dialect refuses: the problem to answer and extra headers."""

    def __init__(self, problem: Problem, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(problem.detail)
        self.problem = problem
        self.headers = dict(headers or {})


def _problem(status: int, detail: str, code: str, **headers: str) -> HttpProblem:
    return HttpProblem(Problem(status=status, detail=detail, code=code), headers)


def problem_for_error(exc: errors.DomainError, *, retry_after: float) -> HttpProblem:
    """The HTTP answer to a domain error."""
    later = {"Retry-After": codec.retry_after(retry_after)}
    status: int
    headers: dict[str, str] = {}
    if isinstance(exc, errors.StreamNotFound):
        if exc.details.get("pending"):
            status, headers = 409, later
        else:
            status = 404
    elif isinstance(exc, errors.NameInUse | errors.AlreadyPublishing | errors.AlreadyPlaying):
        status = 409
    elif isinstance(exc, errors.LimitReached):
        status = 429 if exc.details.get("limit") == MESSAGE_RATE else 503
        headers = later
    elif isinstance(exc, errors.Unauthorized):
        status = 403
    elif isinstance(exc, errors.CodecNotSupported):
        status = 422
    elif isinstance(exc, errors.SessionClosed | errors.RoomNotFound):
        status = 404
    else:  # BadSdp, InvalidName and any other refusal of the request itself
        status = 400
    return HttpProblem(Problem(status=status, detail=str(exc), code=exc.code), headers)


def ice_server_links(ctx: GatewayContext, settings: WhipSettings) -> list[str]:
    """``Link`` header values for the configured STUN/TURN servers."""
    servers: list[tuple[Sequence[str], str | None, str | None]] = [
        (s.urls, s.username, s.credential) for s in settings.ice_servers
    ]
    if not servers:
        for server in ctx.services.get("ice_servers") or ():
            urls = getattr(server, "urls", None)
            if urls is None and isinstance(server, Mapping):
                urls = server.get("urls")
                username, credential = server.get("username"), server.get("credential")
            else:
                username = getattr(server, "username", None)
                credential = getattr(server, "credential", None)
            if isinstance(urls, str):
                urls = [urls]
            if urls:
                servers.append((list(urls), username, credential))
    return [str(link) for link in IceServerLink.for_servers(servers)]


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class WhipDialect:
    """WHIP ingest and WHEP playback for one gateway process."""

    name = "whip"

    def __init__(self, ctx: GatewayContext) -> None:
        if not isinstance(ctx.settings, WhipSettings):
            raise TypeError("the whip dialect needs WhipSettings")
        self.ctx = ctx
        self.settings: WhipSettings = ctx.settings
        self.hub = ctx.hub
        self.tasks = TaskOwner("whip")
        self.resources: dict[str, Resource] = {}
        self.limiter: Limiter = ctx.services.get("limiter") or Limiter()
        self._guards: dict[str, ConnectionGuard] = {}  # by resource id: sessions per address
        self._links = ice_server_links(ctx, self.settings)
        self._tokens = {
            Kind.WHIP: tuple(self.settings.whip_tokens),
            Kind.WHEP: tuple(self.settings.whep_tokens),
        }
        self._prefix = {Kind.WHIP: self.settings.whip_prefix, Kind.WHEP: self.settings.whep_prefix}
        self.log = log.bind(dialect=self.name)

    # -- contract ------------------------------------------------------------------------------

    def routes(self) -> Sequence[Route]:
        routes: list[Route] = []
        for kind in Kind:
            prefix, k = self._prefix[kind], kind.value
            endpoint, resource = f"{prefix}/{{stream}}", f"{prefix}/{{stream}}/{{resource}}"
            routes += [
                Route("OPTIONS", endpoint, self._pump(self.endpoint_options, kind)),
                Route("POST", endpoint, self._pump(self.post_offer, kind), name=f"{k}_endpoint"),
                Route("OPTIONS", resource, self._pump(self.resource_options, kind)),
                Route("PATCH", resource, self._pump(self.patch, kind), name=f"{k}_resource"),
                Route("DELETE", resource, self._pump(self.delete, kind)),
            ]
        routes.append(
            Route("HEAD", f"{self._prefix[Kind.WHEP]}/{{stream}}", self._pump(self.head, Kind.WHEP))
        )
        return routes

    async def start(self) -> None:
        self.log.info("whip_started", whip=self._prefix[Kind.WHIP], whep=self._prefix[Kind.WHEP])

    async def stop(self, *, graceful: bool) -> None:
        """WHIP and WHEP have no way to tell a client the server stops: close every session
        (its peer connection ends with a DTLS close)."""
        await asyncio.gather(
            *(r.close("shutdown") for r in tuple(self.resources.values())),
            return_exceptions=True,
        )
        await self.tasks.cancel_all()

    # -- the pump ------------------------------------------------------------------------------

    def _pump(
        self, handler: Callable[[web.Request, Kind], Awaitable[web.StreamResponse]], kind: Kind
    ) -> Handler:
        async def pumped(request: web.Request) -> web.StreamResponse:
            try:
                if request.method != "OPTIONS":
                    self.limiter.admit_request(request.remote)
                response = await handler(request, kind)
            except HttpProblem as exc:
                response = self._problem_response(exc)
            except errors.DomainError as exc:
                response = self._problem_response(
                    problem_for_error(exc, retry_after=self.settings.retry_after)
                )
            except web.HTTPException as exc:  # e.g. a body over the size limit
                response = self._problem_response(_problem(exc.status, exc.reason, "http_error"))
            self._cors(response, kind)
            return response

        return pumped

    def _problem_response(self, exc: HttpProblem) -> web.Response:
        return web.Response(
            status=exc.problem.status,
            body=bytes(exc.problem),
            content_type=codec.PROBLEM_JSON,
            headers=exc.headers,
        )

    def _cors(self, response: web.StreamResponse, kind: Kind) -> None:
        origin = self.settings.cors_origin
        if not origin:
            return
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS
        if origin != "*":
            response.headers["Vary"] = "Origin"

    # -- checks --------------------------------------------------------------------------------

    def _authorize(self, request: web.Request, kind: Kind) -> None:
        tokens = self._tokens[kind]
        if not tokens:
            return
        token = codec.bearer_token(request.headers.get("Authorization"))
        if token is None:
            raise _problem(
                401,
                "a Bearer token is required",
                "unauthorized",
                **{"WWW-Authenticate": codec.www_authenticate(REALM)},
            )
        if not any(secrets.compare_digest(token.encode(), t.encode()) for t in tokens):
            raise _problem(
                401,
                "the Bearer token is not valid",
                "unauthorized",
                **{"WWW-Authenticate": codec.www_authenticate(REALM, "invalid_token")},
            )

    @staticmethod
    async def _body(request: web.Request, expected: str) -> str:
        if codec.media_type(request.headers.get("Content-Type")) != expected:
            raise _problem(
                415,
                f"the body must be {expected}",
                "unsupported_media_type",
                **({"Accept-Post": SDP} if expected == SDP else {"Accept-Patch": SDPFRAG}),
            )
        data = await request.read()
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            raise _problem(400, "the body is not UTF-8 text", "bad_sdp") from None

    def _resource(self, request: web.Request, kind: Kind) -> Resource:
        resource = self.resources.get(request.match_info["resource"])
        if (
            resource is None
            or resource.kind is not kind
            or resource.stream != request.match_info["stream"]
        ):
            raise _problem(404, "no such session", "session_not_found")
        return resource

    # -- endpoint ------------------------------------------------------------------------------

    async def endpoint_options(self, request: web.Request, kind: Kind) -> web.Response:
        headers = CIMultiDict(
            {
                "Accept-Post": SDP,
                "Allow": ENDPOINT_METHODS[kind],
                "Access-Control-Allow-Methods": ENDPOINT_METHODS[kind],
                "Access-Control-Allow-Headers": ALLOW_HEADERS,
                "Access-Control-Max-Age": "86400",
            }
        )
        return web.Response(status=204, headers=headers)

    async def head(self, request: web.Request, kind: Kind) -> web.Response:
        """WHEP: whether the stream can be played now (200), later (409) or not (404)."""
        self._authorize(request, kind)
        self.hub.get_stream(StreamKey(DEFAULT_NAMESPACE, request.match_info["stream"]))
        return web.Response(status=200, headers={"Content-Type": SDP, "Accept-Post": SDP})

    async def post_offer(self, request: web.Request, kind: Kind) -> web.Response:
        self._authorize(request, kind)
        offer = await self._body(request, SDP)
        try:
            summary = OfferSummary.parse(offer)
        except codec.CodecError as exc:
            raise _problem(400, f"the offer is not valid SDP: {exc}", "bad_sdp") from None
        problem = summary.track_problem(sending=kind is Kind.WHIP)
        if problem is not None:
            raise _problem(422, problem, "unsupported_tracks")
        name = request.match_info["stream"]
        guard = self.limiter.connect(request.remote)
        try:
            session = self.hub.open_session(
                dialect=self.name, remote=request.remote, app_data={"protocol": kind.value}
            )
        except BaseException:
            guard.release()
            raise
        try:
            resource = await self._negotiate(session, kind, name, summary, offer)
            answer = await resource.endpoint.accept_offer(offer)
        except BaseException:
            guard.release()
            await session.close("rejected")
            raise
        self.resources[resource.id] = resource
        self._guards[resource.id] = guard
        resource.start(self.settings.connect_timeout)
        resource.log.info("whip_session_created")
        location = f"{self._prefix[kind]}/{quote(name, safe='')}/{resource.id}"
        headers: CIMultiDict[str] = CIMultiDict(
            {"Location": location, "ETag": codec.etag(resource.etag), "Content-Type": SDP}
        )
        for link in self._links:
            headers.add("Link", link)
        return web.Response(status=201, text=answer, headers=headers)

    async def _negotiate(
        self, session: Session, kind: Kind, name: str, summary: OfferSummary, offer: str
    ) -> Resource:
        common: dict[str, Any] = {
            "kind": kind,
            "stream": name,
            "session": session,
            "offer": summary,
            "tasks": self.tasks,
            "on_gone": self._forget,
        }
        if kind is Kind.WHIP:
            publication = await session.publish(name)
            return Resource(endpoint=publication.endpoint, **common)
        subscription = await session.subscribe(name)
        return Resource(endpoint=subscription.endpoint, subscription_id=subscription.id, **common)

    def _forget(self, resource: Resource) -> None:
        if self.resources.get(resource.id) is resource:
            del self.resources[resource.id]
            guard = self._guards.pop(resource.id, None)
            if guard is not None:
                guard.release()

    # -- session resource ----------------------------------------------------------------------

    async def resource_options(self, request: web.Request, kind: Kind) -> web.Response:
        headers = {
            "Accept-Patch": SDPFRAG,
            "Allow": RESOURCE_METHODS,
            "Access-Control-Allow-Methods": RESOURCE_METHODS,
            "Access-Control-Allow-Headers": ALLOW_HEADERS,
            "Access-Control-Max-Age": "86400",
        }
        return web.Response(status=204, headers=headers)

    async def patch(self, request: web.Request, kind: Kind) -> web.Response:
        self._authorize(request, kind)
        resource = self._resource(request, kind)
        text = await self._body(request, SDPFRAG)
        header = request.headers.get("If-Match")
        if header is None:
            raise _problem(428, "a PATCH needs If-Match with the session's ETag", "etag_required")
        try:
            if_match = IfMatch.parse(header)
        except codec.CodecError as exc:
            raise _problem(400, str(exc), "bad_if_match") from None
        if if_match.any:
            raise _problem(422, "ICE restart is not supported", "ice_restart_unsupported")
        if not if_match.matches(resource.etag):
            raise _problem(412, "the ETag does not match the ICE session", "etag_mismatch")
        try:
            frag = codec.SdpFrag.parse(text)
        except codec.CodecError as exc:
            raise _problem(400, f"the fragment is not valid: {exc}", "bad_sdp") from None
        try:
            await resource.trickle(frag)
        except IceRestartUnsupported as exc:
            raise _problem(422, str(exc), "ice_restart_unsupported") from None
        return web.Response(status=204, headers={"ETag": codec.etag(resource.etag)})

    async def delete(self, request: web.Request, kind: Kind) -> web.Response:
        self._authorize(request, kind)
        resource = self._resource(request, kind)
        await resource.close("deleted")
        return web.Response(status=200)
