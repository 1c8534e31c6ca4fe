"""Serve this folder's pages next to the SDKs of ``tests/e2e/node_modules`` on 127.0.0.1."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web

from tests.e2e.harness import NODE_MODULES, free_port

HERE = Path(__file__).resolve().parent
FLASHPHONER_SDK = NODE_MODULES / "@flashphoner" / "websdk" / "flashphoner.js"


@asynccontextmanager
async def serve_pages() -> AsyncIterator[str]:
    """``/flashphoner/pages/...`` and ``/node_modules/...``; yields the base URL."""
    app = web.Application()
    app.router.add_static("/node_modules/", NODE_MODULES)
    app.router.add_static("/flashphoner/pages/", HERE / "pages")
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()
