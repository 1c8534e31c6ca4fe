"""The forwarding path: one ingress per published track, one egress per subscriber track.

Packets are never decoded. An :class:`Ingress` keeps a ring of recent packets (for NACKs and
late joiners) and hands every packet to its :class:`Egress` objects, which rewrite the RTP
header (SSRC, payload type, sequence number and timestamp offsets, header extensions) and write
it to the subscriber's transport.
"""

from __future__ import annotations

import asyncio
import os
import struct
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog
from aiortc import clock
from aiortc.rtcrtpreceiver import NackGenerator
from aiortc.rtp import (
    RTCP_PSFB_APP,
    RTCP_PSFB_FIR,
    RTCP_PSFB_PLI,
    RTCP_RTPFB_NACK,
    AnyRtcpPacket,
    RtcpPsfbPacket,
    RtcpRrPacket,
    RtcpRtpfbPacket,
    RtcpSenderInfo,
    RtcpSrPacket,
    RtpPacket,
    pack_remb_fci,
    unpack_remb_fci,
    unwrap_rtx,
)

from core.media.bitstream import h264_has_sps, keyframe_parser
from core.media.types import PacketSink, TrackInfo, TrackStats

if TYPE_CHECKING:
    from aiortc.rtcrtpparameters import RTCRtpReceiveParameters, RTCRtpSendParameters

    from core.media._aiortc import Wire

_HEADER = struct.Struct("!BBHLL")
#: A header whose bytes 1 to 11 (marker, payload type, sequence, timestamp, SSRC) are
#: written per subscriber; with and without the header-extension bit.
_FIRST_BYTE = b"\x80" + bytes(11)
_FIRST_BYTE_EXT = b"\x90" + bytes(11)
_ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
_AUDIO_LEVEL = "urn:ietf:params:rtp-hdrext:ssrc-audio-level"
_MID = "urn:ietf:params:rtp-hdrext:sdes:mid"
#: A packet is sent again at most once per round trip (as libwebrtc's packet history does):
#: a client that falls behind repeats its NACKs for packets whose copy is still on its way,
#: and answering every repeat feeds the overload that made it lose them. Until a receiver
#: report gives the round trip, this is assumed; it is never taken below the floor.
_RTT_ASSUMED = 0.1
_RTT_FLOOR = 0.01
_RTT_ALPHA = 0.85

log = structlog.get_logger(__name__)


class _Meter:
    """Packets, bytes and frames per second over the last full second."""

    __slots__ = ("_bytes", "_frames", "_start", "bitrate", "fps")

    def __init__(self) -> None:
        self.bitrate = 0
        self.fps = 0.0
        self._bytes = 0
        self._frames = 0
        self._start = time.monotonic()

    def add(self, now: float, size: int, frame_end: bool) -> None:
        elapsed = now - self._start
        if elapsed >= 1.0:
            self.bitrate = int(self._bytes * 8 / elapsed)
            self.fps = round(self._frames / elapsed, 1)
            self._bytes = 0
            self._frames = 0
            self._start = now
        self._bytes += size
        if frame_end:
            self._frames += 1

    def current(self, now: float) -> tuple[int, float]:
        # A stream that stopped reads as zero rather than its last figure.
        if now - self._start > 2.0:
            return (0, 0.0)
        return (self.bitrate, self.fps)


