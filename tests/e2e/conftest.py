"""Fixtures of the browser tests: Chromium, the test-page server and a gateway whose media
plane gathers on every interface address (Chromium offers no loopback candidates)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import BrowserContext

from gateway.server import Gateway
from tests.adapters.antmedia.conftest import Running, start_gateway_with
from tests.e2e.harness import chromium, missing_prerequisites, page_server

_missing = missing_prerequisites()
if _missing is not None:
    pytest.skip(_missing, allow_module_level=True)


@pytest.fixture
async def browser() -> AsyncIterator[BrowserContext]:
    async with chromium() as context:
        yield context


@pytest.fixture
async def pages_base() -> AsyncIterator[str]:
    async with page_server() as base:
        yield base


@pytest.fixture
async def antmedia_gateway() -> AsyncIterator[Running]:
    started: list[Gateway] = []
    running = await start_gateway_with(
        started, host_addresses=[], bitrate_measurement_interval_s=1.0
    )
    try:
        yield running
    finally:
        for gateway in started:
            await gateway.stop()
