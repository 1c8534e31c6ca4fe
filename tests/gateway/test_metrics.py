"""``GET /metrics`` of a real gateway: a WHIP publisher and a WHEP player on loopback, file
deliveries, webhooks, the cluster gauge, and one registry per application."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from core.delivery import LocalDirectory
from gateway.app import SERVICES
from gateway.metrics import METRICS
from tests.gateway.operator import Operated, operated

pytestmark = pytest.mark.timeout(60)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture
async def gw(tmp_path: Path) -> AsyncIterator[Operated]:
    async for running in operated(tmp_path / "state"):
        yield running


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def scrape(http: aiohttp.ClientSession, url: str) -> Samples:
    async with http.get(url) as response:
        assert response.status == 200
        assert response.content_type == "text/plain"
        text = await response.text()
    samples: Samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return samples


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_hub_gauges_and_media_counters(gw: Operated, http: aiohttp.ClientSession) -> None:
    empty = await scrape(http, gw.url("/metrics"))
    assert value(empty, "switchboard_streams", state="live") == 0
    assert value(empty, "process_cpu_seconds_total") > 0
    assert value(empty, "switchboard_event_loop_cpu_seconds_total") > 0

    await gw.publish(http, "cam")
    player = await gw.play(http, "cam")
    during = await scrape(http, gw.url("/metrics"))
    assert value(during, "switchboard_sessions", dialect="whip") == 2
    assert value(during, "switchboard_streams", state="live") == 1
    assert value(during, "switchboard_subscribers") == 1
    assert value(during, "switchboard_media_endpoints") == 2
    received = value(during, "switchboard_media_packets_total", side="publisher", kind="video")
    sent = value(during, "switchboard_media_packets_total", side="subscriber", kind="video")
    assert received > 0 and sent > 0
    assert value(during, "switchboard_media_bytes_total", side="subscriber", kind="video") > 0
    for name in ("switchboard_pli_total", "switchboard_nack_packets_total"):
        for side in ("publisher", "subscriber"):
            assert (name, (("kind", "video"), ("side", side))) in during
    # Exported from the start; that NACKs are answered is shown by the media plane's loss test.
    assert ("switchboard_rtx_packets_total", (("kind", "video"), ("side", "subscriber"))) in during

    await player.close()
    await gw.close_peers()
    hub_empty = False
    for _ in range(100):
        after = await scrape(http, gw.url("/metrics"))
        if value(after, "switchboard_sessions", dialect="whip") == 0:
            hub_empty = True
            break
        await asyncio.sleep(0.1)
    assert hub_empty
    assert value(after, "switchboard_streams", state="live") == 0
    # Counters of closed endpoints are kept: totals never go down.
    assert value(after, "switchboard_media_packets_total", side="publisher", kind="video") >= (
        received
    )
    assert value(after, "switchboard_media_packets_total", side="subscriber", kind="video") >= sent


async def test_deliveries_webhooks_and_cluster_relays(
    gw: Operated, http: aiohttp.ClientSession, tmp_path: Path
) -> None:
    services = gw.gateway.app[SERVICES]
    # A file moved to a local directory, and one whose file is gone (abandoned at once).
    made = tmp_path / "rec.webm"
    made.write_bytes(b"x" * 10)
    done = await services["deliveries"].deliver(made, LocalDirectory(str(tmp_path / "out")))
    await services["deliveries"].wait(done)
    gone = await services["deliveries"].deliver(
        tmp_path / "missing.webm", LocalDirectory(str(tmp_path / "out"))
    )
    await services["deliveries"].queue.wait(gone, ok_only=False)

    # A webhook accepted by a receiver on loopback.
    async def receive(request: web.Request) -> web.Response:
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", receive)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        host, port = runner.addresses[0][:2]
        sent = await services["webhooks"].send(f"http://{host}:{port}/hook", {"a": 1}, event="t")
        await services["webhooks"].wait(sent)
    finally:
        await runner.cleanup()

    gw.gateway.app[METRICS].set_cluster_relays(3, direction="out")
    samples = await scrape(http, gw.url("/metrics"))
    assert value(samples, "switchboard_deliveries_total", target="dir", outcome="delivered") == 1
    assert value(samples, "switchboard_deliveries_total", target="dir", outcome="abandoned") == 1
    assert value(samples, "switchboard_webhooks_total", outcome="delivered") == 1
    assert value(samples, "switchboard_cluster_relays", direction="out") == 3
    assert services["metrics"] is gw.gateway.app[METRICS]


async def test_each_app_has_its_own_registry(tmp_path: Path, http: aiohttp.ClientSession) -> None:
    async for one in operated(tmp_path / "one"):
        async for two in operated(tmp_path / "two"):
            one.gateway.app[METRICS].set_cluster_relays(1)
            samples = await scrape(http, two.url("/metrics"))
            assert value(samples, "switchboard_cluster_relays", direction="out") == 0
    assert REGISTRY.get_sample_value("switchboard_cluster_relays", {"direction": "out"}) is None


async def test_metrics_can_be_moved_or_switched_off(
    tmp_path: Path, http: aiohttp.ClientSession
) -> None:
    async for gw in operated(tmp_path / "a", metrics={"path": "/internal/metrics"}):
        assert await scrape(http, gw.url("/internal/metrics"))
        async with http.get(gw.url("/metrics")) as response:
            assert response.status == 404
    async for gw in operated(tmp_path / "b", metrics={"enabled": False}):
        async with http.get(gw.url("/metrics")) as response:
            assert response.status == 404
