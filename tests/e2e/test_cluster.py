"""The vendors' SDKs in headless Chromium against a cluster of two gateway processes.

A real ``redis-server`` and two ``python -m gateway serve`` nodes on 127.0.0.1 whose media
planes gather on every interface (Chromium offers no loopback candidates). The Ant Media SDK
publishes on node A; the Flashphoner WebSDK plays the stream on node B, which relays it from
A; the frames are decoded in the player's own ``getStats()``. Then the publisher stops and the
player on B is told.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext

from tests.e2e.flashphoner.pages_server import FLASHPHONER_SDK
from tests.e2e.harness import (
    antmedia_decoding,
    antmedia_event,
    antmedia_page,
    flashphoner_decoding,
    until,
)
from tests.gateway.cluster.conftest import redis_url
from tests.gateway.cluster.test_cluster import Node, running, start_node

__all__ = ["redis_url"]  # the fixture, used by name

pytestmark = [
    pytest.mark.timeout(90),
    pytest.mark.skipif(not FLASHPHONER_SDK.exists(), reason="the WebSDK is not installed"),
]


async def start_browser_node(name: str, redis: str, tmp: Path) -> Node:
    return await start_node(name, redis, tmp, disable=("rtm", "whip"), every_interface=True)


@pytest.fixture
async def two_nodes(redis_url: str, tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    a = await start_browser_node("a", redis_url, tmp_path)
    b = await start_browser_node("b", redis_url, tmp_path)
    async with running(a, b):
        yield a, b


def ws(node: Node, path: str) -> str:
    return node.url.replace("http", "ws", 1) + path


async def test_antmedia_sdk_publish_on_a_flashphoner_sdk_play_on_b(
    browser: BrowserContext, pages_base: str, two_nodes: tuple[Node, Node]
) -> None:
    a, b = two_nodes
    publisher = await antmedia_page(browser, pages_base, ws(a, "/WebRTCAppEE/websocket"))
    await publisher.evaluate("(s) => window.adaptor.publish(s)", "cluster-cam")
    await antmedia_event(publisher, "publish_started", "cluster-cam")

    player = await browser.new_page()
    await player.goto(f"{pages_base}/flashphoner/pages/flashphoner.html")
    assert await player.evaluate("(u) => connect(u)", ws(b, "/")) == "ESTABLISHED"
    playing = await player.evaluate("(s) => play('play', s)", "cluster-cam")
    assert playing["status"] == "PLAYING", playing
    video = await flashphoner_decoding(player, "play", frames=10)
    print(f"\nantmedia on A -> flashphoner on B: {video}")
    assert video["framesDecoded"] >= 10
    assert (video["frameWidth"], video["frameHeight"]) == (640, 480)
    assert "relay_opened" in b.log.read_text()

    await publisher.evaluate("window.adaptor.stop('cluster-cam')")
    await antmedia_event(publisher, "publish_finished", "cluster-cam")
    ended = await until(
        player,
        """() => window.events.find(e => e.kind === 'stream:play' &&
            ['STOPPED', 'FAILED'].includes(e.name))""",
    )
    assert ended["name"] == "STOPPED", ended


async def test_antmedia_sdk_conference_with_members_on_two_nodes(
    browser: BrowserContext, pages_base: str, two_nodes: tuple[Node, Node]
) -> None:
    room = "cluster-room"
    pages = {}
    for member, node in (("ann", two_nodes[0]), ("ben", two_nodes[1])):
        page = await antmedia_page(browser, pages_base, ws(node, "/WebRTCAppEE/websocket"))
        pages[member] = page
        await page.evaluate("([room, id]) => window.adaptor.joinRoom(room, id)", [room, member])
        await antmedia_event(page, "joinedTheRoom")
        await page.evaluate(
            "([room, id]) => window.adaptor.publish(id, undefined, '', '', id, room, '')",
            [room, member],
        )
        await antmedia_event(page, "publish_started", member)
    for member, page in pages.items():
        other = "ben" if member == "ann" else "ann"
        await antmedia_event(page, "streamJoined", other)
        await page.evaluate(
            "([room, id]) => window.adaptor.play(room, '', room, ['!' + id])", [room, member]
        )
    for member, page in pages.items():
        (video,) = await antmedia_decoding(page, 1)
        print(f"\n{member} plays the room across nodes: {video}")
        assert (video["width"], video["height"]) == (640, 480), (member, video)

    await pages["ben"].evaluate("window.adaptor.leaveFromRoom('cluster-room', 'ben')")
    await antmedia_event(pages["ben"], "leavedFromRoom")
    left = await antmedia_event(pages["ann"], "streamLeaved", "ben")
    assert left["obj"]["room"] == room
