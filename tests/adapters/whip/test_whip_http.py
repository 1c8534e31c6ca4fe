"""The HTTP semantics of WHIP and WHEP, against a real gateway with aiortc clients."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import aiohttp
import pytest
from aiortc import RTCPeerConnection

from adapters.hookspecs import GatewayContext
from adapters.whip.codec import IceServerLink, Problem
from adapters.whip.dialect import ice_server_links
from adapters.whip.settings import WhipSettings
from core.media import IceServer

from .clients import (
    Created,
    Player,
    accept,
    loopback_pc,
    player_offer,
    post_offer,
    publisher_offer,
)
from .conftest import Running, StartGateway

pytestmark = pytest.mark.timeout(60)

SDP = {"Content-Type": "application/sdp"}
FRAG = {"Content-Type": "application/trickle-ice-sdpfrag"}
CANDIDATE = "candidate:1 1 udp 2122260223 127.0.0.1 9 typ host"


@pytest.fixture
async def gw(start_gateway: StartGateway) -> Running:
    return await start_gateway(
        ice_servers=[
            {"urls": ["stun:stun.example.net"]},
            {"urls": "turn:turn.example.net?transport=udp", "username": "u", "credential": 'p"w'},
        ],
        retry_after=3,
    )


@pytest.fixture
async def peers() -> AsyncIterator[list[RTCPeerConnection]]:
    made: list[RTCPeerConnection] = []
    yield made
    await asyncio.gather(*(pc.close() for pc in made))


async def pending(
    gw: Running,
    http: aiohttp.ClientSession,
    peers: list[RTCPeerConnection],
    name: str,
    prefix: str = "/whip",
) -> Created:
    """A WHIP publication whose client never applies the answer: the stream stays pending."""
    pc = loopback_pc()
    peers.append(pc)
    return await post_offer(http, gw.url(f"{prefix}/{name}"), await publisher_offer(pc))


async def problem(response: aiohttp.ClientResponse, status: int) -> Problem:
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    parsed = Problem.parse(await response.read())
    assert parsed.status == status
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return parsed


async def wait_until(predicate: Callable[[], bool], seconds: float = 10.0) -> None:
    """Poll server state that has no event to wait on."""
    async with asyncio.timeout(seconds):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.05)


async def test_options_answers_cors_and_accept_post(gw: Running, http: aiohttp.ClientSession):
    for path, methods in (("/whip/cam", "OPTIONS, POST"), ("/whep/cam", "OPTIONS, POST, HEAD")):
        async with http.options(
            gw.url(path),
            headers={
                "Origin": "http://elsewhere.test",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        ) as r:
            assert r.status == 204
            assert r.headers["Accept-Post"] == "application/sdp"
            assert r.headers["Access-Control-Allow-Origin"] == "*"
            assert r.headers["Access-Control-Allow-Methods"] == methods
            assert "Authorization" in r.headers["Access-Control-Allow-Headers"]
            assert "Location" in r.headers["Access-Control-Expose-Headers"]


async def offers(peers: list[RTCPeerConnection]) -> tuple[str, str]:
    """A publisher's and a player's offer, from peers closed after the test."""
    publisher, player = loopback_pc(), loopback_pc()
    peers += [publisher, player]
    return await publisher_offer(publisher), await player_offer(player)


async def test_post_refusals(gw: Running, http: aiohttp.ClientSession, peers):
    publish, play = await offers(peers)
    text = {"Content-Type": "text/plain"}
    async with http.post(gw.url("/whip/cam"), data=publish, headers=text) as r:
        assert (await problem(r, 415)).code == "unsupported_media_type"
        assert r.headers["Accept-Post"] == "application/sdp"
    async with http.post(gw.url("/whip/cam"), data="hello", headers=SDP) as r:
        assert (await problem(r, 400)).code == "bad_sdp"
    pc = loopback_pc()
    peers.append(pc)
    two_videos = await publisher_offer(pc, videos=2)
    async with http.post(gw.url("/whip/cam"), data=two_videos, headers=SDP) as r:
        assert (await problem(r, 422)).code == "unsupported_tracks"
    async with http.post(gw.url("/whep/nobody"), data=play, headers=SDP) as r:
        assert (await problem(r, 404)).code == "stream_not_found"
    async with http.post(gw.url("/whip/cam"), data=play, headers=SDP) as r:
        await problem(r, 422)  # a recvonly offer is no publication
    async with http.post(gw.url("/whep/cam"), data=publish, headers=SDP) as r:
        await problem(r, 422)  # nor a sendonly one a playback
    async with http.post(gw.url("/whip/bad%20name"), data=publish, headers=SDP) as r:
        assert (await problem(r, 400)).code == "invalid_name"
    assert gw.hub.sessions == {}
    assert gw.hub.media.endpoint_count == 0


async def test_whip_created_then_pending_then_deleted(gw: Running, http, peers):
    created = await pending(gw, http, peers, "cam")
    assert created.location.startswith("/whip/cam/")
    assert len(created.location.rsplit("/", 1)[1]) >= 20  # unguessable
    assert created.etag.startswith('"') and created.etag.endswith('"')
    assert "a=candidate:" in created.answer  # the server gathers before answering
    links = IceServerLink.parse_all(", ".join(created.links))
    assert links == [
        IceServerLink("stun:stun.example.net"),
        IceServerLink("turn:turn.example.net?transport=udp", "u", 'p"w'),
    ]

    # Someone else cannot take the name; a player is told to come back.
    publish, play = await offers(peers)
    async with http.post(gw.url("/whip/cam"), data=publish, headers=SDP) as r:
        assert (await problem(r, 409)).code == "name_in_use"
    async with http.post(gw.url("/whep/cam"), data=play, headers=SDP) as r:
        assert (await problem(r, 409)).code == "stream_not_found"
        assert r.headers["Retry-After"] == "3"
    async with http.head(gw.url("/whep/cam")) as r:
        assert r.status == 409 and r.headers["Retry-After"] == "3"
    async with http.head(gw.url("/whep/other")) as r:
        assert r.status == 404

    async with http.delete(gw.url(created.location)) as r:
        assert r.status == 200
    async with http.delete(gw.url(created.location)) as r:
        await problem(r, 404)
    async with http.head(gw.url("/whep/cam")) as r:
        assert r.status == 404
    assert gw.hub.sessions == {} and gw.dialect.resources == {}
    assert gw.hub.media.endpoint_count == 0


async def test_patch_trickle(gw: Running, http, peers):
    created = await pending(gw, http, peers, "cam")
    url = gw.url(created.location)
    frag = f"m=audio 9 RTP/AVP 0\r\na=mid:0\r\na={CANDIDATE}\r\n"
    async with http.patch(url, data=frag, headers=FRAG) as r:
        assert (await problem(r, 428)).code == "etag_required"
    async with http.patch(url, data=frag, headers={**FRAG, "If-Match": '"stale"'}) as r:
        await problem(r, 412)
    async with http.patch(url, data=frag, headers={**FRAG, "If-Match": "*"}) as r:
        assert (await problem(r, 422)).code == "ice_restart_unsupported"
    async with http.patch(url, data=frag, headers={**SDP, "If-Match": created.etag}) as r:
        await problem(r, 415)
        assert r.headers["Accept-Patch"] == "application/trickle-ice-sdpfrag"
    bad = "m=audio 9 RTP/AVP 0\r\na=mid:0\r\na=candidate:1 1 udp\r\n"
    async with http.patch(url, data=bad, headers={**FRAG, "If-Match": created.etag}) as r:
        await problem(r, 400)
    restart = "a=ice-ufrag:other\r\na=ice-pwd:otherpasswordotherpassword\r\n" + frag
    async with http.patch(url, data=restart, headers={**FRAG, "If-Match": created.etag}) as r:
        assert (await problem(r, 422)).code == "ice_restart_unsupported"
    done = frag + "a=end-of-candidates\r\n"
    async with http.patch(url, data=done, headers={**FRAG, "If-Match": created.etag}) as r:
        assert r.status == 204, await r.text()
        assert r.headers["ETag"] == created.etag
    async with http.options(url) as r:
        assert r.status == 204
        assert r.headers["Accept-Patch"] == "application/trickle-ice-sdpfrag"
    async with http.patch(url + "x", data=frag, headers={**FRAG, "If-Match": created.etag}) as r:
        await problem(r, 404)
    async with http.patch(
        gw.url(created.location.replace("/whip/", "/whep/")),
        data=frag,
        headers={**FRAG, "If-Match": created.etag},
    ) as r:
        await problem(r, 404)


async def test_bearer_tokens(start_gateway: StartGateway, http, peers):
    gw = await start_gateway(whip_tokens=["secret"], whep_tokens=["viewer"])
    offer, _ = await offers(peers)
    async with http.post(gw.url("/whip/cam"), data=offer, headers=SDP) as r:
        await problem(r, 401)
        assert r.headers["WWW-Authenticate"] == 'Bearer realm="switchboard"'
    bearer = {"Authorization": "Bearer viewer"}
    async with http.post(gw.url("/whip/cam"), data=offer, headers={**SDP, **bearer}) as r:
        await problem(r, 401)
        assert 'error="invalid_token"' in r.headers["WWW-Authenticate"]
    async with http.options(gw.url("/whip/cam")) as r:
        assert r.status == 204  # a CORS preflight carries no credentials
    async with http.head(gw.url("/whep/cam")) as r:
        assert r.status == 401 and "WWW-Authenticate" in r.headers
    pc = loopback_pc()
    peers.append(pc)
    created = await post_offer(http, gw.url("/whip/cam"), await publisher_offer(pc), "secret")
    async with http.delete(gw.url(created.location)) as r:
        await problem(r, 401)
    async with http.delete(
        gw.url(created.location), headers={"Authorization": "Bearer secret"}
    ) as r:
        assert r.status == 200


async def test_limits_answer_503(start_gateway: StartGateway, http, peers):
    gw = await start_gateway(limits={"max_streams": 1}, retry_after=5)
    await pending(gw, http, peers, "one")
    publish, _ = await offers(peers)
    async with http.post(gw.url("/whip/two"), data=publish, headers=SDP) as r:
        assert (await problem(r, 503)).code == "limit_reached"
        assert r.headers["Retry-After"] == "5"
    assert len(gw.hub.sessions) == 1


async def test_stop_closes_every_session(start_gateway: StartGateway, http, peers):
    gw = await start_gateway(whip_prefix="/ingest/", whep_prefix="egress")
    created = await pending(gw, http, peers, "cam", prefix="/ingest")
    assert created.location.startswith("/ingest/cam/")
    async with http.head(gw.url("/egress/cam")) as r:
        assert r.status == 409
    await gw.dialect.stop(graceful=True)
    assert gw.dialect.resources == {} and gw.hub.sessions == {}


async def test_connect_timeout_closes_the_session(start_gateway: StartGateway, http, peers):
    gw = await start_gateway(connect_timeout=0.3)
    await pending(gw, http, peers, "cam")
    await wait_until(lambda: not gw.dialect.resources and not gw.hub.sessions)
    async with http.head(gw.url("/whep/cam")) as r:
        assert r.status == 404


async def test_whip_publish_whep_play(gw: Running, http: aiohttp.ClientSession):
    publisher = loopback_pc()
    player = Player()
    try:
        whip = await post_offer(http, gw.url("/whip/cam"), await publisher_offer(publisher))
        await accept(publisher, whip.answer)
        stream = next(iter(gw.hub.streams_by_key.values()))
        await wait_until(lambda: stream.live)
        async with http.head(gw.url("/whep/cam")) as r:
            assert r.status == 200 and r.content_type == "application/sdp"

        whep = await post_offer(http, gw.url("/whep/cam"), await player_offer(player.pc))
        assert whep.location.startswith("/whep/cam/")
        assert "a=sendonly" in whep.answer
        await accept(player.pc, whep.answer)
        async with asyncio.timeout(20):
            await player.enough.wait()
        assert player.sizes[-1] == (320, 240)

        # The publisher leaves: the player's session closes with its stream.
        async with http.delete(gw.url(whip.location)) as r:
            assert r.status == 200
        await wait_until(lambda: not gw.dialect.resources and not gw.hub.sessions)
        async with http.delete(gw.url(whep.location)) as r:
            await problem(r, 404)
    finally:
        await publisher.close()
        await player.close()


async def test_peer_leaving_closes_the_session(gw: Running, http: aiohttp.ClientSession):
    publisher = loopback_pc()
    whip = await post_offer(http, gw.url("/whip/cam"), await publisher_offer(publisher))
    await accept(publisher, whip.answer)
    resource = next(iter(gw.dialect.resources.values()))
    async with asyncio.timeout(10):
        await resource.endpoint.connected.wait()
    await publisher.close()
    await wait_until(lambda: not gw.dialect.resources and not gw.hub.sessions, 20)
    assert resource.close_reason is not None and resource.close_reason.startswith("peer_")


async def test_oversized_body_is_a_problem(gw: Running, http: aiohttp.ClientSession):
    body = "v=0\r\n" + "a=x\r\n" * 300_000  # over limits.max_message_bytes
    async with http.post(gw.url("/whip/cam"), data=body, headers=SDP) as r:
        await problem(r, 413)


def test_ice_servers_from_the_gateway_service() -> None:
    settings = WhipSettings()
    service = [
        IceServer(urls=("stun:10.0.0.1:3478",)),
        IceServer(urls=("turn:10.0.0.1:3478",), username="u", credential="c"),
    ]
    ctx = GatewayContext(
        name="whip",
        settings=settings,
        hub=None,
        services={"ice_servers": service},  # type: ignore[arg-type]
    )
    assert ice_server_links(ctx, settings) == [
        '<stun:10.0.0.1:3478>; rel="ice-server"',
        '<turn:10.0.0.1:3478>; rel="ice-server"; username="u"; credential="c"; '
        'credential-type="password"',
    ]
    own = WhipSettings(ice_servers=[{"urls": "stun:own"}])  # type: ignore[list-item]
    assert ice_server_links(ctx, own) == ['<stun:own>; rel="ice-server"']
