"""The example pages at ``/examples/``, driven in headless Chromium as a person trying them
would: type a stream or room name into the form, click the page's buttons, watch its video.

One real gateway process serves the pages and the vendors' unmodified SDKs, and answers their
signalling; its media plane gathers on every interface address, as Chromium offers none on
loopback. The test observes each page from outside: every ``RTCPeerConnection`` the page (or
its SDK) creates is noted by an init script, and a player counts as playing once its inbound
video has decoded frames with a size and its ``<video>`` element shows them. One screenshot
per page goes to ``test-artifacts/``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page, Response

from core.hub import Hub
from gateway.app import HUB
from gateway.config import DialectModel, RawConfig, validate
from gateway.plugins import discover, make_plugin_manager
from gateway.server import Gateway
from tests.e2e.harness import until

pytestmark = pytest.mark.timeout(30)

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
WAIT_MS = 15_000  # the longest one step may take, well inside the test's 30 s
FRAMES = 30  # decoded frames a player must show: about a second of video

CAMERA_SIZE = (640, 480)  # the fake camera's default: what `video: true` gets
FLASHPHONER_SIZE = (320, 240)  # the WebSDK's default capture size

# Notes every peer connection of the page, before any of the page's scripts run.
WATCH_PEER_CONNECTIONS = """
window.__peerConnections = [];
window.RTCPeerConnection = class extends window.RTCPeerConnection {
  constructor(...args) { super(...args); window.__peerConnections.push(this); }
};
"""

# Inbound video of the page's open peer connections, and what its <video> elements show.
INBOUND_VIDEO = """async () => {
  const inbound = [];
  for (const pc of window.__peerConnections) {
    if (pc.connectionState === "closed") continue;
    (await pc.getStats()).forEach((r) => {
      if (r.type === "inbound-rtp" && r.kind === "video") {
        inbound.push({framesDecoded: r.framesDecoded || 0, width: r.frameWidth || 0,
                      height: r.frameHeight || 0});
      }
    });
  }
  const shown = [...document.querySelectorAll("video")]
    .filter((v) => v.videoWidth > 0)
    .map((v) => ({id: v.id, width: v.videoWidth, height: v.videoHeight,
                  frames: v.getVideoPlaybackQuality().totalVideoFrames}));
  return {inbound, shown, log: (document.getElementById("log") || {}).textContent};
}"""


@dataclass
class Served:
    """The gateway serving the example pages on one 127.0.0.1 listener."""

    gateway: Gateway
    base: str

    @property
    def hub(self) -> Hub:
        return self.gateway.app[HUB]

    def live(self) -> set[str]:
        return {s.key.name for s in self.hub.streams() if s.live}


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    pm = make_plugin_manager()
    plugins = discover(pm)
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
    gateway = Gateway(validate(raw, [DialectModel(p.name, p.model) for p in plugins]), pm)
    await gateway.start()
    try:
        host, port = gateway.addresses[0][:2]
        yield Served(gateway, f"http://{host}:{port}")
    finally:
        await gateway.stop()


@pytest.fixture
async def pages(browser: BrowserContext) -> AsyncIterator[BrowserContext]:
    """The browser, with every page's peer connections noted and uncaught errors failing the
    test."""
    await browser.add_init_script(WATCH_PEER_CONNECTIONS)
    errors: list[str] = []
    browser.on("page", lambda page: page.on("pageerror", lambda e: errors.append(str(e))))
    yield browser
    assert not errors, errors


async def open_example(browser: BrowserContext, served: Served, path: str) -> Page:
    page = await browser.new_page()
    response = await page.goto(f"{served.base}/examples/{path}")
    assert response is not None and response.status == 200, path
    return page


async def logged(page: Page, line: str) -> None:
    """Wait until the page's log shows ``line``."""
    await until(
        page,
        "(line) => document.getElementById('log').textContent.split('\\n').includes(line)",
        line,
        explain="() => document.getElementById('log').textContent",
        timeout_ms=WAIT_MS,
    )


