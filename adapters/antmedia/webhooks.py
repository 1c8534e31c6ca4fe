"""Ant Media's webhooks: ``liveStreamStarted``, ``liveStreamEnded`` and ``vodReady`` POSTed as
Ant Media does.

Ant Media posts an ``application/x-www-form-urlencoded`` form with ``action``, ``id`` (the
stream id) and, when the broadcast has them, ``streamName``, ``category`` and ``metadata``, to
the broadcast's own ``listenerHookURL`` if it has one, else to the application's. ``vodReady``
(a recording's file is finished) adds ``vodName`` (the file name) and ``vodId``. The receiver's
answer is not read beyond its status; anything but 2xx (or no answer) is retried with backoff.

Events come from the core's bus, whose handlers must not block: a handler only queues the call
(bounded queue; a full queue drops the call with a warning). Worker tasks owned here deliver;
the calls of one stream go through one worker, so ``liveStreamEnded`` never overtakes
``liveStreamStarted``.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

import aiohttp
import structlog
from pydantic import BaseModel, Field

from adapters.antmedia.broadcasts import BroadcastRegistry
from core import events
from core.names import StreamKey
from core.tasks import TaskOwner

if TYPE_CHECKING:
    from core.hub import Hub

log = structlog.get_logger(__name__).bind(dialect="antmedia")

FORM: Final = "application/x-www-form-urlencoded"
JSON: Final = "application/json"


class WebhookSettings(BaseModel):
    """Where and how the Ant Media webhooks are posted."""

    url: str = ""
    timeout_s: float = Field(default=5.0, gt=0)
    #: Attempts after the first one failed.
    retries: int = Field(default=3, ge=0)
    #: Delay before the first retry; doubled for each further one, up to ``backoff_max_s``.
    backoff_s: float = Field(default=1.0, ge=0)
    backoff_max_s: float = Field(default=30.0, ge=0)
    content_type: Literal["application/x-www-form-urlencoded", "application/json"] = FORM
    #: Calls waiting per worker; beyond it new calls are dropped.
    queue_size: int = Field(default=1000, ge=1)
    workers: int = Field(default=4, ge=1)
    #: How long :meth:`AntMediaWebhooks.stop` lets queued calls go out before it cancels them.
    drain_timeout_s: float = Field(default=2.0, ge=0)


@dataclass(frozen=True)
class Hook:
    """One webhook call: the URL and the form fields, in Ant Media's names."""

    url: str
    action: str
    stream_id: str
    stream_name: str | None = None
    category: str | None = None
    metadata: str | None = None
    vod_name: str | None = None
    vod_id: str | None = None

    def fields(self) -> dict[str, str]:
        fields = {"id": self.stream_id, "action": self.action}
        if self.vod_name is not None:
            fields["vodName"] = self.vod_name
        if self.vod_id is not None:
            fields["vodId"] = self.vod_id
        if self.stream_name is not None:
            fields["streamName"] = self.stream_name
        if self.category is not None:
            fields["category"] = self.category
        if self.metadata is not None:
            fields["metadata"] = self.metadata
        return fields


@dataclass(frozen=True)
class _Details:
    name: str | None
    category: str | None
    metadata: str | None
    url: str | None


