"""The stream directory of a cluster, in Redis (redis-py asyncio).

Keys, under the configured prefix ``P``:

* ``P:node:<id>`` — a node's record (its relay URL), written with an expiry of ``node_ttl`` and
  refreshed every ``heartbeat_interval``: a node whose key has expired is dead;
* ``P:nodes`` — the set of node ids ever seen alive (the reaper prunes it);
* ``P:streams`` — a hash from ``[namespace, name]`` to ``{"node", "since"}``.

A claim is one Lua script, so two nodes claiming a name at once cannot both win; an entry held
by a dead node does not count, which is how a name published on a node that died can be
published again at once. Every node's heartbeat also reaps: it drops dead nodes and their
entries, and reports them to whoever asked (:meth:`RedisDirectory.on_node_dead`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from redis.asyncio import Redis

from core.directory import DirectoryEntry
from core.errors import NameInUse
from core.names import StreamKey

log = structlog.stdlib.get_logger("gateway.cluster")

_CLAIM = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local owner = cjson.decode(current)['node']
  if owner ~= ARGV[2] and redis.call('EXISTS', ARGV[4] .. owner) == 1 then
    return current
  end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
return false
"""

_RELEASE = """
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current and cjson.decode(current)['node'] == ARGV[2] then
  redis.call('HDEL', KEYS[1], ARGV[1])
  return 1
end
return 0
"""


@dataclass(frozen=True)
class NodeInfo:
    node_id: str
    url: str
    started: float


def _text(value: str | bytes) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _field(key: StreamKey) -> str:
    return json.dumps([key.namespace, key.name], separators=(",", ":"))


def _key(field: str | bytes) -> StreamKey:
    namespace, name = json.loads(field)
    return StreamKey(str(namespace), str(name))


def _entry(key: StreamKey, value: str | bytes) -> DirectoryEntry:
    obj = json.loads(value)
    return DirectoryEntry(key, str(obj["node"]), float(obj["since"]))


class RedisDirectory:
    """Implements :class:`core.directory.StreamDirectory` and the node registry."""

    def __init__(
        self, redis: Redis, *, prefix: str, node_id: str, node_ttl: float, url: str = ""
    ) -> None:
        self.redis = redis
        self.node_id = node_id
        self.node_ttl = node_ttl
        self.url = url
        self.started = time.time()
        self._prefix = prefix
        self._streams = f"{prefix}:streams"
        self._nodes = f"{prefix}:nodes"
        self._node_prefix = f"{prefix}:node:"
        self._claim = redis.register_script(_CLAIM)
        self._release = redis.register_script(_RELEASE)
        self._dead_watchers: list[Callable[[str], None]] = []

    @classmethod
    def from_url(cls, redis_url: str, **kwargs: Any) -> RedisDirectory:
        return cls(Redis.from_url(redis_url, decode_responses=True), **kwargs)

    # -- StreamDirectory ------------------------------------------------------------------

    async def claim(self, key: StreamKey, node_id: str) -> DirectoryEntry:
        entry = DirectoryEntry(key, node_id, time.time())
        value = json.dumps({"node": node_id, "since": entry.since}, separators=(",", ":"))
        held = await self._claim(
            keys=[self._streams], args=[_field(key), node_id, value, self._node_prefix]
        )
        if held:
            owner = _entry(key, held).node_id
            raise NameInUse(f"stream {key.name!r} is already published", key=str(key), node=owner)
        return entry

    async def release(self, key: StreamKey, node_id: str) -> None:
        await self._release(keys=[self._streams], args=[_field(key), node_id])

    async def lookup(self, key: StreamKey) -> DirectoryEntry | None:
        value = await self.redis.hget(self._streams, _field(key))  # type: ignore[misc]
        if value is None:
            return None
        entry = _entry(key, value)
        if not await self.alive(entry.node_id):
            return None
        return entry

    async def entries(self, namespace: str | None = None) -> list[DirectoryEntry]:
        raw = await self._all_entries()
        found = [_entry(_key(f), v) for f, v in raw.items()]
        found = [e for e in found if namespace in (None, e.key.namespace)]
        owners = sorted({e.node_id for e in found})
        alive = {n for n, ok in zip(owners, await self._alive_many(owners), strict=True) if ok}
        return [e for e in found if e.node_id in alive]

    async def close(self) -> None:
        await self.redis.aclose()

    async def _all_entries(self) -> dict[str, str]:
        raw = await self.redis.hgetall(self._streams)  # type: ignore[misc]
        return {_text(k): _text(v) for k, v in raw.items()}

    async def _node_ids(self) -> list[str]:
        return sorted(_text(i) for i in await self.redis.smembers(self._nodes))  # type: ignore[misc]

    # -- nodes ----------------------------------------------------------------------------

    async def alive(self, node_id: str) -> bool:
        return bool(await self.redis.exists(self._node_prefix + node_id))

    async def _alive_many(self, node_ids: list[str]) -> list[bool]:
        if not node_ids:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for node_id in node_ids:
                pipe.exists(self._node_prefix + node_id)
            return [bool(x) for x in await pipe.execute()]

    async def node(self, node_id: str) -> NodeInfo | None:
        value = await self.redis.get(self._node_prefix + node_id)
        if value is None:
            return None
        obj = json.loads(value)
        return NodeInfo(node_id, str(obj["url"]), float(obj["started"]))

    async def nodes(self) -> list[NodeInfo]:
        ids = await self._node_ids()
        found = [await self.node(i) for i in ids]
        return [n for n in found if n is not None]

    async def heartbeat(self) -> None:
        """Refresh this node's record (with its expiry)."""
        value = json.dumps({"url": self.url, "started": self.started}, separators=(",", ":"))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._node_prefix + self.node_id, value, px=int(self.node_ttl * 1000))
            pipe.sadd(self._nodes, self.node_id)
            await pipe.execute()

    async def leave(self) -> None:
        """Forget this node and its entries now, rather than when its record expires."""
        await self.redis.delete(self._node_prefix + self.node_id)
        await self.redis.srem(self._nodes, self.node_id)  # type: ignore[misc]
        await self._drop_entries_of({self.node_id})

    def on_node_dead(self, watcher: Callable[[str], None]) -> None:
        """Call ``watcher(node_id)`` when the reaper finds a node dead."""
        self._dead_watchers.append(watcher)

    async def reap(self) -> list[str]:
        """Drop every dead node and its entries; returns their ids."""
        ids = await self._node_ids()
        dead = {n for n, ok in zip(ids, await self._alive_many(ids), strict=True) if not ok}
        if not dead:
            return []
        await self.redis.srem(self._nodes, *dead)  # type: ignore[misc]
        dropped = await self._drop_entries_of(dead)
        for node_id in sorted(dead):
            log.info("cluster_node_dead", node=node_id, streams=dropped.get(node_id, 0))
            for watcher in tuple(self._dead_watchers):
                watcher(node_id)
        return sorted(dead)

    async def _drop_entries_of(self, nodes: set[str]) -> dict[str, int]:
        raw = await self._all_entries()
        counts: dict[str, int] = {}
        for field, value in raw.items():
            owner = json.loads(value)["node"]
            if owner in nodes:
                # Conditional: a live node may have claimed the name since.
                await self._release(keys=[self._streams], args=[field, owner])
                counts[owner] = counts.get(owner, 0) + 1
        return counts
