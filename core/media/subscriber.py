"""A subscriber: the endpoint media goes out through."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import NoReturn

from aiortc import RTCRtpTransceiver
from aiortc import sdp as aiortc_sdp
from aiortc.mediastreams import MediaStreamTrack
from aiortc.rtcrtpparameters import RTCRtpSendParameters

from core.errors import CodecNotSupported, SessionClosed, StreamNotFound
from core.media import _aiortc
from core.media.config import MediaConfig
from core.media.endpoint import Endpoint
from core.media.forwarding import Egress
from core.media.publisher import Publisher
from core.media.types import TrackInfo, TrackStats


class _NoFrames(MediaStreamTrack):
    """A track that never yields a frame: the sender runs no encoder, packets go around it."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind

    async def recv(self) -> NoReturn:
        await asyncio.get_running_loop().create_future()
        raise AssertionError("unreachable")


@dataclass(eq=False)
class _Feed:
    source: Publisher
    track: TrackInfo
    transceiver: RTCRtpTransceiver
    egress: Egress
    mids: list[str] = field(default_factory=list)
    attached: bool = True


def _codec_matches(track: TrackInfo, media: aiortc_sdp.MediaDescription) -> bool:
    wanted = track.codec
    for codec in media.rtp.codecs:
        if codec.mimeType.lower() != wanted.mime_type.lower():
            continue
        if codec.clockRate != wanted.clock_rate:
            continue
        if wanted.mime_type.lower() == "video/h264":
            mode = str(codec.parameters.get("packetization-mode", "0"))
            if mode != wanted.parameters.get("packetization-mode", "0"):
                continue
        return True
    return False


