"""The unmodified @flashphoner/websdk in headless Chromium against the Flashphoner dialect."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from adapters.flashphoner.settings import FlashphonerSettings, RestHookApp  # noqa: E402
from tests.adapters.flashphoner.conftest import Gateway, start_gateway, stop_gateway  # noqa: E402
from tests.adapters.flashphoner.test_hooks import Backend, backend  # noqa: E402, F401
from tests.e2e.flashphoner.pages_server import FLASHPHONER_SDK, serve_pages  # noqa: E402
from tests.e2e.harness import (  # noqa: E402
    chromium,
    flashphoner_decoding,
    missing_prerequisites,
)

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.skipif(
        missing_prerequisites() is not None or not FLASHPHONER_SDK.exists(),
        reason=str(missing_prerequisites() or "the Flashphoner WebSDK is not installed"),
    ),
]


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    gw = await start_gateway(
        FlashphonerSettings(
            ping_interval=5, video_rate_interval=1, recording_directory=str(tmp_path / "rec")
        )
    )
    yield gw
    await stop_gateway(gw)


async def test_publish_play_missing_and_stops(gateway: Gateway) -> None:
    async with serve_pages() as base, chromium() as browser:
        publisher = await browser.new_page()
        player = await browser.new_page()
        for page in (publisher, player):
            await page.goto(f"{base}/flashphoner/pages/flashphoner.html")
            assert await page.evaluate("(u) => connect(u)", gateway.ws_url) == "ESTABLISHED"

        published = await publisher.evaluate("() => publish('pub', 'e2e-cam')")
        assert published == {"status": "PUBLISHING", "info": None}

        missing = await player.evaluate("() => play('missing', 'no-such-stream')")
        assert missing == {"status": "FAILED", "info": "Stream not found"}

        playing = await player.evaluate("() => play('play', 'e2e-cam')")
        assert playing["status"] == "PLAYING"
        stats = await flashphoner_decoding(player, "play", 20)
        assert (stats["frameWidth"], stats["frameHeight"]) == (320, 240)
        print(f"\nplayer decoded {stats}")

        stopped = await player.evaluate("() => stop('play')")
        assert stopped == {"status": "STOPPED", "info": "Stopped by user"}
        unpublished = await publisher.evaluate("() => stop('pub')")
        assert unpublished == {"status": "UNPUBLISHED", "info": "Stopped by publisher stop"}
    for _ in range(50):
        if gateway.hub.media.endpoint_count == 0:
            break
        await asyncio.sleep(0.05)
    assert gateway.hub.media.endpoint_count == 0


async def test_rest_hook_backend_allows_and_denies(
    tmp_path: Path,
    backend: Backend,  # noqa: F811
) -> None:
    backend.deny["publishStream"] = (403, "Publishing forbidden")
    gw = await start_gateway(
        FlashphonerSettings(
            ping_interval=0,
            recording_directory=str(tmp_path / "rec"),
            rest_hooks={"defaultApp": RestHookApp(backend=backend.url)},
        )
    )
    try:
        async with serve_pages() as base, chromium() as browser:
            page = await browser.new_page()
            await page.goto(f"{base}/flashphoner/pages/flashphoner.html")
            assert await page.evaluate("(u) => connect(u)", gw.ws_url) == "ESTABLISHED"
            denied = await page.evaluate("() => publish('pub', 'denied-cam')")
            assert denied == {"status": "FAILED", "info": "Publishing forbidden"}
    finally:
        await stop_gateway(gw)
    assert backend.methods()[0] == "connect"
    assert "publishStream" in backend.methods()
