"""A stream published in one vendor's wire format, played in another's.

One real gateway process (``gateway.server.Gateway`` around ``create_app``) loads every
installed dialect through its entry point, listens on a free 127.0.0.1 port and gathers media
candidates on every interface, as Chromium offers none on loopback. The clients are the
unmodified vendors' SDKs in headless Chromium, the WHIP / WHEP ``fetch()`` page and the
aiortc RTM client; every case ends with frames decoded, and their size, in the player's own
``getStats()``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from playwright.async_api import BrowserContext, Page

from core import events
from core.hub import Hub
from gateway.app import DIALECTS, HUB
from gateway.config import DialectModel, RawConfig, validate
from gateway.plugins import discover, make_plugin_manager
from gateway.server import Gateway
from tests.adapters.rtm.clients import HEIGHT, WIDTH, RtmClient
from tests.e2e.flashphoner.pages_server import FLASHPHONER_SDK
from tests.e2e.harness import (
    STEP_MS,
    antmedia_decoding,
    antmedia_event,
    antmedia_page,
    flashphoner_decoding,
    until,
)

pytestmark = [
    pytest.mark.timeout(30),
    pytest.mark.skipif(not FLASHPHONER_SDK.exists(), reason="the WebSDK is not installed"),
]

DIALECT_NAMES = {"antmedia", "flashphoner", "rtm", "whip"}
ANTMEDIA_SIZE = (640, 480)  # what the Ant Media page asks the camera for
SMALL_SIZE = (320, 240)  # the WebSDK's default and the WHIP page's
RTM_SIZE = (WIDTH, HEIGHT)  # the aiortc RTM client's pattern


@dataclass
class AllDialects:
    """The gateway with every installed dialect, on one 127.0.0.1 listener."""

    gateway: Gateway
    base: str

    @property
    def hub(self) -> Hub:
        return self.gateway.app[HUB]

    def url(self, path: str) -> str:
        return self.base + path

    def ws(self, path: str) -> str:
        return self.base.replace("http", "ws", 1) + path

    @asynccontextmanager
    async def awaiting(self, match: Callable[[events.Event], bool]) -> AsyncIterator[None]:
        """Run the body, then wait for a core event that ``match``es, sent during the body or
        after it."""
        arrived = asyncio.Event()

        def on_event(event: events.Event) -> None:
            if match(event):
                arrived.set()

        unsubscribe = self.hub.bus.subscribe(on_event)
        try:
            yield
            await asyncio.wait_for(arrived.wait(), STEP_MS / 1000)
        finally:
            unsubscribe()

    async def live(self, name: str) -> None:
        """Return once the stream ``name`` has had its first media packet."""
        if any(s.key.name == name and s.live for s in self.hub.streams()):
            return
        async with self.awaiting(lambda e: isinstance(e, events.StreamLive) and e.key.name == name):
            pass


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[AllDialects]:
    pm = make_plugin_manager()
    plugins = discover(pm)
    assert {p.name for p in plugins} >= DIALECT_NAMES
    raw = RawConfig(
        data={
            "listeners": [{"host": "127.0.0.1", "port": 0}],
            "log": {"access_log": False},
            "media": {"host_addresses": []},
            "storage": {"state_dir": str(tmp_path / "state")},
            "dialects": {
                "flashphoner": {"recording_directory": str(tmp_path / "fp")},
                "rtm": {
                    "recordings_dir": str(tmp_path / "rtm"),
                    "local_delivery_dir": str(tmp_path / "rtm-done"),
                },
            },
        }
    )
    config = validate(raw, [DialectModel(p.name, p.model) for p in plugins])
    gw = Gateway(config, pm)
    await gw.start()
    try:
        assert {d.plugin.name for d in gw.app[DIALECTS]} >= DIALECT_NAMES
        host, port = gw.addresses[0][:2]
        yield AllDialects(gw, f"http://{host}:{port}")
    finally:
        await gw.stop()


async def antmedia_player(
    browser: BrowserContext, base: str, gw: AllDialects, stream: str
) -> tuple[Page, dict[str, Any]]:
    """Play ``stream`` with the Ant Media SDK; the page and its inbound video once frames
    decode."""
    page = await antmedia_page(browser, base, gw.ws("/LiveApp/websocket"), playOnly=True)
    await page.evaluate("(s) => window.adaptor.play(s)", stream)
    await antmedia_event(page, "play_started", stream)
    (video,) = await antmedia_decoding(page, 1)
    return page, video


async def antmedia_publisher(
    browser: BrowserContext, base: str, gw: AllDialects, stream: str
) -> Page:
    page = await antmedia_page(browser, base, gw.ws("/WebRTCAppEE/websocket"))
    await page.evaluate("(s) => window.adaptor.publish(s)", stream)
    await antmedia_event(page, "publish_started", stream)
    return page


async def flashphoner_page(browser: BrowserContext, base: str, gw: AllDialects) -> Page:
    page = await browser.new_page()
    await page.goto(f"{base}/flashphoner/pages/flashphoner.html")
    assert await page.evaluate("(u) => connect(u)", gw.ws("/")) == "ESTABLISHED"
    return page


async def flashphoner_player(page: Page, stream: str) -> dict[str, Any]:
    """Play ``stream`` with the WebSDK as ``play``; its inbound video once frames decode."""
    playing = await page.evaluate("(s) => play('play', s)", stream)
    assert playing["status"] == "PLAYING", playing
    return await flashphoner_decoding(page, "play")


async def flashphoner_play_ended(page: Page) -> tuple[str, str]:
    """The status and info the WebSDK gave the ``play`` stream when it ended."""
    event = await until(
        page,
        """() => window.events.find(e => e.kind === 'stream:play' &&
            ['STOPPED', 'FAILED'].includes(e.name))""",
    )
    return str(event["name"]), str(event["obj"]["info"])


#: What WCS tells the players of a stream whose publisher stopped or left, whatever dialect
#: that publisher spoke.
PUBLISHER_GONE = ("STOPPED", "Stopped by publisher stop")


def report(case: str, stats: dict[str, Any]) -> None:
    print(f"\n{case}: {stats}")


def size(video: dict[str, Any]) -> tuple[int, int]:
    """A frame size from either shape of stats the pages return."""
    return (
        video.get("width", video.get("frameWidth", 0)),
        video.get("height", video.get("frameHeight", 0)),
    )


async def test_flashphoner_publish_antmedia_play(
    browser: BrowserContext, pages_base: str, gateway: AllDialects
) -> None:
    publisher = await flashphoner_page(browser, pages_base, gateway)
    published = await publisher.evaluate("() => publish('pub', 'fp-to-am')")
    assert published["status"] == "PUBLISHING", published

    player, video = await antmedia_player(browser, pages_base, gateway, "fp-to-am")
    report("flashphoner -> antmedia", video)
    assert video["framesDecoded"] > 0
    assert size(video) == SMALL_SIZE

    unpublished = await publisher.evaluate("() => stop('pub')")
    assert unpublished["status"] == "UNPUBLISHED", unpublished
    await antmedia_event(player, "play_finished", "fp-to-am")


async def test_antmedia_publish_flashphoner_play(
    browser: BrowserContext, pages_base: str, gateway: AllDialects
) -> None:
    publisher = await antmedia_publisher(browser, pages_base, gateway, "am-to-fp")

    player = await flashphoner_page(browser, pages_base, gateway)
    video = await flashphoner_player(player, "am-to-fp")
    report("antmedia -> flashphoner", video)
    assert video["framesDecoded"] > 0
    assert size(video) == ANTMEDIA_SIZE

    await publisher.evaluate("window.adaptor.stop('am-to-fp')")
    await antmedia_event(publisher, "publish_finished", "am-to-fp")
    assert await flashphoner_play_ended(player) == PUBLISHER_GONE


async def test_whip_publish_antmedia_play(
    browser: BrowserContext, pages_base: str, gateway: AllDialects
) -> None:
    publisher = await browser.new_page()
    await publisher.goto(f"{pages_base}/whip/page.html")
    whip = gateway.url("/whip/whip-to-am")
    published = await publisher.evaluate("(url) => publish(url, '')", whip)
    assert published["location"].startswith(whip + "/")
    await gateway.live("whip-to-am")

    player, video = await antmedia_player(browser, pages_base, gateway, "whip-to-am")
    report("whip -> antmedia", video)
    assert video["framesDecoded"] > 0
    assert size(video) == SMALL_SIZE

    assert await publisher.evaluate("(l) => remove(l, '')", published["location"]) == 200
    await antmedia_event(player, "play_finished", "whip-to-am")


async def test_antmedia_publish_whep_play(
    browser: BrowserContext, pages_base: str, gateway: AllDialects
) -> None:
    publisher = await antmedia_publisher(browser, pages_base, gateway, "am-to-whep")

    player = await browser.new_page()
    await player.goto(f"{pages_base}/whip/page.html")
    whep = gateway.url("/whep/am-to-whep")
    played = await player.evaluate("(url) => play(url, '')", whep)
    assert played["location"].startswith(whep + "/")
    video = await until(
        player,
        """async () => {
            const s = await videoStats(player.pc, 'inbound-rtp');
            return s && s.framesDecoded > 0 && s.width > 0 ? s : null;
        }""",
        explain="() => videoStats(player.pc, 'inbound-rtp')",
    )
    report("antmedia -> whep", video)
    assert video["framesDecoded"] > 0
    assert size(video) == ANTMEDIA_SIZE

    # The stream's end closes the WHEP session (WHEP has no message to say so).
    whep_closed = lambda e: isinstance(e, events.SessionClosed) and e.dialect == "whip"  # noqa: E731
    async with gateway.awaiting(whep_closed):
        await publisher.evaluate("window.adaptor.stop('am-to-whep')")
    assert not any(s.dialect == "whip" for s in gateway.hub.sessions.values())


async def rtm_client(http: aiohttp.ClientSession, gw: AllDialects, client_id: str) -> RtmClient:
    """An aiortc RTM client session, ACTIVE and live as the core stream ``client_id``."""
    client = RtmClient(http, gw.ws("/api/v2/io"), client_id)
    await client.connect()
    await client.start_session(f"{client_id}-session")
    await client.state("ACTIVE", within=STEP_MS / 1000)
    await gw.live(client_id)
    return client


async def test_rtm_session_antmedia_play(
    browser: BrowserContext, pages_base: str, gateway: AllDialects
) -> None:
    async with aiohttp.ClientSession() as http:
        client = await rtm_client(http, gateway, "rtm-to-am")
        try:
            player, video = await antmedia_player(browser, pages_base, gateway, "rtm-to-am")
            report("rtm -> antmedia", video)
            assert video["framesDecoded"] > 0
            assert size(video) == RTM_SIZE

            await client.send("session_stop")
            ended = await client.state("TERMINATED")
            assert ended["termination_cause"] == "TERM_BY_CLIENT"
            await antmedia_event(player, "play_finished", "rtm-to-am")
        finally:
            await client.close()


async def test_rtm_session_flashphoner_play(
    browser: BrowserContext, pages_base: str, gateway: AllDialects
) -> None:
    async with aiohttp.ClientSession() as http:
        client = await rtm_client(http, gateway, "rtm-to-fp")
        try:
            player = await flashphoner_page(browser, pages_base, gateway)
            video = await flashphoner_player(player, "rtm-to-fp")
            report("rtm -> flashphoner", video)
            assert video["framesDecoded"] > 0
            assert size(video) == RTM_SIZE
        finally:
            await client.close()  # the socket drops: CONN_ERROR ends the stream
        assert await flashphoner_play_ended(player) == PUBLISHER_GONE
