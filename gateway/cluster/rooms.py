"""Conference rooms shared between the nodes of a cluster, in Redis (redis-py asyncio).

Implements :class:`core.room.RoomDirectory`. Keys and channel, under the prefix ``P``:

* ``P:room:<json [namespace, name]>`` — a hash from member id to ``{"node", "live"}``: who is a
  member, on which node, and whether its stream is live there;
* ``P:rooms`` — the set of those hash keys (the reaper walks it);
* ``P:room-events`` — a pub/sub channel: ``{"room", "member", "node", "state"}`` for every
  change, ``state`` being ``joined``, ``live`` or ``left``.

Local changes are queued and written in order by one task (hash update and publish in one
transaction). One task reads the channel and tells the rooms open on this node of members on
other nodes; a room that opens here first reads the hash. A member on a node found dead is
dropped from the hashes and from the rooms here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from redis.asyncio import Redis

from core.names import StreamKey
from core.room import MemberState, Room
from core.tasks import TaskOwner

log = structlog.stdlib.get_logger("gateway.cluster")


@dataclass(frozen=True)
class RoomChange:
    """One message on the room channel."""

    room: StreamKey
    member: str
    node: str
    state: MemberState

    def encode(self) -> str:
        room = [self.room.namespace, self.room.name]
        obj = {"room": room, "member": self.member, "node": self.node, "state": self.state.value}
        return json.dumps(obj, separators=(",", ":"))

    @classmethod
    def parse(cls, text: str) -> RoomChange:
        obj = json.loads(text)
        if not isinstance(obj, dict):
            raise ValueError("not a room change")
        namespace, name = obj["room"]
        return cls(
            StreamKey(str(namespace), str(name)),
            str(obj["member"]),
            str(obj["node"]),
            MemberState(obj["state"]),
        )


class RedisRooms:
    """This node's side of the shared room membership."""

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str,
        node_id: str,
        alive: Callable[[str], Awaitable[bool]] | None = None,
        changed: Callable[[], None] | None = None,
    ) -> None:
        self.redis = redis
        self.node_id = node_id
        self._prefix = prefix
        self._index = f"{prefix}:rooms"
        self._channel = f"{prefix}:room-events"
        self._alive = alive
        self._changed = changed or (lambda: None)
        self.rooms: dict[StreamKey, Room] = {}
        self._queue: asyncio.Queue[RoomChange] = asyncio.Queue()
        self._tasks = TaskOwner("cluster-rooms")
        self._listening = asyncio.Event()

    def _hash(self, room: StreamKey) -> str:
        return f"{self._prefix}:room:" + json.dumps(
            [room.namespace, room.name], separators=(",", ":")
        )

    async def start(self) -> None:
        self._tasks.spawn(self._write(), name="cluster-rooms-writer")
        self._tasks.spawn(self._listen(), name="cluster-rooms-reader")
        await asyncio.wait_for(self._listening.wait(), 10)

    # -- core.room.RoomDirectory ----------------------------------------------------------------

    def room_opened(self, room: Room) -> None:
        self.rooms[room.key] = room
        self._tasks.spawn(self._load(room), name=f"cluster-room-load:{room.key}")

    def room_closed(self, room: Room) -> None:
        if self.rooms.get(room.key) is room:
            del self.rooms[room.key]
        self._changed()

    def member_changed(self, room: StreamKey, member_id: str, state: MemberState) -> None:
        self._queue.put_nowait(RoomChange(room, member_id, self.node_id, state))

    # -- writing ------------------------------------------------------------------------------

    async def _write(self) -> None:
        while True:
            change = await self._queue.get()
            try:
                await self._store(change)
            except Exception as exc:  # Redis away: the change is lost, the node expires
                log.warning("cluster_room_write_failed", room=str(change.room), error=str(exc))
            finally:
                self._queue.task_done()

    async def _store(self, change: RoomChange) -> None:
        key = self._hash(change.room)
        async with self.redis.pipeline(transaction=True) as pipe:
            if change.state is MemberState.LEFT:
                pipe.hdel(key, change.member)
            else:
                live = change.state is MemberState.LIVE
                value = json.dumps({"node": change.node, "live": live}, separators=(",", ":"))
                pipe.hset(key, change.member, value)
                pipe.sadd(self._index, key)
            pipe.publish(self._channel, change.encode())
            await pipe.execute()

    async def flush(self) -> None:
        """Wait until the queued changes are written (for at most two seconds)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._queue.join(), 2.0)

    # -- reading ------------------------------------------------------------------------------

    async def _listen(self) -> None:
        pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self._channel)
            self._listening.set()
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                try:
                    change = RoomChange.parse(message["data"])
                except (ValueError, KeyError, TypeError) as exc:
                    log.warning("cluster_room_message_bad", error=str(exc))
                    continue
                self._apply(change)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _apply(self, change: RoomChange) -> None:
        if change.node == self.node_id:
            return
        room = self.rooms.get(change.room)
        if room is None:
            return
        if change.state is MemberState.LEFT:
            remote = room.remote.get(change.member)
            if remote is not None and remote.node_id == change.node:
                room.remote_member_gone(change.member)
                self._changed()
        else:
            room.remote_member(change.member, change.node, live=change.state is MemberState.LIVE)

    async def _load(self, room: Room) -> None:
        try:
            raw = await self.redis.hgetall(self._hash(room.key))  # type: ignore[misc]
        except Exception as exc:
            log.warning("cluster_room_read_failed", room=str(room.key), error=str(exc))
            return
        if self.rooms.get(room.key) is not room:
            return
        for member, value in raw.items():
            obj = json.loads(value)
            node = str(obj["node"])
            if node == self.node_id or member in room.remote:
                continue  # the channel told newer news already
            if self._alive is not None and not await self._alive(node):
                continue
            room.remote_member(str(member), node, live=bool(obj["live"]))

    # -- nodes --------------------------------------------------------------------------------

    def node_dead(self, node_id: str) -> None:
        """Drop the members of a dead node from the rooms here and from Redis."""
        for room in tuple(self.rooms.values()):
            for remote in [r for r in room.remote.values() if r.node_id == node_id]:
                room.remote_member_gone(remote.member_id)
        self._tasks.spawn(self.forget_nodes({node_id}), name=f"cluster-room-reap:{node_id}")
        self._changed()

    async def forget_nodes(self, nodes: set[str]) -> None:
        """Remove the members of ``nodes`` from every room hash."""
        with contextlib.suppress(Exception):
            for key in await self.redis.smembers(self._index):  # type: ignore[misc]
                raw = await self.redis.hgetall(key)  # type: ignore[misc]
                gone = [m for m, v in raw.items() if json.loads(v)["node"] in nodes]
                if gone:
                    await self.redis.hdel(key, *gone)  # type: ignore[misc]
                if len(gone) == len(raw):
                    await self.redis.srem(self._index, key)  # type: ignore[misc]

    async def close(self) -> None:
        """Write what is queued, stop reading, and forget this node's members."""
        await self.flush()
        await self._tasks.cancel_all()
        await self.forget_nodes({self.node_id})
        self.rooms.clear()
