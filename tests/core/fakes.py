"""A stand-in for the media plane, for testing the domain model alone.

It keeps the media API's shape (events, ``on_close``, ``attach``/``detach``) and nothing of
its work: the domain rules (names, ownership, cascading close, rooms) do not depend on RTP.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from typing import Any


class FakeEndpoint:
    def __init__(self, engine: FakeEngine, name: str) -> None:
        self.engine = engine
        self.name = name
        self.id = f"ep{len(engine.created)}"
        self.connected = asyncio.Event()
        self.closed = asyncio.Event()
        self._on_close: list[Callable[[str], None]] = []
        engine.created.append(self)

    def on_close(self, callback: Callable[[str], None]) -> None:
        self._on_close.append(callback)

    def fail(self, reason: str = "failed") -> None:
        """What the media plane does when the peer connection fails."""
        if not self.closed.is_set():
            self.closed.set()
            for cb in self._on_close:
                cb(reason)

    async def close(self) -> None:
        self.closed.set()


class FakePublisher(FakeEndpoint):
    def __init__(self, engine: FakeEngine, name: str) -> None:
        super().__init__(engine, name)
        self.media_flowing = asyncio.Event()
        self.tracks: list[Any] = []

    def stats(self) -> dict[str, Any]:
        return {}


class FakeSubscriber(FakeEndpoint):
    def __init__(self, engine: FakeEngine, name: str) -> None:
        super().__init__(engine, name)
        self.attached: list[FakePublisher] = []

    def attach(self, source: FakePublisher, *, kinds: Collection[str] | None = None) -> list[str]:
        self.attached.append(source)
        return [str(len(self.attached))]

    def detach(self, source: FakePublisher) -> None:
        self.attached.remove(source)

    def mids_of(self, source: FakePublisher) -> list[str]:
        return [str(self.attached.index(source) + 1)]


class FakeEngine:
    def __init__(self) -> None:
        self.created: list[FakeEndpoint] = []

    def publisher(self, *, name: str) -> FakePublisher:
        return FakePublisher(self, name)

    def subscriber(self, *, name: str) -> FakeSubscriber:
        return FakeSubscriber(self, name)

    @property
    def endpoint_count(self) -> int:
        return sum(not e.closed.is_set() for e in self.created)

    async def close(self) -> None:
        for endpoint in self.created:
            await endpoint.close()
