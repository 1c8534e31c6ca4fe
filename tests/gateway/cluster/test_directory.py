"""The Redis directory against a real redis-server: claims, releases, node expiry, reaping."""

from __future__ import annotations

import asyncio

import pytest

from core.errors import NameInUse
from core.names import StreamKey
from gateway.cluster.directory import RedisDirectory

CAM = StreamKey("default", "cam1")


def node(redis_url: str, node_id: str, ttl: float = 5.0) -> RedisDirectory:
    return RedisDirectory.from_url(
        redis_url, prefix="t", node_id=node_id, node_ttl=ttl, url=f"http://{node_id}"
    )


async def test_a_name_is_held_by_one_live_node(redis_url: str) -> None:
    a, b = node(redis_url, "a"), node(redis_url, "b")
    try:
        await a.heartbeat()
        await b.heartbeat()
        entry = await a.claim(CAM, "a")
        assert entry.node_id == "a"
        with pytest.raises(NameInUse) as info:
            await b.claim(CAM, "b")
        assert info.value.details["node"] == "a"
        assert (await b.lookup(CAM)) is not None
        assert [e.key for e in await b.entries("default")] == [CAM]
        assert await b.entries("other") == []
        await b.release(CAM, "b")  # not b's: nothing happens
        assert (await a.lookup(CAM)) is not None
        await a.release(CAM, "a")
        assert await b.lookup(CAM) is None
        await b.claim(CAM, "b")
        assert [n.node_id for n in await a.nodes()] == ["a", "b"]
        assert (await a.node("b")) is not None and (await a.node("b")).url == "http://b"  # type: ignore[union-attr]
    finally:
        await a.close()
        await b.close()


async def test_a_dead_nodes_names_are_free_and_it_is_reaped(redis_url: str) -> None:
    a, b = node(redis_url, "a", ttl=0.3), node(redis_url, "b")
    dead: list[str] = []
    b.on_node_dead(dead.append)
    try:
        await a.heartbeat()
        await b.heartbeat()
        await a.claim(CAM, "a")
        await asyncio.sleep(0.5)  # a stops beating: its record expires
        assert not await b.alive("a")
        assert await b.lookup(CAM) is None
        assert await b.entries() == []
        assert await b.reap() == ["a"]
        assert dead == ["a"]
        await b.claim(CAM, "b")
        assert (await b.lookup(CAM)).node_id == "b"  # type: ignore[union-attr]
        assert await b.reap() == []
    finally:
        await a.close()
        await b.close()


async def test_leaving_frees_the_names_at_once(redis_url: str) -> None:
    a, b = node(redis_url, "a"), node(redis_url, "b")
    try:
        await a.heartbeat()
        await a.claim(CAM, "a")
        await a.leave()
        await b.claim(CAM, "b")
    finally:
        await a.close()
        await b.close()
