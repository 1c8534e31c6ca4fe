"""A WHIP or WHEP session resource: the state behind one ``Location`` URL.

It owns a core session with one publication (WHIP) or one subscription (WHEP) and closes it
when the client deletes the resource, when the peer connection fails or never connects, when
the stream it plays ends (WHEP), or when the gateway stops.
"""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable
from time import time

import structlog

from adapters.whip.codec import OfferSummary, SdpFrag
from core import events
from core.media import Endpoint
from core.names import StreamKey
from core.session import Session
from core.stream import new_id
from core.tasks import TaskOwner

log = structlog.get_logger(__name__)


class Kind(enum.Enum):
    WHIP = "whip"  # the client publishes
    WHEP = "whep"  # the client plays


class IceRestartUnsupported(Exception):
    """The client asked for an ICE restart; the media plane cannot restart ICE."""


class Resource:
    """One WHIP/WHEP session. ``id`` is the unguessable last segment of its URL."""

    def __init__(
        self,
        *,
        kind: Kind,
        stream: str,
        session: Session,
        endpoint: Endpoint,
        offer: OfferSummary,
        tasks: TaskOwner,
        on_gone: Callable[[Resource], None],
        subscription_id: str | None = None,
    ) -> None:
        self.kind = kind
        self.id = new_id()
        self.stream = stream
        self.session = session
        self.endpoint = endpoint
        self.offer = offer
        #: The ICE session's entity tag; it would change with an ICE restart.
        self.etag = new_id()[:16]
        self.subscription_id = subscription_id
        self.created_at = time()
        self.closed = False
        self.close_reason: str | None = None
        self._tasks = tasks
        self._on_gone = on_gone
        self._watchdog: asyncio.Task[None] | None = None
        self.log = log.bind(
            dialect=session.dialect,
            protocol=kind.value,
            session_id=session.id,
            stream=stream,
            resource=self.id[:8],
        )

    @property
    def key(self) -> StreamKey:
        return self.session.key(self.stream)

    def start(self, connect_timeout: float) -> None:
        """Begin watching the peer connection and the core's events about this session."""
        self.session.on_event(self._on_event)
        self.endpoint.on_close(lambda reason: self.close_soon(f"peer_{reason}"))
        self._watchdog = self._tasks.spawn(
            self._watch_connect(connect_timeout), name=f"whip-connect:{self.id[:8]}"
        )

    async def _watch_connect(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self.endpoint.connected.wait()
        except TimeoutError:
            await self.close("connect_timeout")

    def _on_event(self, event: events.Event) -> None:
        if isinstance(event, events.StreamEnded) and event.key == self.key:
            self.close_soon(f"stream_{event.reason}")
        elif (
            isinstance(event, events.SubscriptionEnded)
            and event.subscription_id == self.subscription_id
        ):
            self.close_soon(event.reason)

    # -- requests --------------------------------------------------------------------------

    async def trickle(self, frag: SdpFrag) -> None:
        """Add the client's trickled candidates. Raises :class:`IceRestartUnsupported` when
        the fragment carries other ICE credentials than the offer (a restart), and
        :class:`core.errors.BadSdp` for a candidate the media plane cannot use."""
        if frag.ice_ufrag is not None and self.offer.ice_ufrag not in (None, frag.ice_ufrag):
            raise IceRestartUnsupported("the fragment's ICE credentials start a new ICE session")
        mids = self.offer.mids
        ended = False
        for media in frag.media:
            index = mids.index(media.mid) if media.mid in mids else None
            for candidate in media.candidates:
                await self.endpoint.add_remote_candidate(
                    candidate, sdp_mid=media.mid, sdp_mline_index=index
                )
            ended = ended or media.end_of_candidates
        if ended:
            await self.endpoint.add_remote_candidate("")

    # -- closing ---------------------------------------------------------------------------

    def close_soon(self, reason: str) -> None:
        if not self.closed:
            self._tasks.spawn(self.close(reason), name=f"whip-close:{self.id[:8]}")

    async def close(self, reason: str) -> None:
        """Close the core session (and with it the peer connection); idempotent."""
        if self.closed:
            return
        self.closed = True
        self.close_reason = reason
        self._on_gone(self)
        watchdog = self._watchdog
        if watchdog is not None and watchdog is not asyncio.current_task():
            watchdog.cancel()
        await self.session.close(reason)
        self.log.info(
            "whip_session_ended",
            reason=reason,
            connected=self.endpoint.connected.is_set(),
            duration_s=round(time() - self.created_at, 1),
        )
