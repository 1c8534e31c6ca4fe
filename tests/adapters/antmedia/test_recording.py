"""Ant Media recording: muxing settings, the REST toggle and ``vodReady``, with a real aiortc
publisher, a real gateway and a real webhook receiver on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import av
import pytest
from aiohttp import web

from adapters.antmedia import codec
from tests.adapters.antmedia.clients import Client
from tests.adapters.antmedia.conftest import Running, StartGateway

pytestmark = pytest.mark.timeout(40)

APP = "WebRTCAppEE"


class Receiver:
    """Records the form fields of every POST."""

    def __init__(self) -> None:
        self.url = ""
        self.posts: asyncio.Queue[dict[str, str]] = asyncio.Queue()

    async def handle(self, request: web.Request) -> web.Response:
        await self.posts.put({k: str(v) for k, v in (await request.post()).items()})
        return web.Response(text="ok")

    async def action(self, action: str, within: float = 10) -> dict[str, str]:
        async with asyncio.timeout(within):
            while True:
                fields = await self.posts.get()
                if fields.get("action") == action:
                    return fields


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    rec = Receiver()
    app = web.Application()
    app.router.add_post("/{tail:.*}", rec.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    rec.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    try:
        yield rec
    finally:
        await runner.cleanup()


async def start(
    start_gateway: StartGateway, receiver: Receiver, tmp_path: Path, **settings: object
) -> Running:
    return await start_gateway(
        webhooks={"url": receiver.url, "backoff_s": 0.1},
        recordings_dir=str(tmp_path / "vod"),
        recording_work_dir=str(tmp_path / "work"),
        **settings,
    )


def assert_video_file(path: Path) -> None:
    assert path.exists() and path.stat().st_size > 0
    with av.open(str(path)) as container:
        assert container.streams.video
        frames = sum(1 for _ in container.decode(video=0))
        assert frames > 0


async def test_muxing_records_every_stream_and_posts_vod_ready(
    start_gateway: StartGateway, receiver: Receiver, tmp_path: Path
) -> None:
    gateway = await start(start_gateway, receiver, tmp_path, webm_muxing_enabled=True)
    taken = tmp_path / "vod" / APP / "rec1.webm"
    taken.parent.mkdir(parents=True)
    taken.write_bytes(b"an older recording")  # so the new one is rec1_1.webm
    client = await Client.connect(gateway.ws_url(APP))
    try:
        await client.publish("rec1")
        await receiver.action("liveStreamStarted")
        await asyncio.sleep(2)
        await client.send(codec.Stop("rec1"))
        await client.expect(codec.PublishFinished)
        await receiver.action("liveStreamEnded")
        vod = await receiver.action("vodReady")
    finally:
        await client.close()
    assert vod["id"] == "rec1"
    assert vod["vodName"] == "rec1_1.webm"
    assert vod["vodId"]
    assert_video_file(tmp_path / "vod" / APP / "rec1_1.webm")
    assert taken.read_bytes() == b"an older recording"


async def test_no_recording_without_muxing(
    start_gateway: StartGateway, receiver: Receiver, tmp_path: Path
) -> None:
    gateway = await start(start_gateway, receiver, tmp_path, mp4_muxing_enabled=True)
    client = await Client.connect(gateway.ws_url(APP))
    try:
        await client.publish("plain")  # VP8: WebM, whose muxing is off
        await receiver.action("liveStreamStarted")
        assert not gateway.dialect.recordings.active
    finally:
        await client.close()


async def test_rest_toggle_records_a_live_stream(
    start_gateway: StartGateway, receiver: Receiver, tmp_path: Path
) -> None:
    gateway = await start(start_gateway, receiver, tmp_path)
    base = f"http://{gateway.host}:{gateway.port}/{APP}/rest/v2/broadcasts"
    client = await Client.connect(gateway.ws_url(APP))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.put(f"{base}/nobody/recording/true") as response:
                assert response.status == 404
                assert (await response.json())["success"] is False
            await client.publish("cam")
            await receiver.action("liveStreamStarted")
            assert not gateway.dialect.recordings.active
            async with http.put(f"{base}/cam/recording/true") as response:
                result = await response.json()
                assert response.status == 200, result
                assert result["success"] is True
                assert result["dataId"] == "cam.webm"
            await asyncio.sleep(2)
            async with http.put(f"{base}/cam/recording/false") as response:
                assert (await response.json())["success"] is True
            vod = await receiver.action("vodReady")
            assert vod["id"] == "cam" and vod["vodName"] == "cam.webm"
            async with http.put(f"{base}/cam/recording/false") as response:
                assert (await response.json())["success"] is False
    finally:
        await client.close()
    assert_video_file(tmp_path / "vod" / APP / "cam.webm")
