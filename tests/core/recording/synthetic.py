"""A synthetic publisher: real aiortc encoders, real RTP packets, no network.

It stands in for ``core.media.Publisher`` as a :class:`~core.recording.RecordingSource`, and
plays media into whatever sinks are attached: video and audio frames encoded by aiortc's own
encoders, packetized as aiortc sends them, with sender reports, optional packet loss and
pauses. Keyframe requests are honoured on the next video frame, as a browser does on a PLI.
"""

from __future__ import annotations

import asyncio
import fractions
import math
import random

import numpy as np
from aiortc.codecs import get_encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtp import RtpPacket
from av import AudioFrame, VideoFrame

from core.media.types import CodecInfo, PacketSink, TrackInfo

VIDEO_RATE = 90000
AUDIO_RATE = 48000
NTP_EPOCH_OFFSET = 2208988800

VP8 = CodecInfo("video/VP8", 90000)
H264 = CodecInfo(
    "video/H264", 90000, parameters={"packetization-mode": "1", "profile-level-id": "42e01f"}
)
OPUS = CodecInfo("audio/opus", 48000, 2)


def to_ntp(seconds: float) -> int:
    whole = int(seconds)
    return (whole + NTP_EPOCH_OFFSET) << 32 | int((seconds - whole) * (1 << 32))


class _Track:
    def __init__(self, info: TrackInfo, payload_type: int, rng: random.Random) -> None:
        self.info = info
        self.payload_type = payload_type
        self.ssrc = rng.getrandbits(32)
        self.seq = rng.getrandbits(16)
        self.ts_base = rng.getrandbits(32)
        self.sent = 0
        self.dropped = 0


class SyntheticPublisher:
    """Publishes ``video`` (VP8 or H.264) and Opus audio into attached packet sinks."""

    def __init__(
        self,
        video: CodecInfo | None = VP8,
        audio: bool = True,
        *,
        width: int = 320,
        height: int = 240,
        fps: int = 15,
        loss: float = 0.0,
        seed: int = 7,
        clock_start: float = 1_700_000_000.0,
    ) -> None:
        self.rng = random.Random(seed)
        self.width, self.height, self.fps = width, height, fps
        self.loss = loss
        self.clock_start = clock_start  # the sender's wall clock at media time 0
        self.sinks: list[PacketSink] = []
        self.keyframe_requests = 0
        self._force_keyframe = True
        self.video: _Track | None = None
        self.audio: _Track | None = None
        if video is not None:
            self.video = _Track(TrackInfo("video", "0", video), 96, self.rng)
            self._video_encoder = get_encoder(
                RTCRtpCodecParameters(
                    mimeType=video.mime_type,
                    clockRate=90000,
                    payloadType=96,
                    parameters=dict(video.parameters),
                )
            )
        if audio:
            self.audio = _Track(TrackInfo("audio", "1", OPUS), 111, self.rng)
            self._audio_encoder = get_encoder(
                RTCRtpCodecParameters(
                    mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111
                )
            )
        self._video_frames = 0
        self._audio_frames = 0

    # -- RecordingSource ---------------------------------------------------------------------

    @property
    def tracks(self) -> list[TrackInfo]:
        return [t.info for t in (self.video, self.audio) if t is not None]

    def add_packet_sink(self, sink: PacketSink) -> None:
        self.sinks.append(sink)

    def remove_packet_sink(self, sink: PacketSink) -> None:
        self.sinks.remove(sink)

    def request_keyframe(self) -> None:
        self.keyframe_requests += 1
        self._force_keyframe = True

    # -- media -------------------------------------------------------------------------------

    def _send(self, track: _Track, payloads: list[bytes], timestamp: int, marker: bool) -> None:
        for index, payload in enumerate(payloads):
            packet = RtpPacket(
                payload_type=track.payload_type,
                marker=marker and index == len(payloads) - 1,
                sequence_number=track.seq,
                timestamp=(track.ts_base + timestamp) & 0xFFFFFFFF,
                ssrc=track.ssrc,
                payload=payload,
            )
            track.seq = (track.seq + 1) & 0xFFFF
            track.sent += 1
            if self.loss and self.rng.random() < self.loss:
                track.dropped += 1
                continue
            for sink in tuple(self.sinks):
                sink.on_rtp(track.info, packet)

    def sender_reports(self, media_time: float) -> None:
        """Send one SR per track, mapping ``media_time`` to the sender's wall clock."""
        for track, rate in ((self.video, VIDEO_RATE), (self.audio, AUDIO_RATE)):
            if track is None:
                continue
            rtp = (track.ts_base + round(media_time * rate)) & 0xFFFFFFFF
            for sink in tuple(self.sinks):
                sink.on_rtcp_sr(track.info, to_ntp(self.clock_start + media_time), rtp)

    def video_frame(self, media_time: float) -> None:
        assert self.video is not None
        image = np.zeros((self.height, self.width, 3), np.uint8)
        shift = self._video_frames * 4
        image[:, :, 0] = (np.arange(self.width)[None, :] + shift) % 256
        image[:, :, 1] = (np.arange(self.height)[:, None] * 2) % 256
        image[self._video_frames % self.height, :, 2] = 255
        frame = VideoFrame.from_ndarray(image, format="rgb24")
        frame.pts = round(media_time * VIDEO_RATE)
        frame.time_base = fractions.Fraction(1, VIDEO_RATE)
        force, self._force_keyframe = self._force_keyframe, False
        payloads, timestamp = self._video_encoder.encode(frame, force)
        self._video_frames += 1
        if payloads:
            self._send(self.video, payloads, timestamp, marker=True)

    def audio_frame(self, media_time: float) -> None:
        assert self.audio is not None
        samples = 960
        t = (np.arange(samples) + self._audio_frames * samples) / AUDIO_RATE
        tone = (np.sin(2 * math.pi * 440 * t) * 8000).astype(np.int16)
        frame = AudioFrame.from_ndarray(np.repeat(tone, 2)[None, :], format="s16", layout="stereo")
        frame.sample_rate = AUDIO_RATE
        frame.pts = round(media_time * AUDIO_RATE)
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        payloads, _ = self._audio_encoder.encode(frame)
        self._audio_frames += 1
        if payloads:
            # aiortc's encoder counts from its first packet: place it at the media time.
            self._send(self.audio, payloads, round(media_time * AUDIO_RATE), marker=False)

    async def play(
        self,
        seconds: float,
        *,
        start: float = 0.0,
        audio_delay: float = 0.0,
        sr_at: float | None = 0.5,
        pauses: tuple[tuple[float, float], ...] = (),
        yield_every: int = 1,
    ) -> float:
        """Play media time ``start`` .. ``start + seconds``, faster than real time.

        Audio starts ``audio_delay`` after video; no media flows in a ``(from, to)`` pause
        (the timestamps keep running, as with a sender whose capture stalls). Returns the
        media time of the end.
        """
        step = 0.02
        ticks = round(seconds / step)
        frame_every = round(1 / (self.fps * step)) if self.fps else 0
        sent_sr = sr_at is None
        for tick in range(ticks):
            now = start + tick * step
            if any(a <= now < b for a, b in pauses):
                continue
            if not sent_sr and sr_at is not None and now >= sr_at:
                self.sender_reports(now)
                sent_sr = True
            if self.video is not None and frame_every and tick % frame_every == 0:
                self.video_frame(now)
                if tick % (frame_every * yield_every) == 0:
                    # let keyframe requests from the recorder's thread arrive
                    await asyncio.sleep(0.002)
            if self.audio is not None and now >= start + audio_delay:
                self.audio_frame(now)
        return start + ticks * step
