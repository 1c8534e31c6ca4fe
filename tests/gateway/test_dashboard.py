"""The dashboard in headless Chromium: it lists a stream an aiortc client publishes over WHIP,
picks up a second one without a reload, and its WHEP preview decodes frames. The screenshot
is kept in ``test-artifacts/dashboard.png``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.harness import CHROMIUM, HOST_CANDIDATES, chromium
from tests.gateway.operator import Operated, operated

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"

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
    async with chromium(HOST_CANDIDATES, viewport={"width": 1280, "height": 900}) as context:
        yield context.pages[0] if context.pages else await context.new_page()


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