class Ingress:
    """One published track: packet cache, keyframe requests, fan-out to egresses."""

    def __init__(
        self,
        info: TrackInfo,
        *,
        rtcp_ssrc: int,
        send_rtcp: Callable[[bytes], None],
        keyframe_request_interval: float,
        cache_size: int,
        cached_keyframe_max_age: float,
        remb_interval: float,
        on_first_packet: Callable[[], None],
    ) -> None:
        self.info = info
        self.kind = info.kind
        self.clock_rate = info.codec.clock_rate
        self.is_video = info.kind == "video"
        self.is_h264 = info.codec.mime_type.lower() == "video/h264"
        self._keyframe = keyframe_parser(info.codec.mime_type)
        self._rtcp_ssrc = rtcp_ssrc
        self._send_rtcp = send_rtcp
        self._pli_interval = keyframe_request_interval
        self._keyframe_max_age = cached_keyframe_max_age
        self._remb_interval = remb_interval
        self._on_first_packet: Callable[[], None] | None = on_first_packet
        size = 1
        while size < cache_size:
            size <<= 1
        self.cache_mask = size - 1
        self._cache: list[RtpPacket | None] = [None] * size
        self.consumers: list[Egress] = []
        self.sinks: list[PacketSink] = []
        self.media_ssrc: int | None = None
        self.payload_type: int | None = None
        self._rtx: dict[int, int] = {}  # rtx payload type -> media payload type
        self._rtx_ssrc: dict[int, int] = {}
        self._nack = NackGenerator() if self.is_video else None
        self._meter = _Meter()
        self.packets = 0
        self.bytes = 0
        self.nack_count = 0
        self.pli_count = 0
        self.width: int | None = None
        self.height: int | None = None
        self._sps_seen = False
        self.last_seq: int | None = None
        self.last_ts = 0
        self.last_arrival = 0.0
        self.keyframe_seq: int | None = None
        self._keyframe_arrival = 0.0
        self.sender_report: tuple[int, int, float] | None = None
        self._last_pli = -1e9
        self._pli_timer: asyncio.TimerHandle | None = None
        self._pli_pending = False
        self._last_remb = -1e9
        self._remb_timer: asyncio.TimerHandle | None = None
        self._closed = False
        self._failed = False

    # -- ingress --------------------------------------------------------------------------

    def configure(self, parameters: RTCRtpReceiveParameters) -> None:
        for codec in parameters.codecs:
            if codec.mimeType.lower().endswith("/rtx"):
                apt = codec.parameters.get("apt")
                if isinstance(apt, int) and codec.payloadType is not None:
                    self._rtx[codec.payloadType] = apt
            elif self.payload_type is None:
                self.payload_type = codec.payloadType
        for encoding in parameters.encodings:
            if encoding.rtx is not None:
                self._rtx_ssrc[encoding.rtx.ssrc] = encoding.ssrc
            if self.media_ssrc is None and encoding.ssrc:
                self.media_ssrc = encoding.ssrc

    def on_rtp(self, packet: RtpPacket) -> None:
        try:
            self._on_rtp(packet)
        except Exception:
            # An exception here would end the publisher's transport: report it once.
            if not self._failed:
                self._failed = True
                log.exception("forwarding_failed", kind=self.kind, mid=self.info.mid)

    def _on_rtp(self, packet: RtpPacket) -> None:
        if packet.payload_type in self._rtx:
            original_ssrc = self._rtx_ssrc.get(packet.ssrc, self.media_ssrc)
            if original_ssrc is None or len(packet.payload) < 2:
                return
            packet = unwrap_rtx(packet, self._rtx[packet.payload_type], original_ssrc)
        payload = packet.payload
        if not payload:
            return  # padding only (bandwidth probing): nothing to forward
        if self.media_ssrc is None or self.packets == 0:
            self.media_ssrc = packet.ssrc
            if self._on_first_packet is not None:
                self._on_first_packet()
                self._on_first_packet = None
            if self._pli_pending:
                self._pli_pending = False
                self.request_keyframe()
        now = time.monotonic()
        seq = packet.sequence_number
        self.packets += 1
        self.bytes += len(payload)
        self._meter.add(now, len(payload), bool(packet.marker) or not self.is_video)
        if self._nack is not None and self._nack.add(packet):
            self._send_nack(packet.ssrc, sorted(self._nack.missing))
        keyframe = False
        if self._keyframe is not None:
            keyframe, width, height = self._keyframe(payload)
            if keyframe and self.is_h264:
                if h264_has_sps(payload):
                    self._sps_seen = True
                elif self._sps_seen:
                    # The IDR after its parameter sets: the keyframe started one packet ago.
                    keyframe = False
            if keyframe:
                self.keyframe_seq = seq
                self._keyframe_arrival = now
                if width:
                    self.width = width
                    self.height = height
        self._cache[seq & self.cache_mask] = packet
        last = self.last_seq
        if last is None or 0 < ((seq - last) & 0xFFFF) < 0x8000:
            self.last_seq = seq
            self.last_ts = packet.timestamp
            self.last_arrival = now
        for sink in self.sinks:
            sink.on_rtp(self.info, packet)
        if self.consumers:
            # One serialised packet per distinct extension layout, patched per subscriber.
            templates: dict[bytes, bytes] = {}
            for egress in self.consumers:
                egress.forward(packet, keyframe, templates, now)

    def on_rtcp(self, packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpSrPacket) and packet.ssrc == self.media_ssrc:
            info = packet.sender_info
            self.sender_report = (info.ntp_timestamp, info.rtp_timestamp, time.monotonic())
            for sink in self.sinks:
                sink.on_rtcp_sr(self.info, info.ntp_timestamp, info.rtp_timestamp)

    def cached(self, seq: int) -> RtpPacket | None:
        packet = self._cache[seq & self.cache_mask]
        if packet is not None and packet.sequence_number == seq:
            return packet
        return None

    def rtp_time_now(self) -> int | None:
        """The publisher's RTP clock now, from its last sender report or last packet."""
        now = time.monotonic()
        if self.sender_report is not None:
            _, rtp_time, at = self.sender_report
            return int(rtp_time + (now - at) * self.clock_rate) & 0xFFFFFFFF
        if self.last_seq is not None:
            return int(self.last_ts + (now - self.last_arrival) * self.clock_rate) & 0xFFFFFFFF
        return None

    # -- fan-out --------------------------------------------------------------------------

    def add_consumer(self, egress: Egress) -> None:
        if self._closed or egress in self.consumers:
            return
        self.consumers.append(egress)
        egress.join()

    def remove_consumer(self, egress: Egress) -> None:
        if egress in self.consumers:
            self.consumers.remove(egress)
            self.update_remb()

    def keyframe_burst(self) -> list[RtpPacket] | None:
        """The cached packets from the last keyframe on, if recent and complete."""
        if self.keyframe_seq is None or self.last_seq is None or self._keyframe_max_age <= 0:
            return None
        if time.monotonic() - self._keyframe_arrival > self._keyframe_max_age:
            return None
        count = ((self.last_seq - self.keyframe_seq) & 0xFFFF) + 1
        if count > self.cache_mask:
            return None
        burst = []
        for i in range(count):
            packet = self.cached((self.keyframe_seq + i) & 0xFFFF)
            if packet is None:
                return None
            burst.append(packet)
        return burst

    # -- upstream feedback ----------------------------------------------------------------

    def request_keyframe(self) -> None:
        """Ask the publisher for a keyframe; a request within the interval is deferred."""
        if not self.is_video or self._closed or self._pli_timer is not None:
            return
        if self.media_ssrc is None:
            self._pli_pending = True
            return
        now = time.monotonic()
        wait = self._last_pli + self._pli_interval - now
        if wait <= 0:
            self._send_pli()
        else:
            self._pli_timer = asyncio.get_running_loop().call_later(wait, self._send_pli)

    def _send_pli(self) -> None:
        self._pli_timer = None
        if self._closed or self.media_ssrc is None:
            return
        self._last_pli = time.monotonic()
        self.pli_count += 1
        packet = RtcpPsfbPacket(fmt=RTCP_PSFB_PLI, ssrc=self._rtcp_ssrc, media_ssrc=self.media_ssrc)
        self._send_rtcp(bytes(packet))

    def _send_nack(self, media_ssrc: int, lost: list[int]) -> None:
        self.nack_count += len(lost)
        packet = RtcpRtpfbPacket(fmt=RTCP_RTPFB_NACK, ssrc=self._rtcp_ssrc, media_ssrc=media_ssrc)
        packet.lost = lost
        self._send_rtcp(bytes(packet))

    def update_remb(self) -> None:
        """Send the slowest subscriber's estimate upstream, at most once per interval."""
        if self._closed or self.media_ssrc is None or self._remb_timer is not None:
            return
        wait = self._last_remb + self._remb_interval - time.monotonic()
        if wait > 0:
            self._remb_timer = asyncio.get_running_loop().call_later(wait, self._send_remb)
        else:
            self._send_remb()

    def _send_remb(self) -> None:
        self._remb_timer = None
        estimates = [e.remb for e in self.consumers if e.remb is not None]
        if self._closed or not estimates or self.media_ssrc is None:
            return
        self._last_remb = time.monotonic()
        packet = RtcpPsfbPacket(
            fmt=RTCP_PSFB_APP,
            ssrc=self._rtcp_ssrc,
            media_ssrc=0,
            fci=pack_remb_fci(min(estimates), [self.media_ssrc]),
        )
        self._send_rtcp(bytes(packet))

    # -- life cycle -----------------------------------------------------------------------

    def stats(self, lost: int) -> TrackStats:
        bitrate, fps = self._meter.current(time.monotonic())
        return TrackStats(
            codec=self.info.codec.mime_type,
            packets=self.packets,
            bytes=self.bytes,
            bitrate_bps=bitrate,
            fps=fps,
            width=self.width,
            height=self.height,
            lost=lost,
            nack_count=self.nack_count,
            pli_count=self.pli_count,
        )

    def close(self) -> list[Egress]:
        """Stop forwarding; returns the egresses that were fed."""
        self._closed = True
        for timer in (self._pli_timer, self._remb_timer):
            if timer is not None:
                timer.cancel()
        self._pli_timer = self._remb_timer = None
        consumers, self.consumers = self.consumers, []
        self.sinks = []
        self._cache = [None] * (self.cache_mask + 1)
        return consumers


