"""Conference rooms across two ``python -m gateway serve`` processes on one redis-server.

Ant Media wire clients (real aiortc peers) join ``room1`` on node A and on node B and publish;
each hears ``streamJoined`` for the other, a room play on each node decodes the other member's
frames (relayed between the nodes), the relays show on the edge's ``/metrics``, and a member
who leaves is announced with ``streamLeaved`` on the other node.
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from adapters.antmedia import codec
from tests.adapters.antmedia.clients import Client

from .test_cluster import Node, running, start_node


async def start_antmedia_node(name: str, redis_url: str, tmp: Path) -> Node:
    return await start_node(name, redis_url, tmp, disable=("flashphoner", "rtm"))


@pytest.fixture
async def pair(redis_url: str, tmp_path: Path) -> AsyncIterator[tuple[Node, Node]]:
    a = await start_antmedia_node("a", redis_url, tmp_path)
    b = await start_antmedia_node("b", redis_url, tmp_path)
    async with running(a, b):
        yield a, b


def ws_url(node: Node) -> str:
    return node.url.replace("http", "ws", 1) + "/WebRTCAppEE/websocket"


async def join_and_publish(node: Node, member: str) -> Client:
    client = await Client.connect(ws_url(node))
    await client.send(codec.JoinRoom("room1", stream_id=member))
    await client.expect(codec.JoinedTheRoom, within=10)
    await client.publish(member, audio=False)
    return client


async def play_room_until(client: Client, member: str, *, own: str) -> None:
    """Play ``room1`` (own stream excluded), answering re-offers until ``member`` is carried,
    then decode a frame of it."""
    offer = await client.play("room1", track_list=(f"!{own}",))
    track_id = f"ARDAMSv{member}"  # Ant Media's name for the member's video track
    while not offer.id_mapping or track_id not in offer.id_mapping.values():
        offer = await client.expect(
            codec.TakeConfiguration, lambda m: m.stream_id == "room1" and m.type == "offer",
            within=20,
        )  # fmt: skip
        await client.answer_offer(offer)
    mid = next(m for m, name in offer.id_mapping.items() if name == track_id)
    pc = client.pcs["room1"]
    receiver = next(t.receiver for t in pc.getTransceivers() if t.mid == mid and t.kind == "video")
    frame = await asyncio.wait_for(receiver.track.recv(), 20)
    assert (frame.width, frame.height) == (320, 240)


async def relays(http: aiohttp.ClientSession, node: Node) -> dict[str, float]:
    async with http.get(f"{node.url}/metrics") as resp:
        text = await resp.text()
    found = re.findall(r'^switchboard_cluster_relays\{direction="(\w+)"\} (\S+)$', text, re.M)
    return {direction: float(value) for direction, value in found}


async def test_room_members_on_two_nodes_see_and_play_each_other(pair: tuple[Node, Node]) -> None:
    a, b = pair
    alice = await join_and_publish(a, "alice")
    bob: Client | None = None
    try:
        bob = await join_and_publish(b, "bob")
        # Each hears of the other's stream, though it is published on the other node.
        await alice.expect(codec.StreamJoined, lambda m: m.stream_id == "bob", within=15)
        await bob.expect(codec.StreamJoined, lambda m: m.stream_id == "alice", within=15)
        await bob.send(codec.GetRoomInfo("room1", "bob"))
        info = await bob.expect(codec.RoomInformation, within=10)
        assert set(info.streams) == {"alice"}

        # A room play on each node decodes the other member's frames, relayed between nodes.
        await asyncio.gather(
            play_room_until(alice, "bob", own="alice"),
            play_room_until(bob, "alice", own="bob"),
        )
        async with aiohttp.ClientSession() as http:
            assert (await relays(http, b)).get("in") == 1.0  # B pulls alice from A
            assert (await relays(http, b)).get("out") == 1.0  # and serves bob to A
            assert (await relays(http, a)).get("in") == 1.0

            # bob leaves the room on B: alice on A hears streamLeaved, and the relays end.
            await bob.send(codec.LeaveFromRoom("room1"))
            await bob.expect(codec.LeavedFromRoom, within=10)
            left = await alice.expect(codec.StreamLeaved, within=10)
            assert left.stream_id == "bob"
            for _ in range(100):
                if (await relays(http, b)) == {"in": 0.0, "out": 0.0}:
                    break
                await asyncio.sleep(0.1)
            assert await relays(http, b) == {"in": 0.0, "out": 0.0}
    finally:
        await alice.close()
        if bob is not None:
            await bob.close()


async def test_members_of_a_dead_node_are_announced_gone(
    pair: tuple[Node, Node], redis_url: str
) -> None:
    a, b = pair
    alice = await join_and_publish(a, "alice")
    bob = await Client.connect(ws_url(b))
    try:
        await bob.send(codec.JoinRoom("room1", stream_id="bob"))
        await bob.expect(codec.JoinedTheRoom, within=10)
        await bob.expect(codec.StreamJoined, lambda m: m.stream_id == "alice", within=15)

        killed = time.monotonic()
        a.proc.send_signal(signal.SIGKILL)
        left = await bob.expect(codec.StreamLeaved, lambda m: m.stream_id == "alice", within=5)
        assert left.room == "room1"
        told = time.monotonic() - killed
        assert told < 5, told

        # Once A's heartbeat has expired, B's reaper drops alice from the shared room too.
        redis = Redis.from_url(redis_url, decode_responses=True)
        try:
            for _ in range(100):
                members = await redis.hgetall('switchboard:room:["default","room1"]')
                if list(members) == ["bob"]:
                    break
                await asyncio.sleep(0.1)
            assert list(members) == ["bob"]
        finally:
            await redis.aclose()
    finally:
        await alice.close()
        await bob.close()