async def playing(page: Page, tracks: int = 1) -> dict[str, Any]:
    """What the page decodes and shows, once ``tracks`` inbound videos have decoded
    :data:`FRAMES` frames with a size and as many ``<video>`` elements besides the camera
    preview show a picture."""
    js = f"""async (tracks) => {{
        const seen = await ({INBOUND_VIDEO})();
        const decoding = seen.inbound.filter((v) => v.framesDecoded >= {FRAMES} && v.width > 0);
        const shown = seen.shown.filter((v) => v.id !== "local" && v.frames > 0);
        return decoding.length >= tracks && shown.length >= tracks ? seen : null;
    }}"""
    return dict(await until(page, js, tracks, explain=INBOUND_VIDEO, timeout_ms=WAIT_MS))


async def eventually(check: Callable[[], bool], what: str) -> None:
    """Wait until ``check()`` holds, at most :data:`WAIT_MS`."""
    for _ in range(WAIT_MS // 100):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting until {what}")


async def gone(served: Served, name: str) -> None:
    await eventually(lambda: name not in served.live(), f"{name} is no longer live")


async def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"example-{name}.png"), full_page=True)


def sizes(seen: dict[str, Any]) -> set[tuple[int, int]]:
    return {(v["width"], v["height"]) for v in seen["inbound"] if v["framesDecoded"] > 0}


async def test_antmedia_publish_and_play_pages(pages: BrowserContext, served: Served) -> None:
    publisher = await open_example(pages, served, "antmedia/publish.html")
    await publisher.fill("#name", "am-page")
    await publisher.click("#start")  # enabled once the adaptor is initialised
    await logged(publisher, "publish_started")

    player = await open_example(pages, served, "antmedia/play.html")
    await player.fill("#name", "am-page")
    await player.click("#start")
    await logged(player, "play_started")
    seen = await playing(player)
    assert sizes(seen) == {CAMERA_SIZE}, seen
    await screenshot(publisher, "antmedia-publish")
    await screenshot(player, "antmedia-play")

    await publisher.click("#stop")
    await logged(publisher, "publish_finished")
    await logged(player, "play_finished")
    await gone(served, "am-page")


async def test_antmedia_conference_page_in_two_tabs(pages: BrowserContext, served: Served) -> None:
    tabs = []
    for _ in range(2):
        tab = await open_example(pages, served, "antmedia/conference.html")
        await tab.fill("#room", "page-room")
        await tab.click("#join")
        await logged(tab, "publish_started")
        tabs.append(tab)
    for tab in tabs:  # each plays the other: one remote video, the other tab's camera
        seen = await playing(tab)
        assert sizes(seen) == {CAMERA_SIZE}, seen
    await screenshot(tabs[0], "antmedia-conference")

    await tabs[1].click("#leave")
    await logged(tabs[1], "leavedFromRoom")
    await logged(tabs[0], "streamLeaved")
    for tab in tabs:  # neither shows the other any longer
        assert await tab.locator("#remotes video").count() == 0


async def test_flashphoner_publish_and_play_pages(pages: BrowserContext, served: Served) -> None:
    publisher = await open_example(pages, served, "flashphoner/publish.html")
    await publisher.fill("#name", "fp-page")
    await publisher.click("#start")
    await logged(publisher, "PUBLISHING")

    player = await open_example(pages, served, "flashphoner/play.html")
    await player.fill("#name", "fp-page")
    await player.click("#start")
    await logged(player, "PLAYING")
    seen = await playing(player)
    assert sizes(seen) == {FLASHPHONER_SIZE}, seen
    await screenshot(publisher, "flashphoner-publish")
    await screenshot(player, "flashphoner-play")

    await publisher.click("#stop")
    await logged(publisher, "UNPUBLISHED")
    await logged(player, "STOPPED")


async def test_whip_whep_page(pages: BrowserContext, served: Served) -> None:
    page = await open_example(pages, served, "whip.html")
    await page.fill("#name", "whip-page")
    await page.click("#publish")
    await logged(page, "/whip/whip-page: connected")
    await page.click("#play")
    await logged(page, "/whep/whip-page: connected")
    seen = await playing(page)
    assert sizes(seen) == {CAMERA_SIZE}, seen
    await screenshot(page, "whip")

    deleted: list[int] = []

    def on_response(response: Response) -> None:
        if response.request.method == "DELETE":
            deleted.append(response.status)

    page.on("response", on_response)
    await page.click("#stop")
    await eventually(lambda: len(deleted) == 2, "the page DELETEs both sessions")
    assert deleted == [200, 200]
    await gone(served, "whip-page")