class Egress:
    """One subscriber's copy of a published track."""

    def __init__(
        self,
        source: Ingress,
        *,
        on_first_packet: Callable[[Egress], None],
    ) -> None:
        self.source = source
        self.kind = source.kind
        self.clock_rate = source.clock_rate
        self._on_first_packet: Callable[[Egress], None] | None = on_first_packet
        self.wire: Wire | None = None
        self.ssrc = 0
        self.rtx_ssrc = 0
        self.payload_type = 0
        self.rtx_payload_type: int | None = None
        self._ext_key = b""
        self._mid_element = b""
        self._abs_id = 0
        self._level_id = 0
        self.enabled = True
        self.active = False  # forwarding (for video: a keyframe went out)
        self._seq_offset = 0
        self._ts_offset = 0
        self.last_seq: int | None = None  # last sequence number sent (subscriber side)
        self.last_ts = 0
        self._last_sent_at = 0.0
        self._rtx_seq = 0
        self.packets = 0
        self.bytes = 0
        self.frames = 0
        self._rates = (time.monotonic(), 0, 0, 0)  # at, packets, bytes, frames
        self._bitrate = 0
        self._fps = 0.0
        self.nack_count = 0
        self.pli_count = 0
        self.retransmitted = 0
        self.retransmit_skipped = 0
        self.rtt: float | None = None
        # When each cached packet was last sent again, by the source's cache slot.
        self._resent_at = [-1e9] * (source.cache_mask + 1)
        self.lost = 0
        self.remb: int | None = None
        self.started_at: float | None = None
        self.first_packet_at: float | None = None

    def configure(self, ssrc: int, rtx_ssrc: int, parameters: RTCRtpSendParameters) -> None:
        """Take the negotiated send parameters of the subscriber's sender."""
        self.ssrc = ssrc
        self.rtx_ssrc = rtx_ssrc
        media = [c for c in parameters.codecs if not c.mimeType.lower().endswith("/rtx")]
        self.payload_type = media[0].payloadType or 0
        for codec in parameters.codecs:
            if (
                codec.mimeType.lower().endswith("/rtx")
                and codec.parameters.get("apt") == self.payload_type
            ):
                self.rtx_payload_type = codec.payloadType
        mid = parameters.muxId or ""
        for ext in parameters.headerExtensions:
            if ext.uri == _MID and mid:
                value = mid.encode()
                self._mid_element = bytes(((ext.id << 4) | (len(value) - 1),)) + value
            elif ext.uri == _ABS_SEND_TIME:
                self._abs_id = ext.id
            elif ext.uri == _AUDIO_LEVEL:
                self._level_id = ext.id
        # Bytes, whose hash is cached: looked up once per forwarded packet.
        self._ext_key = self._mid_element + bytes((255, self._abs_id, self._level_id))
        seq, ts = (int.from_bytes(x, "big") for x in (_random(2), _random(4)))
        self.last_seq = None
        self._seq_offset = seq & 0x7FFF
        self._ts_offset = ts
        self._rtx_seq = int.from_bytes(_random(2), "big") & 0x7FFF

    # -- forwarding -----------------------------------------------------------------------

    def join(self) -> None:
        """Called when attached to the source: start, for video at a keyframe."""
        self.active = False
        self.started_at = time.monotonic()
        if not self.enabled:
            return
        if not self.source.is_video:
            return  # audio starts with the next packet
        burst = self.source.keyframe_burst()
        if burst is None:
            self.source.request_keyframe()
            return
        now = time.monotonic()
        for i, packet in enumerate(burst):
            self.forward(packet, i == 0, {}, now)

    def forward(
        self,
        packet: RtpPacket,
        keyframe: bool,
        templates: dict[bytes, bytes],
        now: float,
    ) -> None:
        """Send one packet; ``templates`` holds this packet serialised, by extension layout."""
        if not self.active:
            if not self.enabled or self.wire is None:
                return
            if self.source.is_video and not keyframe:
                return
            self._start(packet)
        template = templates.get(self._ext_key)
        if template is None:
            template = templates[self._ext_key] = self._serialise(packet)
        seq = (packet.sequence_number + self._seq_offset) & 0xFFFF
        ts = (packet.timestamp + self._ts_offset) & 0xFFFFFFFF
        marker = packet.marker
        self.wire.send_patched(  # type: ignore[union-attr]
            template, (marker << 7) | self.payload_type, seq, ts, self.ssrc
        )
        # Only move forward: a retransmitted older packet does not rewind the counters.
        if 0 < ((seq - self.last_seq) & 0xFFFF) < 0x8000:  # type: ignore[operator]
            self.last_seq = seq
            self.last_ts = ts
            self._last_sent_at = now
        self.packets += 1
        self.bytes += len(packet.payload)
        if marker:
            self.frames += 1

    def _serialise(self, packet: RtpPacket) -> bytes:
        """The packet with this subscriber's extension block; bytes 1 to 11 are patched later."""
        ext = self._extension_block(packet)
        return (_FIRST_BYTE_EXT if ext else _FIRST_BYTE) + ext + packet.payload

    def _start(self, packet: RtpPacket) -> None:
        if self.last_seq is None:
            # First start: offsets picked in configure() give a random initial seq/ts.
            self._seq_offset = (self._seq_offset - packet.sequence_number) & 0xFFFF
            self._ts_offset = (self._ts_offset - packet.timestamp) & 0xFFFFFFFF
            self.last_seq = (packet.sequence_number + self._seq_offset - 1) & 0xFFFF
        else:
            # Resume or switch: continue where the subscriber's stream left off.
            gap = max(1, int((time.monotonic() - self._last_sent_at) * self.clock_rate))
            self._seq_offset = (self.last_seq + 1 - packet.sequence_number) & 0xFFFF
            self._ts_offset = (self.last_ts + gap - packet.timestamp) & 0xFFFFFFFF
        self._last_sent_at = time.monotonic()
        self.active = True
        if self._on_first_packet is not None:
            self.first_packet_at = self._last_sent_at
            callback, self._on_first_packet = self._on_first_packet, None
            callback(self)

    def _extension_block(self, packet: RtpPacket) -> bytes:
        elements = self._mid_element
        ext = packet.extensions
        if self._abs_id and ext.abs_send_time is not None:
            elements += bytes(((self._abs_id << 4) | 2,)) + (ext.abs_send_time & 0xFFFFFF).to_bytes(
                3, "big"
            )
        if self._level_id and ext.audio_level is not None:
            voice, level = ext.audio_level
            elements += bytes(((self._level_id << 4), (0x80 if voice else 0) | (level & 0x7F)))
        if not elements:
            return b""
        elements += b"\x00" * (-len(elements) % 4)
        return b"\xbe\xde" + (len(elements) // 4).to_bytes(2, "big") + elements

    def set_enabled(self, enabled: bool) -> None:
        if enabled == self.enabled:
            return
        self.enabled = enabled
        self.active = False
        if enabled and self.wire is not None and self.source.is_video:
            self.source.request_keyframe()

    # -- feedback from the subscriber ------------------------------------------------------

    def on_rtcp(self, packet: AnyRtcpPacket) -> None:
        if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
            self.nack_count += len(packet.lost)
            for seq in packet.lost:
                self._retransmit(seq)
        elif isinstance(packet, RtcpPsfbPacket):
            if packet.fmt in (RTCP_PSFB_PLI, RTCP_PSFB_FIR):
                self.pli_count += 1
                self.source.request_keyframe()
            elif packet.fmt == RTCP_PSFB_APP:
                try:
                    bitrate, ssrcs = unpack_remb_fci(packet.fci)
                except ValueError:
                    return
                if self.ssrc in ssrcs:
                    self.remb = bitrate
                    self.source.update_remb()
        elif isinstance(packet, (RtcpRrPacket, RtcpSrPacket)):
            for report in packet.reports:
                if report.ssrc == self.ssrc:
                    self.lost = max(0, report.packets_lost)
                    if report.lsr:
                        self._measure_rtt(report.lsr, report.dlsr)

    def _measure_rtt(self, lsr: int, dlsr: int) -> None:
        """Round trip from a report block (RFC 3550 6.4.1), smoothed as aiortc's sender does."""
        now = (clock.current_ntp_time() >> 16) & 0xFFFFFFFF
        rtt = ((now - lsr - dlsr) & 0xFFFFFFFF) / 65536
        if rtt > 60:
            return  # a report about a sender report we did not send, or a wrapped clock
        self.rtt = rtt if self.rtt is None else _RTT_ALPHA * self.rtt + (1 - _RTT_ALPHA) * rtt

    def _retransmit(self, seq: int) -> None:
        if self.wire is None or not self.active:
            return
        original = (seq - self._seq_offset) & 0xFFFF
        packet = self.source.cached(original)
        if packet is None:
            return
        slot = original & self.source.cache_mask
        now = time.monotonic()
        rtt = _RTT_ASSUMED if self.rtt is None else max(self.rtt, _RTT_FLOOR)
        if now - self._resent_at[slot] < rtt:
            self.retransmit_skipped += 1
            return
        self._resent_at[slot] = now
        ext = self._extension_block(packet)
        if self.rtx_payload_type is not None:
            header = _HEADER.pack(
                0x90 if ext else 0x80,
                (packet.marker << 7) | self.rtx_payload_type,
                self._rtx_seq,
                (packet.timestamp + self._ts_offset) & 0xFFFFFFFF,
                self.rtx_ssrc,
            )
            self._rtx_seq = (self._rtx_seq + 1) & 0xFFFF
            self.wire.send_rtp(header + ext + seq.to_bytes(2, "big") + packet.payload)
        else:
            header = _HEADER.pack(
                0x90 if ext else 0x80,
                (packet.marker << 7) | self.payload_type,
                seq,
                (packet.timestamp + self._ts_offset) & 0xFFFFFFFF,
                self.ssrc,
            )
            self.wire.send_rtp(header + ext + packet.payload)
        self.retransmitted += 1

    def sender_info(self) -> RtcpSenderInfo | None:
        """Sender-report times derived from the publisher's clock, for this subscriber."""
        if not self.packets:
            return None
        rtp_time = self.source.rtp_time_now()
        if rtp_time is None:
            return None
        return RtcpSenderInfo(
            ntp_timestamp=clock.current_ntp_time(),
            rtp_timestamp=(rtp_time + self._ts_offset) & 0xFFFFFFFF,
            packet_count=self.packets & 0xFFFFFFFF,
            octet_count=self.bytes & 0xFFFFFFFF,
        )

    def _update_rates(self) -> tuple[int, float]:
        now = time.monotonic()
        at, packets, size, frames = self._rates
        elapsed = now - at
        if elapsed >= 1.0:
            self._bitrate = int((self.bytes - size) * 8 / elapsed)
            count = self.frames - frames if self.source.is_video else self.packets - packets
            self._fps = round(count / elapsed, 1)
            self._rates = (now, self.packets, self.bytes, self.frames)
        return self._bitrate, self._fps

    def stats(self) -> TrackStats:
        """Counters; rates are over the time since the previous call (at least a second)."""
        bitrate, fps = self._update_rates()
        return TrackStats(
            codec=self.source.info.codec.mime_type,
            packets=self.packets,
            bytes=self.bytes,
            bitrate_bps=bitrate,
            fps=fps,
            width=self.source.width if self.packets else None,
            height=self.source.height if self.packets else None,
            lost=self.lost,
            nack_count=self.nack_count,
            pli_count=self.pli_count,
            retransmitted=self.retransmitted,
        )


def _random(size: int) -> bytes:
    return os.urandom(size)