class Subscriber(Endpoint):
    """Sends one or more publishers' tracks to a client, packets forwarded as they are."""

    role = "subscriber"

    def __init__(
        self, config: MediaConfig, *, name: str, on_gone: Callable[[Endpoint], None]
    ) -> None:
        super().__init__(config, name=name, on_gone=on_gone)
        self.first_media_sent = asyncio.Event()
        self._feeds: list[_Feed] = []
        self._ended: list[_Feed] = []  # detached or source gone: still counted in stats

    # -- sources --------------------------------------------------------------------------

    def attach(self, source: Publisher, *, kinds: Collection[str] | None = None) -> list[str]:
        """Add sendonly transceivers for ``source``'s tracks.

        Returns the list of their mids; it is filled in by the negotiation that follows
        (``create_offer``/``accept_answer`` or ``accept_offer``), see also :meth:`mids_of`.
        """
        self._check_open()
        if source.closed.is_set():
            raise SessionClosed("the source has closed")
        if not source.tracks:
            raise StreamNotFound("the source has no negotiated track yet")
        mids: list[str] = []
        tracks = [t for t in source.tracks if kinds is None or t.kind in kinds]
        for track in tracks:
            preferences = _aiortc.codec_preferences(
                track.kind, track.codec.mime_type, track.codec.parameters
            )
            if not preferences:
                raise CodecNotSupported(f"{track.codec.mime_type} cannot be sent")
        for track in tracks:
            transceiver = self._pc.addTransceiver(_NoFrames(track.kind), direction="sendonly")
            transceiver.setCodecPreferences(
                _aiortc.codec_preferences(track.kind, track.codec.mime_type, track.codec.parameters)
            )
            egress = Egress(source.ingress(track), on_first_packet=self._on_first_packet)
            feed = _Feed(source, track, transceiver, egress, mids)
            self._feeds.append(feed)
            _aiortc.tap_sender(
                transceiver.sender,
                on_parameters=self._sender_ready(feed),
                on_rtcp=egress.on_rtcp,
                sender_info=egress.sender_info,
            )
        source._on_subscriber_gone(self._source_gone)
        self._log.info("source_attached", source=source.id[:8], tracks=len(tracks))
        return mids

    def _sender_ready(self, feed: _Feed) -> Callable[[RTCRtpSendParameters, _aiortc.Wire], None]:
        def ready(parameters: RTCRtpSendParameters, wire: _aiortc.Wire) -> None:
            ssrc, rtx_ssrc = _aiortc.sender_ssrcs(feed.transceiver.sender)
            feed.egress.configure(ssrc, rtx_ssrc, parameters)
            feed.egress.wire = wire
            if feed.attached and not self._closing:
                feed.egress.source.add_consumer(feed.egress)

        return ready

    def detach(self, source: Publisher) -> None:
        """Stop forwarding ``source``; its transceivers go inactive on the next offer."""
        for feed in [f for f in self._feeds if f.source is source]:
            feed.attached = False
            feed.egress.source.remove_consumer(feed.egress)
            if not feed.transceiver.stopped:
                feed.transceiver.direction = "inactive"
            self._feeds.remove(feed)
            self._ended.append(feed)

    def _source_gone(self, source: Publisher) -> None:
        if any(f.source is source for f in self._feeds):
            self._log.info("source_ended", source=source.id[:8])
            for feed in [f for f in self._feeds if f.source is source]:
                feed.attached = False
                self._feeds.remove(feed)
                self._ended.append(feed)

    def sources(self) -> list[Publisher]:
        seen: list[Publisher] = []
        for feed in self._feeds:
            if feed.source not in seen:
                seen.append(feed.source)
        return seen

    def mids_of(self, source: Publisher) -> list[str]:
        return [
            feed.transceiver.mid
            for feed in self._feeds
            if feed.source is source and feed.transceiver.mid is not None
        ]

    def kinds_of(self, source: Publisher) -> dict[str, str]:
        """The negotiated mids that carry ``source``, each with its kind."""
        return {
            feed.transceiver.mid: feed.track.kind
            for feed in self._feeds
            if feed.source is source and feed.transceiver.mid is not None
        }

    def set_enabled(self, kind: str, enabled: bool, source: Publisher | None = None) -> None:
        """Stop or resume sending one kind (video resumes at the next keyframe)."""
        for feed in self._feeds:
            if feed.track.kind == kind and (source is None or feed.source is source):
                feed.egress.set_enabled(enabled)

    def _on_first_packet(self, egress: Egress) -> None:
        has_video = any(f.track.kind == "video" for f in self._feeds)
        if egress.kind == "video" or not has_video:
            self.first_media_sent.set()

    # -- negotiation ----------------------------------------------------------------------

    def _check_offer(self, description: aiortc_sdp.SessionDescription) -> None:
        # Mirror aiortc's matching of offered m-lines to transceivers: by mid, else by kind.
        unassigned = [f for f in self._feeds if f.transceiver.mid is None]
        for media in description.media:
            if media.kind not in ("audio", "video"):
                continue
            feed = next(
                (f for f in self._feeds if f.transceiver.mid == media.rtp.muxId), None
            ) or next((f for f in unassigned if f.track.kind == media.kind), None)
            if feed is None:
                continue
            if feed in unassigned:
                unassigned.remove(feed)
            if not _codec_matches(feed.track, media):
                offered = sorted({c.mimeType for c in media.rtp.codecs}) or ["none"]
                raise CodecNotSupported(
                    f"the stream's {media.kind} is {feed.track.codec.mime_type}; "
                    f"the subscriber offers {', '.join(offered)}",
                    kind=media.kind,
                    codec=feed.track.codec.mime_type,
                )

    def _after_negotiation(self) -> None:
        for feed in self._feeds:
            mid = feed.transceiver.mid
            if mid is not None and mid not in feed.mids:
                feed.mids.append(mid)

    # -- stats and life cycle -------------------------------------------------------------

    def stats(self) -> dict[str, TrackStats]:
        """What was sent to this subscriber, by kind (summed over sources)."""
        result: dict[str, TrackStats] = {}
        for feed in self._ended + self._feeds:
            current = feed.egress.stats()
            before = result.get(feed.track.kind)
            if before is not None:
                current = TrackStats(
                    codec=before.codec,
                    packets=before.packets + current.packets,
                    bytes=before.bytes + current.bytes,
                    bitrate_bps=before.bitrate_bps + current.bitrate_bps,
                    fps=max(before.fps, current.fps),
                    width=before.width or current.width,
                    height=before.height or current.height,
                    lost=before.lost + current.lost,
                    nack_count=before.nack_count + current.nack_count,
                    pli_count=before.pli_count + current.pli_count,
                    retransmitted=before.retransmitted + current.retransmitted,
                )
            result[feed.track.kind] = current
        return result

    def _teardown(self) -> None:
        for feed in self._feeds:
            feed.attached = False
            feed.egress.source.remove_consumer(feed.egress)

    def _summary(self) -> dict[str, object]:
        summary: dict[str, object] = {f"{k}_packets": s.packets for k, s in self.stats().items()}
        summary["sources"] = len(self.sources())
        return summary
