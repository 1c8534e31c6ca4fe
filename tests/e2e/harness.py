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

from aiohttp import web
from playwright.async_api import BrowserContext, async_playwright

HERE = Path(__file__).resolve().parent
NODE_MODULES = HERE / "node_modules"
PAGES = HERE / "pages"
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
async def chromium() -> AsyncIterator[BrowserContext]:
    """A headless Chromium with a fresh profile, closed (and its profile removed) on exit."""
    profile = tempfile.mkdtemp(prefix="switchboard-chromium-")
    try:
        async with async_playwright() as pw:
            context = await pw.chromium.launch_persistent_context(
                profile,
                executable_path=str(CHROMIUM),
                headless=True,
                args=CHROMIUM_FLAGS,
                ignore_default_args=["--mute-audio"],
            )
            try:
                yield context
            finally:
                await context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@asynccontextmanager
async def page_server() -> AsyncIterator[str]:
    """Serve ``pages/`` and ``node_modules/`` at ``http://127.0.0.1:PORT``; yields the base URL."""
    app = web.Application()
    app.router.add_static("/node_modules/", NODE_MODULES)
    app.router.add_static("/pages/", PAGES)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
