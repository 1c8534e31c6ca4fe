"""The unmodified ``@antmedia/webrtc_adaptor`` in headless Chromium against the gateway."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import BrowserContext, Page

from tests.adapters.antmedia.conftest import Running
from tests.e2e.harness import STEP_MS, antmedia_page
from tests.e2e.harness import antmedia_decoding as wait_decoding
from tests.e2e.harness import antmedia_event as wait_event

pytestmark = pytest.mark.timeout(90)


async def open_page(browser: BrowserContext, base: str, gateway: Running, **opts: Any) -> Page:
    return await antmedia_page(browser, base, gateway.ws_url(query=""), **opts)


async def test_publish_then_play_in_another_page(
    browser: BrowserContext, pages_base: str, antmedia_gateway: Running
) -> None:
    publisher = await open_page(browser, pages_base, antmedia_gateway)
    await publisher.evaluate("window.adaptor.publish('e2ecam')")
    await wait_event(publisher, "publish_started", "e2ecam")

    player = await open_page(browser, pages_base, antmedia_gateway, playOnly=True)
    await player.evaluate("window.adaptor.play('e2ecam')")
    await wait_event(player, "play_started", "e2ecam")
    videos = await wait_decoding(player, 1)
    assert videos[0]["framesDecoded"] > 0
    assert (videos[0]["width"], videos[0]["height"]) == (640, 480)

    # Bitrates are measured over a window: ask until the first measurement is in.
    await player.evaluate(
        "window.asking = setInterval(() => window.adaptor.getStreamInfo('e2ecam'), 300)"
    )
    handle = await player.wait_for_function(
        """() => window.events.find(e => e.name === 'streamInformation' &&
            e.obj.streamInfo[0].videoBitrate > 0)""",
        timeout=STEP_MS,
    )
    await player.evaluate("clearInterval(window.asking)")
    first = (await handle.json_value())["obj"]["streamInfo"][0]
    assert (first["streamWidth"], first["streamHeight"]) == (640, 480)
    assert first["audioBitrate"] > 0 and "VP8" in first["videoCodec"]
    await wait_event(player, "bitrateMeasurement", "e2ecam")

    await publisher.evaluate("window.adaptor.stop('e2ecam')")
    await wait_event(publisher, "publish_finished", "e2ecam")
    await wait_event(player, "play_finished", "e2ecam")


async def test_three_party_conference(
    browser: BrowserContext, pages_base: str, antmedia_gateway: Running
) -> None:
    room = "e2eroom"
    pages: dict[str, Page] = {}
    for member in ("ann", "ben", "cat"):
        page = await open_page(browser, pages_base, antmedia_gateway)
        pages[member] = page
        await page.evaluate("([room, id]) => window.adaptor.joinRoom(room, id)", [room, member])
        joined = await wait_event(page, "joinedTheRoom")
        assert joined["obj"]["streamId"] == member
        await page.evaluate(
            "([room, id]) => window.adaptor.publish(id, undefined, '', '', id, room, '')",
            [room, member],
        )
        await wait_event(page, "publish_started", member)
    for member, page in pages.items():
        await page.evaluate(
            "([room, id]) => window.adaptor.play(room, '', room, ['!' + id])", [room, member]
        )
    for member, page in pages.items():
        videos = await wait_decoding(page, 2)
        assert all(v["width"] == 640 for v in videos if v["framesDecoded"] > 0), (member, videos)

    await pages["ann"].evaluate("window.adaptor.getRoomInfo('e2eroom', 'ann')")
    info = await wait_event(pages["ann"], "roomInformation")
    assert sorted(info["obj"]["streams"]) == ["ben", "cat"]

    await pages["cat"].evaluate("window.adaptor.leaveFromRoom('e2eroom', 'cat')")
    await wait_event(pages["cat"], "leavedFromRoom")
    for member in ("ann", "ben"):
        left = await wait_event(pages[member], "streamLeaved", "cat")
        assert left["obj"]["room"] == room


async def test_peer_to_peer(
    browser: BrowserContext, pages_base: str, antmedia_gateway: Running
) -> None:
    one = await open_page(browser, pages_base, antmedia_gateway)
    two = await open_page(browser, pages_base, antmedia_gateway)
    await one.evaluate("window.adaptor.join('e2epair')")
    await wait_event(one, "joined", "e2epair")
    await two.evaluate("window.adaptor.join('e2epair')")
    for page in (one, two):
        videos = await wait_decoding(page, 1)
        assert videos[0]["width"] == 640
    await two.evaluate("window.adaptor.leave('e2epair')")
    await wait_event(one, "leaved", "e2epair")


async def test_errors_the_sdk_can_trigger(
    browser: BrowserContext, pages_base: str, antmedia_gateway: Running
) -> None:
    first = await open_page(browser, pages_base, antmedia_gateway)
    await first.evaluate("window.adaptor.play('nobody-here')")
    error = await wait_event(first, "no_stream_exist", "nobody-here")
    assert error["kind"] == "error"
    await first.evaluate("window.adaptor.publish('bad name!')")
    assert (await wait_event(first, "invalidStreamName"))["kind"] == "error"
    await first.evaluate("window.adaptor.publish('e2etaken')")
    await wait_event(first, "publish_started", "e2etaken")

    second = await open_page(browser, pages_base, antmedia_gateway)
    await second.evaluate("window.adaptor.publish('e2etaken')")
    assert (await wait_event(second, "streamIdInUse"))["kind"] == "error"
    await second.evaluate("window.adaptor.joinRoom('')")
    assert (await wait_event(second, "no_room_specified"))["kind"] == "error"


async def test_ice_server_config_and_pong(
    browser: BrowserContext, pages_base: str, antmedia_gateway: Running
) -> None:
    page = await open_page(browser, pages_base, antmedia_gateway, askIceServers=True)
    await wait_event(page, "pong")
    sent = await page.evaluate("window.adaptor.peerconnection_config.iceServers || null")
    assert not sent  # nothing configured: the SDK keeps no STUN server
