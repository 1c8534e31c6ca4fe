"""The fuzzers' frames over the real pumps: a gateway on 127.0.0.1, real WebSocket and HTTP
clients sending what :mod:`tests.fuzz.strategies` generates. Every frame is answered in the
dialect's words or ignored, no handler fails, the server keeps serving another client, and
nothing is left behind once the clients are gone.

``python -m tests.fuzz.run`` runs the same generators over the codecs at 100,000 frames each.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator

import aiohttp
import pytest

from tests.fuzz import strategies
from tests.fuzz.serving import RawClient, serve, settled
from tests.test_limits import PING, is_pong

FRAMES = 1000
SDPS = 150
FRAG = "a=ice-ufrag:x\r\na=ice-pwd:y\r\nm=audio 9 RTP/AVP 0\r\na=mid:0\r\na={candidate}\r\n"


class Failures(logging.Handler):
    """Every record at ERROR or above: a handler that failed, a task that died."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(f"{record.name}: {record.getMessage()[:500]}")


@pytest.fixture
def failures() -> Iterator[Failures]:
    handler = Failures()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


async def ping_pong(client: RawClient, dialect: str, within: float = 5.0) -> None:
    before = sum(1 for m in client.messages() if isinstance(m, dict) and is_pong(dialect, m))
    await client.ws.send_str(PING[dialect])
    await client.wait_for(
        lambda _: (
            sum(1 for m in client.messages() if isinstance(m, dict) and is_pong(dialect, m))
            > before
        ),
        within=within,
    )


@pytest.mark.parametrize("dialect", ["antmedia", "flashphoner", "rtm"])
async def test_generated_frames_over_the_websocket_pump(dialect: str, failures: Failures) -> None:
    frames = strategies.sample(strategies.frames(dialect), FRAMES, rng_seed=8)
    async with serve(limits={"messages_per_second": 0}) as served:
        url = served.ws_url(dialect)
        bystander = await RawClient.connect(url)
        client = await RawClient.connect(url)
        closes: list[int | None] = []
        try:
            for i, frame in enumerate(frames):
                if client.closed.is_set():
                    closes.append(client.ws.close_code)
                    await client.close()
                    client = await RawClient.connect(url)
                try:
                    if isinstance(frame, bytes):
                        await client.ws.send_bytes(frame)
                    else:
                        await client.ws.send_str(frame)
                except ConnectionError:
                    continue
                if i % 100 == 99:
                    await ping_pong(bystander, dialect)
            await ping_pong(bystander, dialect)
            # a connection that took everything still answers, or closed cleanly
            if not client.closed.is_set():
                await ping_pong(client, dialect, within=10)
        finally:
            await client.close()
            await bystander.close()
        assert all(code != 1011 for code in closes), closes
        await settled(lambda: not served.hub.sessions, within=10)
        await settled(lambda: served.endpoint_count() == 0, within=10)
    assert failures.records == []


async def test_absurd_offers_and_candidates_over_whip(failures: Failures) -> None:
    offers = strategies.sample(strategies.absurd_sdp(), SDPS, rng_seed=8)
    candidates = strategies.sample(strategies.absurd_candidate(), SDPS, rng_seed=8)
    async with serve(limits={"messages_per_second": 0}) as served, aiohttp.ClientSession() as http:
        statuses: dict[int, int] = {}
        for offer, candidate in zip(offers, candidates, strict=True):
            headers = {"Content-Type": "application/sdp"}
            async with http.post(served.url("/whip/fuzz"), data=offer, headers=headers) as r:
                statuses[r.status] = statuses.get(r.status, 0) + 1
                location = r.headers.get("Location")
                etag = r.headers.get("ETag")
                if r.status != 201:
                    assert 400 <= r.status < 500, r.status
                    assert r.content_type == "application/problem+json"
                    continue
            assert location is not None
            frag = FRAG.format(candidate=candidate)
            patch_headers = {
                "Content-Type": "application/trickle-ice-sdpfrag",
                "If-Match": etag or "*",
            }
            async with http.patch(served.url(location), data=frag, headers=patch_headers) as r:
                assert r.status < 500, r.status
            async with http.delete(served.url(location)) as r:
                assert r.status == 200
        async with http.head(served.url("/whep/nothing")) as r:
            assert r.status == 404  # still serving
        await settled(lambda: not served.hub.sessions, within=10)
        await settled(lambda: served.endpoint_count() == 0, within=10)
    assert failures.records == []
    assert sum(statuses.values()) == SDPS
    await asyncio.sleep(0)
