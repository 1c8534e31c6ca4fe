"""An endpoint: one RTCPeerConnection, its negotiation and its life cycle."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCSessionDescription,
)
from aiortc import sdp as aiortc_sdp
from aiortc.exceptions import InternalError, InvalidAccessError, InvalidStateError, OperationError

from core.errors import BadSdp, CodecNotSupported, SessionClosed
from core.media import _aiortc
from core.media.config import MediaConfig
from core.media.types import LocalCandidate

log = structlog.get_logger(__name__)


MAX_MEDIA_SECTIONS = 64


def parse_sdp(text: str, kind: str) -> aiortc_sdp.SessionDescription:
    """Parse a session description, or raise :class:`BadSdp`."""
    if not isinstance(text, str) or "v=0" not in text or "\nm=" not in text.replace("\r", ""):
        raise BadSdp(f"the {kind} is not a session description with media")
    try:
        description = aiortc_sdp.SessionDescription.parse(text)
    except Exception as exc:  # the parser raises whatever the text makes it trip on
        raise BadSdp(f"the {kind} cannot be parsed: {exc}") from exc
    if not description.media:
        raise BadSdp(f"the {kind} has no media section")
    if len(description.media) > MAX_MEDIA_SECTIONS:
        raise BadSdp(f"the {kind} has more than {MAX_MEDIA_SECTIONS} media sections")
    mids = [media.rtp.muxId for media in description.media]
    if len(set(mids)) != len(mids):
        raise BadSdp(f"the {kind} gives two media sections the same mid")
    for group in description.group:
        if group.semantic == "BUNDLE" and not set(group.items) <= set(mids):
            raise BadSdp(f"the {kind} bundles a media section it does not have")
    for media in description.media:
        if media.kind in ("audio", "video") and (media.ice is None or media.dtls is None):
            raise BadSdp(f"the {kind} lacks ICE or DTLS parameters")
    return description


class Endpoint:
    """One peer connection of the media plane."""

    role = "endpoint"

    def __init__(self, config: MediaConfig, *, name: str, on_gone: Callable[[Endpoint], None]):
        self.id = secrets.token_urlsafe(16)
        self.name = name
        self.connected = asyncio.Event()
        self.closed = asyncio.Event()
        self._config = config
        self._on_gone = on_gone
        self._callbacks: list[Callable[[str], None]] = []
        self._closing = False
        self._close_reason = "closed"
        self._tasks: set[asyncio.Task[Any]] = set()
        self._log = log.bind(endpoint_id=self.id[:8], endpoint_name=name, role=self.role)
        servers = [
            RTCIceServer(urls=list(s.urls), username=s.username, credential=s.credential)
            for s in config.ice_servers
        ]
        # An explicit (possibly empty) list: aiortc would otherwise add Google's STUN server.
        self._pc = _aiortc.peer_connection(RTCConfiguration(iceServers=servers))
        self._pc.on("connectionstatechange", self._on_connection_state)
        self._addresses = list(config.host_addresses) or _aiortc.default_host_addresses()

    # -- life cycle -----------------------------------------------------------------------

    def on_close(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(reason)`` once when the endpoint closes ("closed", "failed")."""
        if self.closed.is_set():
            callback(self._close_reason)
        else:
            self._callbacks.append(callback)

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _on_connection_state(self) -> None:
        state = self._pc.connectionState
        self._log.debug("connection_state", state=state)
        if state == "connected":
            self.connected.set()
        elif state in ("failed", "closed") and not self._closing:
            self._spawn(self._close(state))

    async def close(self) -> None:
        """Close the peer connection; idempotent."""
        await self._close("closed")

    async def _close(self, reason: str) -> None:
        if self._closing:
            await self.closed.wait()
            return
        self._closing = True
        self._close_reason = reason
        current = asyncio.current_task()
        for task in list(self._tasks):
            if task is not current:
                task.cancel()
        try:
            self._teardown()
            await self._pc.close()
        finally:
            self.closed.set()
            self._on_gone(self)
            self._log.info("endpoint_closed", reason=reason, **self._summary())
            callbacks, self._callbacks = self._callbacks, []
            for callback in callbacks:
                try:
                    callback(reason)
                except Exception:
                    self._log.exception("close_callback_failed")

    def _teardown(self) -> None:
        """Stop forwarding before the peer connection goes away (subclasses)."""

    def _summary(self) -> dict[str, object]:
        return {}

    def _check_open(self) -> None:
        if self._closing:
            raise SessionClosed("the endpoint is closed")

    # -- negotiation ----------------------------------------------------------------------

    async def accept_offer(self, sdp: str) -> str:
        """Apply a remote offer; returns the answer, holding every local candidate."""
        self._check_open()
        description = parse_sdp(sdp, "offer")
        self._check_offer(description)
        await self._set_remote(sdp, "offer")
        try:
            answer = await self._pc.createAnswer()
        except (AttributeError, ValueError) as exc:  # an offer aiortc took but cannot answer
            raise BadSdp(f"the offer cannot be answered: {exc}") from exc
        await self._set_local(answer)
        return self._pc.localDescription.sdp

    async def create_offer(self) -> str:
        """Create (or, for renegotiation, re-create) an offer holding every local candidate."""
        self._check_open()
        offer = await self._pc.createOffer()
        await self._set_local(offer)
        return self._pc.localDescription.sdp

    async def accept_answer(self, sdp: str) -> None:
        """Apply the remote answer to the last offer."""
        self._check_open()
        parse_sdp(sdp, "answer")
        if self._pc.signalingState != "have-local-offer":
            raise BadSdp("an answer arrived but no offer is pending")
        await self._set_remote(sdp, "answer")

    async def add_remote_candidate(
        self,
        candidate: str,
        *,
        sdp_mid: str | None = None,
        sdp_mline_index: int | None = None,
    ) -> None:
        """Add a trickled remote candidate; an empty string means end of candidates."""
        self._check_open()
        text = candidate.strip()
        if text.startswith("a="):
            text = text[2:]
        if not text:
            await self._pc.addIceCandidate(None)  # type: ignore[arg-type]
            return
        if not text.startswith("candidate:"):
            raise BadSdp("an ICE candidate must start with 'candidate:'")
        try:
            parsed = aiortc_sdp.candidate_from_sdp(text[len("candidate:") :])
        except Exception as exc:
            raise BadSdp(f"the ICE candidate cannot be parsed: {exc}") from exc
        parsed.sdpMid = sdp_mid
        parsed.sdpMLineIndex = sdp_mline_index
        if sdp_mid is None and sdp_mline_index is None:
            parsed.sdpMLineIndex = 0  # everything is bundled on the first transport
        if self._pc.remoteDescription is None:
            raise BadSdp("an ICE candidate arrived before the remote description")
        try:
            await self._pc.addIceCandidate(parsed)
        except (ValueError, InvalidStateError) as exc:
            raise BadSdp(f"the ICE candidate cannot be used: {exc}") from exc

    def local_candidates(self) -> list[LocalCandidate]:
        """The local candidates, from the local description (for dialects that trickle)."""
        local = self._pc.localDescription
        if local is None:
            return []
        description = aiortc_sdp.SessionDescription.parse(local.sdp)
        return [
            LocalCandidate(
                candidate="candidate:" + aiortc_sdp.candidate_to_sdp(candidate),
                sdp_mid=media.rtp.muxId,
                sdp_mline_index=index,
            )
            for index, media in enumerate(description.media)
            for candidate in media.ice_candidates
        ]

    def _check_offer(self, description: aiortc_sdp.SessionDescription) -> None:
        """Reject an offer this endpoint cannot take (subclasses)."""

    def _after_negotiation(self) -> None:
        """Called when a local or remote description was applied (subclasses)."""

    async def _set_remote(self, sdp: str, kind: str) -> None:
        try:
            await self._pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=kind))
        except OperationError as exc:
            raise CodecNotSupported(f"no codec in the {kind} can carry the stream ({exc})") from exc
        except (ValueError, KeyError, IndexError, AttributeError, TypeError) as exc:
            raise BadSdp(f"the {kind} cannot be applied: {exc}") from exc
        except (InvalidStateError, InvalidAccessError, InternalError) as exc:
            raise BadSdp(f"the {kind} cannot be applied now: {exc}") from exc
        _aiortc.bundle_on_primary(self._pc)
        _aiortc.receive_directly(self._pc)
        self._after_negotiation()

    async def _set_local(self, description: RTCSessionDescription) -> None:
        _aiortc.restrict_gathering(self._pc, self._addresses)
        await self._pc.setLocalDescription(description)
        _aiortc.receive_directly(self._pc)
        self._after_negotiation()
