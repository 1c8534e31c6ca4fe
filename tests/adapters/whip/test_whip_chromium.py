"""WHIP publish and WHEP play from headless Chromium: an independent WebRTC stack.

The page is served from another origin than the gateway, so every request goes through CORS
(preflights for ``Authorization``, ``If-Match``, ``PATCH`` and ``DELETE``). The publisher sends
its whole offer; the player trickles its candidates with ``PATCH``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from tests.e2e.harness import CHROMIUM, HOST_CANDIDATES, chromium

from .conftest import StartGateway

PAGE = Path(__file__).with_name("page.html")

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]


@pytest.fixture
async def page_origin() -> AsyncIterator[str]:
    """The test page, served from its own origin on 127.0.0.1."""

    async def page(request: web.Request) -> web.Response:
        return web.Response(text=PAGE.read_text(), content_type="text/html")

    app = web.Application()
    app.router.add_get("/", page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    yield f"http://{host}:{port}/"
    await runner.cleanup()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    # Real host addresses in candidates, not mDNS names, for the page that only plays.
    async with chromium(HOST_CANDIDATES) as context:
        yield context


async def until_decoded(page: Any, frames: int = 20, seconds: float = 30) -> dict[str, int]:
    async with asyncio.timeout(seconds):
        while True:
            stats = await page.evaluate("videoStats(player.pc, 'inbound-rtp')")
            if stats and stats["framesDecoded"] >= frames:
                return dict(stats)
            await asyncio.sleep(0.2)


async def test_chromium_publishes_with_whip_and_plays_with_whep(
    start_gateway: StartGateway, browser: Any, page_origin: str
) -> None:
    # Chromium does not gather on 127.0.0.1: the gateway gathers on every interface.
    gw = await start_gateway(
        host_addresses=[],
        whip_tokens=["pub-token"],
        whep_tokens=["play-token"],
        ice_servers=[{"urls": "stun:stun.invalid:3478"}],
    )
    publisher, player = await browser.new_page(), await browser.new_page()
    for page in (publisher, player):
        page.on("console", lambda m: print("page:", m.text))
        await page.goto(page_origin)

    published = await publisher.evaluate(
        "([url, token]) => publish(url, token)", [gw.url("/whip/cam"), "pub-token"]
    )
    assert published["location"].startswith(gw.url("/whip/cam/"))
    assert published["links"] == '<stun:stun.invalid:3478>; rel="ice-server"'
    stream = next(iter(gw.hub.streams_by_key.values()))
    async with asyncio.timeout(15):
        while not stream.live:  # noqa: ASYNC110 - the core's state, polled
            await asyncio.sleep(0.1)

    played = await player.evaluate(
        "([url, token]) => play(url, token)", [gw.url("/whep/cam"), "play-token"]
    )
    assert played["location"].startswith(gw.url("/whep/cam/"))
    assert played["candidates"] > 0  # they went by PATCH

    decoded = await until_decoded(player)
    sent = await publisher.evaluate("videoStats(publisher.pc, 'outbound-rtp')")
    assert decoded["framesDecoded"] >= 20
    assert (decoded["width"], decoded["height"]) == (sent["width"], sent["height"])
    assert (decoded["width"], decoded["height"]) == (320, 240)

    # The player leaves, then the publisher; both sessions are gone.
    assert await player.evaluate("(l) => remove(l, 'play-token')", played["location"]) == 200
    assert await publisher.evaluate("(l) => remove(l, 'pub-token')", published["location"]) == 200
    assert gw.dialect.resources == {}
    assert gw.hub.sessions == {}
