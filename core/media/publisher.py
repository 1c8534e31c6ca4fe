"""A publisher: the endpoint media comes in through."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence

from aiortc import RTCRtpTransceiver
from aiortc import sdp as aiortc_sdp

from core.errors import BadSdp
from core.media import _aiortc
from core.media.config import MediaConfig
from core.media.endpoint import Endpoint
from core.media.forwarding import Egress, Ingress
from core.media.types import CodecInfo, PacketSink, TrackInfo, TrackStats


class Publisher(Endpoint):
    """Receives a client's tracks and hands their packets to subscribers and sinks."""

    role = "publisher"

    def __init__(
        self, config: MediaConfig, *, name: str, on_gone: Callable[[Endpoint], None]
    ) -> None:
        super().__init__(config, name=name, on_gone=on_gone)
        self.tracks: list[TrackInfo] = []
        self.media_flowing = asyncio.Event()
        self._ingress: dict[str, Ingress] = {}  # by mid
        self._tapped: set[int] = set()
        self._sinks: list[PacketSink] = []
        self._subscriber_hooks: list[Callable[[Publisher], None]] = []

    async def create_offer(self, kinds: Sequence[str] = ("audio", "video")) -> str:  # type: ignore[override]
        """A recvonly offer, for pulling media from a remote server as a client."""
        self._check_open()
        if not self._pc.getTransceivers():
            for kind in kinds:
                if kind not in ("audio", "video"):
                    raise ValueError(f"unknown media kind {kind!r}")
                self._pc.addTransceiver(kind, direction="recvonly")
        return await super().create_offer()

    def _check_offer(self, description: aiortc_sdp.SessionDescription) -> None:
        sending = [
            m
            for m in description.media
            if m.kind in ("audio", "video") and m.direction in ("sendonly", "sendrecv", None)
        ]
        if not sending:
            raise BadSdp("the offer sends no audio or video")

    def _after_negotiation(self) -> None:
        for transceiver in self._pc.getTransceivers():
            if transceiver.mid is None or id(transceiver) in self._tapped:
                continue
            if transceiver.currentDirection not in ("recvonly", "sendrecv"):
                continue
            self._tap(transceiver)

    def _tap(self, transceiver: RTCRtpTransceiver) -> None:
        codecs = [
            c
            for c in _aiortc.negotiated_codecs(transceiver)
            if not c.mimeType.lower().endswith("/rtx")
        ]
        if not codecs or transceiver.mid is None:
            return
        codec = codecs[0]
        info = TrackInfo(
            kind=transceiver.kind,
            mid=transceiver.mid,
            codec=CodecInfo(
                mime_type=codec.mimeType,
                clock_rate=codec.clockRate,
                channels=codec.channels,
                parameters={k: str(v) for k, v in codec.parameters.items()},
            ),
        )
        receiver = transceiver.receiver
        rtcp_ssrc, _ = _aiortc.sender_ssrcs(transceiver.sender)
        wire: list[_aiortc.Wire] = []

        def send_rtcp(data: bytes) -> None:
            if not wire:
                wire.append(_aiortc.Wire(receiver.transport))
            wire[0].send_rtcp(data)

        ingress = Ingress(
            info,
            rtcp_ssrc=rtcp_ssrc,
            send_rtcp=send_rtcp,
            keyframe_request_interval=self._config.keyframe_request_interval,
            cache_size=self._config.packet_cache_size,
            cached_keyframe_max_age=self._config.cached_keyframe_max_age,
            remb_interval=self._config.remb_interval,
            on_first_packet=self._on_first_packet,
        )
        ingress.sinks = list(self._sinks)
        _aiortc.tap_receiver(
            receiver,
            on_parameters=ingress.configure,
            on_rtp=ingress.on_rtp,
            on_rtcp=ingress.on_rtcp,
        )
        self._tapped.add(id(transceiver))
        self._ingress[info.mid] = ingress
        self.tracks.append(info)
        self._log.info("track_published", kind=info.kind, mid=info.mid, codec=codec.mimeType)

    def _on_first_packet(self) -> None:
        if not self.media_flowing.is_set():
            self.media_flowing.set()
            if self._config.publisher_silence_timeout > 0:
                self._spawn(self._watch_silence(self._config.publisher_silence_timeout))

    async def _watch_silence(self, limit: float) -> None:
        """Close as "lost" once no track has received a packet for ``limit`` seconds."""
        step = min(0.25, limit / 4)
        while not self._closing:
            await asyncio.sleep(step)
            last = max((i.last_arrival for i in self._ingress.values()), default=0.0)
            silent = time.monotonic() - last
            if last and silent >= limit:
                self._log.info("publisher_silent", silent_s=round(silent, 2))
                await self._close("lost")
                return

    # -- used by subscribers --------------------------------------------------------------

    def ingress(self, track: TrackInfo) -> Ingress:
        return self._ingress[track.mid]

    def _on_subscriber_gone(self, hook: Callable[[Publisher], None]) -> None:
        self._subscriber_hooks.append(hook)

    # -- public API -----------------------------------------------------------------------

    def add_packet_sink(self, sink: PacketSink) -> None:
        """Receive every RTP packet and sender report (recording, relays)."""
        if sink not in self._sinks:
            self._sinks.append(sink)
            for ingress in self._ingress.values():
                ingress.sinks.append(sink)

    def remove_packet_sink(self, sink: PacketSink) -> None:
        if sink in self._sinks:
            self._sinks.remove(sink)
            for ingress in self._ingress.values():
                if sink in ingress.sinks:
                    ingress.sinks.remove(sink)

    def request_keyframe(self) -> None:
        """Ask the client for a keyframe on every video track (throttled, never dropped)."""
        for ingress in self._ingress.values():
            ingress.request_keyframe()

    def stats(self) -> dict[str, TrackStats]:
        """Counters of the received tracks, by kind."""
        streams = _aiortc_stats(self)
        return {
            ingress.kind: ingress.stats(streams.get(ingress.media_ssrc or -1, 0))
            for ingress in self._ingress.values()
        }

    def _teardown(self) -> None:
        fed: list[Egress] = []
        for ingress in self._ingress.values():
            fed += ingress.close()
        for hook in self._subscriber_hooks:
            hook(self)
        self._subscriber_hooks = []

    def _summary(self) -> dict[str, object]:
        summary: dict[str, object] = {"tracks": len(self.tracks)}
        for ingress in self._ingress.values():
            summary[f"{ingress.kind}_packets"] = ingress.packets
        return summary


def _aiortc_stats(publisher: Publisher) -> dict[int, int]:
    """Packets lost per SSRC, from the receivers' RTCP statistics."""
    lost: dict[int, int] = {}
    for transceiver in publisher._pc.getTransceivers():
        for ssrc, stream in _aiortc.receiver_stream_statistics(transceiver.receiver).items():
            lost[ssrc] = max(0, stream.packets_lost)
    return lost
