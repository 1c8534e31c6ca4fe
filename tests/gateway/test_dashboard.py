"""The dashboard in headless Chromium: it lists a stream an aiortc client publishes over WHIP,
picks up a second one without a reload, and its WHEP preview decodes frames. The screenshot
is kept in ``test-artifacts/dashboard.png``."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.gateway.operator import Operated, operated

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[Operated]:
    # No token: the page is on loopback. Every interface address, so Chromium can connect.
    async for running in operated(tmp_path / "state", media={"host_addresses": []}):
        yield running


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    profile = tempfile.mkdtemp(prefix="dashboard-chromium-")
    try:
        async with async_playwright() as pw:
            context = await pw.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=FLAGS,
                viewport={"width": 1280, "height": 900},
            )
            try:
                yield context.pages[0] if context.pages else await context.new_page()
            finally:
                await context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


async def test_dashboard_lists_and_previews_a_live_stream(gw: Operated, page: Any) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    async with aiohttp.ClientSession() as http:
        await gw.publish(http, "lobby-cam")
        await page.goto(gw.url("/dashboard"))
        row = page.locator('#streams tr[data-stream="lobby-cam"][data-state="live"]')
        await row.wait_for(timeout=10_000)
        assert "whip" in await row.inner_text()

        # A stream published after the page loaded appears without a reload.
        await gw.publish(http, "stage")
        await page.locator('#streams tr[data-stream="stage"]').wait_for(timeout=10_000)
        assert await page.locator("#sessions tbody tr[data-session]").count() == 2

        await row.locator("button.preview").click()
        stats: dict[str, Any] | None = None
        for _ in range(150):
            stats = await page.evaluate("window.previewStats()")
            if stats and stats["framesDecoded"] >= 10:
                break
            await asyncio.sleep(0.1)
        assert stats is not None and stats["framesDecoded"] >= 10, stats
        assert (stats["width"], stats["height"]) == (320, 240)

        # The preview is a WHEP subscriber: the page shows it, and the API counts it.
        await (
            page.locator('#streams tr[data-stream="lobby-cam"] td:nth-child(7)')
            .filter(has_text="1")
            .wait_for(timeout=5_000)
        )
        await asyncio.to_thread(ARTIFACTS.mkdir, exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
        assert await page.locator("#error").inner_text() == ""
    assert errors == []
