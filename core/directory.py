"""Which node holds which stream.

The core asks the directory before it lets a name be published, so that a name is live
at most once in a cluster. :class:`InMemoryDirectory` serves a single process; a shared
implementation (Redis) fills the same interface for several nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import time
from typing import TYPE_CHECKING, Protocol

from core.errors import NameInUse
from core.names import StreamKey

if TYPE_CHECKING:
    from core.stream import Stream


@dataclass(frozen=True)
class DirectoryEntry:
    key: StreamKey
    node_id: str
    since: float


class StreamDirectory(Protocol):
    async def claim(self, key: StreamKey, node_id: str) -> DirectoryEntry:
        """Record that ``node_id`` publishes ``key``; raise :class:`NameInUse` if taken."""
        ...

    async def release(self, key: StreamKey, node_id: str) -> None:
        """Forget ``key`` if ``node_id`` holds it (idempotent)."""
        ...

    async def lookup(self, key: StreamKey) -> DirectoryEntry | None: ...

    async def entries(self, namespace: str | None = None) -> list[DirectoryEntry]: ...

    async def close(self) -> None: ...


class StreamResolver(Protocol):
    """Serves a stream this process does not publish (a cluster's edge pulling from the
    origin). The hub asks it when a subscriber names a stream that is not here."""

    async def resolve(self, key: StreamKey) -> Stream | None:
        """A local stream that carries ``key`` from where it is published, live, or ``None``
        when no other node publishes it."""
        ...


class InMemoryDirectory:
    """The directory of a gateway that runs alone."""

    def __init__(self) -> None:
        self._entries: dict[StreamKey, DirectoryEntry] = {}

    async def claim(self, key: StreamKey, node_id: str) -> DirectoryEntry:
        if key in self._entries:
            raise NameInUse(f"stream {key.name!r} is already published", key=str(key))
        entry = DirectoryEntry(key, node_id, time())
        self._entries[key] = entry
        return entry

    async def release(self, key: StreamKey, node_id: str) -> None:
        entry = self._entries.get(key)
        if entry is not None and entry.node_id == node_id:
            del self._entries[key]

    async def lookup(self, key: StreamKey) -> DirectoryEntry | None:
        return self._entries.get(key)

    async def entries(self, namespace: str | None = None) -> list[DirectoryEntry]:
        return [e for e in self._entries.values() if namespace in (None, e.key.namespace)]

    async def close(self) -> None:
        self._entries.clear()
