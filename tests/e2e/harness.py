"""The browser side of the end-to-end tests: Debian's Chromium driven by playwright, and a
static server for the test pages and the vendors' unmodified SDKs from ``node_modules``.

Nothing here reaches beyond this host: Chromium runs with its background networking off, the
pages set no STUN server, and every URL is ``127.0.0.1``.
"""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from aiohttp import web
from playwright.async_api import BrowserContext, Page, async_playwright

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
PAGES = HERE / "pages"
FLASHPHONER_PAGES = HERE / "flashphoner" / "pages"
WHIP_PAGE = HERE.parent / "adapters" / "whip" / "page.html"
CHROMIUM = Path("/usr/bin/chromium")
ANTMEDIA_SDK = (
    NODE_MODULES / "@antmedia" / "webrtc_adaptor" / "dist" / "browser" / "webrtc_adaptor.js"
)

CHROMIUM_FLAGS = [
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
]

# Real host addresses in ICE candidates, not mDNS names, for pages that talk to a gateway that
# gathers on every interface.
HOST_CANDIDATES = "--disable-features=WebRtcHideLocalIpsWithMdns"

STEP_MS = 30_000  # the longest any single wait may take


def missing_prerequisites() -> str | None:
    """Why the browser tests cannot run here, or ``None`` when they can."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (run tests/setup-deps.sh)"
    if not ANTMEDIA_SDK.exists():
        return "the SDKs are not installed (run tests/setup-deps.sh)"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def chromium(*extra_flags: str, **options: Any) -> AsyncIterator[BrowserContext]:
    """A headless Chromium with a fresh profile, closed (and its profile removed) on exit.
    ``extra_flags`` follow :data:`CHROMIUM_FLAGS`; ``options`` go to playwright's
    ``launch_persistent_context`` (a ``viewport``, say)."""
    profile = tempfile.mkdtemp(prefix="switchboard-chromium-")
    try:
        async with async_playwright() as pw:
            context = await pw.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=[*CHROMIUM_FLAGS, *extra_flags],
                ignore_default_args=["--mute-audio"],
                **options,
            )
            try:
                yield context
            finally:
                await context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@asynccontextmanager
async def page_server() -> AsyncIterator[str]:
    """Serve the test pages and ``node_modules/`` at ``http://127.0.0.1:PORT``; yields the
    base URL. ``/pages/`` is the Ant Media page, ``/flashphoner/pages/`` the WebSDK's and
    ``/whip/page.html`` the WHIP / WHEP ``fetch()`` page."""

    async def whip_page(request: web.Request) -> web.FileResponse:
        return web.FileResponse(WHIP_PAGE)

    app = web.Application()
    app.router.add_static("/node_modules/", NODE_MODULES)
    app.router.add_static("/pages/", PAGES)
    app.router.add_static("/flashphoner/pages/", FLASHPHONER_PAGES)
    app.router.add_get("/whip/page.html", whip_page)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def until(
    page: Page, js: str, arg: Any = None, *, explain: str | None = None, timeout_ms: int = STEP_MS
) -> Any:
    """The first truthy value of the page function ``js`` (awaited when it is async, as
    ``getStats()`` is), asked every 250 ms in the page. On timeout the assertion carries what
    ``explain`` evaluates to."""
    poll = f"""async (arg) => {{
        const check = {js};
        const deadline = Date.now() + {timeout_ms};
        for (;;) {{
            const value = await check(arg);
            if (value) return value;
            if (Date.now() > deadline) return null;
            await new Promise((resolve) => setTimeout(resolve, 250));
        }}
    }}"""
    value = await page.evaluate(poll, arg)
    if not value:
        detail = await page.evaluate(explain, arg) if explain is not None else None
        raise AssertionError(f"timed out after {timeout_ms} ms: {js.strip()[:80]}... {detail}")
    return value


# The Ant Media page (``/pages/antmedia.html``): the unmodified webrtc_adaptor.


async def antmedia_page(browser: BrowserContext, base: str, ws_url: str, **opts: Any) -> Page:
    """A new tab with the adaptor initialised against ``ws_url`` (``opts`` go to ``start``)."""
    page = await browser.new_page()
    await page.goto(f"{base}/pages/antmedia.html")
    await page.evaluate("opts => window.start(opts)", {"url": ws_url, **opts})
    return page


async def antmedia_event(page: Page, name: str, stream_id: str | None = None) -> dict[str, Any]:
    """The first callback or error ``name`` of the adaptor (for ``stream_id`` when given)."""
    js = """([name, sid]) => window.events.find(e => e.name === name &&
        (sid === null || (e.obj && e.obj.streamId === sid)))"""
    handle = await page.wait_for_function(js, arg=[name, stream_id], timeout=STEP_MS)
    event: dict[str, Any] = await handle.json_value()
    return event


async def antmedia_decoding(page: Page, count: int) -> list[dict[str, Any]]:
    """Inbound video of the page once ``count`` tracks have decoded frames with a size."""
    js = """async (count) => {
        const videos = await window.inboundVideo();
        const good = videos.filter(v => v.framesDecoded > 0 && v.width > 0);
        return good.length >= count ? videos : null;
    }"""
    return list(await until(page, js, count, explain="() => window.inboundVideo()"))


# The Flashphoner page (``/flashphoner/pages/flashphoner.html``): the unmodified WebSDK.


async def flashphoner_decoding(page: Page, key: str, frames: int = 1) -> dict[str, Any]:
    """What the WebSDK stream ``key`` decoded, once ``frames`` frames with a size are in."""
    js = """async ([key, frames]) => {
        const s = await window.inboundVideo(key);
        return s.framesDecoded >= frames && s.frameWidth > 0 ? s : null;
    }"""
    explain = "([key]) => window.inboundVideo(key)"
    return dict(await until(page, js, [key, frames], explain=explain))