class AntMediaWebhooks:
    """Posts Ant Media's live-stream webhooks for the streams ``app_of`` maps to an
    application (``None``: not posted).

    ``registry`` supplies a registered broadcast's name, category, metadata and own
    ``listenerHookURL``; ``hub`` the ``streamName`` and ``metaData`` a publisher gave (keys of
    the stream's ``app_data``) for streams that are not registered.
    """

    def __init__(
        self,
        settings: WebhookSettings,
        bus: events.EventBus,
        app_of: Callable[[StreamKey], str | None],
        *,
        registry: BroadcastRegistry | None = None,
        hub: Hub | None = None,
    ) -> None:
        self.settings = settings
        self._bus = bus
        self._app_of = app_of
        self._registry = registry
        self._hub = hub
        self._queues: list[asyncio.Queue[Hook]] = []
        self._tasks = TaskOwner("antmedia-webhooks")
        self._http: aiohttp.ClientSession | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._live: dict[StreamKey, _Details] = {}
        self.delivered = 0
        self.failed = 0
        self.dropped = 0

    async def start(self) -> None:
        if self._unsubscribe is not None:
            return
        self._http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.settings.timeout_s)
        )
        self._queues = [
            asyncio.Queue(maxsize=self.settings.queue_size) for _ in range(self.settings.workers)
        ]
        for index, queue in enumerate(self._queues):
            self._tasks.spawn(self._work(queue), name=f"antmedia-webhooks-{index}")
        self._unsubscribe = self._bus.subscribe(self._on_event)

    async def stop(self) -> None:
        """Stop taking events, let queued calls go out for ``drain_timeout_s``, then cancel."""
        if self._unsubscribe is None:
            return
        self._unsubscribe()
        self._unsubscribe = None
        try:
            # join() also waits for the calls in flight, which are no longer in the queue.
            async with asyncio.timeout(self.settings.drain_timeout_s):
                await asyncio.gather(*(q.join() for q in self._queues))
        except TimeoutError:
            log.warning("webhooks_not_drained", queued=sum(q.qsize() for q in self._queues))
        await self._tasks.cancel_all()
        if self._http is not None:
            await self._http.close()
            self._http = None
        self._live.clear()

    # -- events (on the loop, must not block) ---------------------------------------------------

    def _on_event(self, event: events.Event) -> None:
        if isinstance(event, events.StreamLive):
            details = self._details(event.key)
            if details is not None:
                self._live[event.key] = details
                self._enqueue(event.key, "liveStreamStarted", details)
        elif isinstance(event, events.StreamEnded):
            details = self._live.pop(event.key, None)
            if event.was_live and details is not None:
                self._enqueue(event.key, "liveStreamEnded", details)

    def vod_ready(self, key: StreamKey, *, app: str, vod_name: str, vod_id: str) -> None:
        """Post ``vodReady``: the recording ``vod_name`` of ``key`` (of ``app``) is finished."""
        if self._unsubscribe is None:
            return
        details = self._details(key, app) or _Details(None, None, None, None)
        self._enqueue(key, "vodReady", details, vod_name=vod_name, vod_id=vod_id)

    def _details(self, key: StreamKey, app: str | None = None) -> _Details | None:
        app = app or self._app_of(key)
        if app is None:
            return None
        registered = self._registry.get(app, key.name) if self._registry else None
        if registered is not None:
            return _Details(
                name=registered.name,
                category=registered.category,
                metadata=registered.metaData,
                url=registered.listenerHookURL or None,
            )
        app_data = {}
        stream = self._hub.find_stream(key) if self._hub is not None else None
        if stream is not None:
            app_data = stream.app_data
        return _Details(
            name=_text(app_data.get("streamName")),
            category=None,
            metadata=_text(app_data.get("metaData")),
            url=None,
        )

    def _enqueue(
        self,
        key: StreamKey,
        action: str,
        details: _Details,
        *,
        vod_name: str | None = None,
        vod_id: str | None = None,
    ) -> None:
        url = details.url or self.settings.url
        if not url:
            return
        hook = Hook(
            url=url,
            action=action,
            stream_id=key.name,
            stream_name=details.name,
            category=details.category,
            metadata=details.metadata,
            vod_name=vod_name,
            vod_id=vod_id,
        )
        queue = self._queues[zlib.crc32(str(key).encode()) % len(self._queues)]
        try:
            queue.put_nowait(hook)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("webhook_dropped", action=action, stream=key.name, reason="queue_full")

    # -- delivery ------------------------------------------------------------------------------

    async def _work(self, queue: asyncio.Queue[Hook]) -> None:
        while True:
            hook = await queue.get()
            try:
                await self._deliver(hook)
            finally:
                queue.task_done()

    async def _deliver(self, hook: Hook) -> None:
        settings = self.settings
        delay = settings.backoff_s
        error = ""
        for attempt in range(settings.retries + 1):
            if attempt:
                await asyncio.sleep(delay)
                delay = min(delay * 2, settings.backoff_max_s)
            try:
                status = await self._post(hook)
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = type(exc).__name__
            else:
                if 200 <= status < 300:
                    self.delivered += 1
                    log.info(
                        "webhook_delivered",
                        action=hook.action,
                        stream=hook.stream_id,
                        attempt=attempt + 1,
                    )
                    return
                error = f"http_{status}"
        self.failed += 1
        log.warning(
            "webhook_failed",
            action=hook.action,
            stream=hook.stream_id,
            attempts=settings.retries + 1,
            error=error,
        )

    async def _post(self, hook: Hook) -> int:
        assert self._http is not None
        fields = hook.fields()
        if self.settings.content_type == JSON:
            request = self._http.post(hook.url, json=fields)
        else:
            request = self._http.post(hook.url, data=fields)
        async with request as response:
            await response.read()
            return response.status


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
