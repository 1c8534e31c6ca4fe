"""The media engine: creates and tracks the endpoints of one process."""

from __future__ import annotations

import asyncio

import structlog

from core.media.config import MediaConfig
from core.media.endpoint import Endpoint
from core.media.publisher import Publisher
from core.media.subscriber import Subscriber

log = structlog.get_logger(__name__)


class MediaEngine:
    """Owns every endpoint; closing the engine closes them all."""

    def __init__(self, config: MediaConfig) -> None:
        self.config = config
        self._endpoints: dict[str, Endpoint] = {}

    def publisher(self, *, name: str) -> Publisher:
        endpoint = Publisher(self.config, name=name, on_gone=self._forget)
        self._endpoints[endpoint.id] = endpoint
        return endpoint

    def subscriber(self, *, name: str) -> Subscriber:
        endpoint = Subscriber(self.config, name=name, on_gone=self._forget)
        self._endpoints[endpoint.id] = endpoint
        return endpoint

    @property
    def endpoint_count(self) -> int:
        """Open endpoints (for leak checks)."""
        return len(self._endpoints)

    def _forget(self, endpoint: Endpoint) -> None:
        self._endpoints.pop(endpoint.id, None)

    async def close(self) -> None:
        """Close every endpoint."""
        endpoints = list(self._endpoints.values())
        if endpoints:
            await asyncio.gather(*(e.close() for e in endpoints), return_exceptions=True)
        log.info("media_engine_closed", endpoints=len(endpoints))
