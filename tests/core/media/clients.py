"""Client peers for media tests and the benchmark: real aiortc peers on 127.0.0.1 only."""

from __future__ import annotations

import asyncio
import fractions
import logging
import math
import random
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from aiortc import (
    MediaStreamTrack,
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

from core.media import _aiortc

LOOPBACK = ("127.0.0.1",)
VIDEO_CLOCK = 90000
AUDIO_RATE = 48000


SMALL = (320, 240, 15)  # width, height and fps of the dialect tests' cheap pattern


def loopback_pc(bundle_policy: RTCBundlePolicy = RTCBundlePolicy.MAX_BUNDLE) -> RTCPeerConnection:
    """A peer with no ICE servers. Max-bundle by default, so that the client receives every
    track of a BUNDLE group as a browser does: with aiortc's balanced policy a client answering
    an offer with two tracks of a kind leaves the second on a transport it discards (the
    gateway repairs this on its side, see core.media._aiortc.bundle_on_primary). The dialect
    clients keep aiortc's balanced default."""
    return _aiortc.peer_connection(RTCConfiguration(iceServers=[], bundlePolicy=bundle_policy))


async def local_offer(pc: RTCPeerConnection) -> str:
    """Gather on 127.0.0.1 only and set the offer for the transceivers added so far."""
    _aiortc.restrict_gathering(pc, LOOPBACK)
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


async def local_answer(pc: RTCPeerConnection, offer: str) -> str:
    """Take ``offer``, gather on 127.0.0.1 only and set the answer."""
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    _aiortc.restrict_gathering(pc, LOOPBACK)
    await pc.setLocalDescription(await pc.createAnswer())
    return str(pc.localDescription.sdp)


def gradient_frames(
    width: int, height: int, count: int, *, blue: bool = False, format: str = "rgb24"
) -> list[VideoFrame]:
    """``count`` pictures of a moving gradient (so inter frames are not empty): red and green
    ramps, and a blue one if asked, stored in ``format``."""
    y, x = np.mgrid[0:height, 0:width]
    frames = []
    for i in range(count):
        shift = i * 8
        rgb = np.zeros((height, width, 3), dtype=np.uint8)
        rgb[..., 0] = (x + shift) % 256
        rgb[..., 1] = (y + 2 * shift) % 256
        if blue:
            rgb[..., 2] = ((x + y) // 2 + 3 * shift) % 256
        frame = VideoFrame.from_ndarray(rgb, format="rgb24")
        frames.append(frame if format == "rgb24" else frame.reformat(format=format))
    return frames


class PacedVideoTrack(MediaStreamTrack):
    """Plays ``frames`` in a loop at ``fps``, paced by the clock."""

    kind = "video"

    def __init__(self, frames: Sequence[VideoFrame], fps: int) -> None:
        super().__init__()
        self._frames = list(frames)
        self._fps = fps
        self._start: float | None = None
        self._count = 0

    async def recv(self) -> VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        self._count += 1
        wait = self._start + self._count / self._fps - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = self._frames[self._count % len(self._frames)]
        frame.pts = self.pts()
        frame.time_base = fractions.Fraction(1, VIDEO_CLOCK)
        return frame

    def pts(self) -> int:
        return self._count * VIDEO_CLOCK // self._fps


class PatternVideoTrack(PacedVideoTrack):
    """640x480 at 30 fps, a moving gradient, already in the encoder's pixel format."""

    def __init__(self, width: int = 640, height: int = 480, fps: int = 30) -> None:
        super().__init__(gradient_frames(width, height, fps, blue=True, format="yuv420p"), fps)


def small_pattern() -> PacedVideoTrack:
    """A small moving gradient: cheap to encode, never an empty inter frame."""
    width, height, fps = SMALL
    return PacedVideoTrack(gradient_frames(width, height, fps), fps)


class SineAudioTrack(MediaStreamTrack):
    """A 440 Hz sine, 20 ms frames at 48 kHz."""

    kind = "audio"

    def __init__(self) -> None:
        super().__init__()
        samples = AUDIO_RATE // 50
        t = np.arange(AUDIO_RATE) / AUDIO_RATE
        self._wave = (np.sin(2 * math.pi * 440 * t) * 8000).astype(np.int16)
        self._samples = samples
        self._start: float | None = None
        self._count = 0

    async def recv(self) -> AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        self._count += 1
        wait = self._start + self._count * 0.02 - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        offset = (self._count * self._samples) % (AUDIO_RATE - self._samples)
        data = self._wave[offset : offset + self._samples].reshape(1, -1)
        frame = AudioFrame.from_ndarray(data, format="s16", layout="mono")
        frame.sample_rate = AUDIO_RATE
        frame.pts = self._count * self._samples
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        return frame


def prefer(transceiver: object, mime_type: str) -> None:
    kind = mime_type.split("/")[0]
    codecs = [
        c
        for c in RTCRtpSender.getCapabilities(kind).codecs
        if c.mimeType.lower() in (mime_type.lower(), f"{kind}/rtx")
    ]
    transceiver.setCodecPreferences(codecs)  # type: ignore[attr-defined]


class ClientPublisher:
    """A client sending a synthetic video and/or audio track."""

    def __init__(
        self,
        *,
        video: bool = True,
        audio: bool = True,
        video_codec: str = "video/VP8",
        video_track: MediaStreamTrack | None = None,
    ) -> None:
        self.pc = loopback_pc()
        self._video = video
        self._audio = audio
        self._codec = video_codec
        self._video_track = video_track

    async def offer(self) -> str:
        if self._audio:
            self.pc.addTransceiver(SineAudioTrack(), direction="sendonly")
        if self._video:
            transceiver = self.pc.addTransceiver(
                self._video_track or PatternVideoTrack(), direction="sendonly"
            )
            prefer(transceiver, self._codec)
        return await local_offer(self.pc)

    async def accept_answer(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))

    async def close(self) -> None:
        await self.pc.close()


class DecodeErrors(logging.Handler):
    """Counts aiortc's 'failed to decode' warnings."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if "failed to decode" in record.getMessage():
            self.count += 1

    def __enter__(self) -> DecodeErrors:
        logging.getLogger("aiortc.rtcrtpreceiver").addHandler(self)
        return self

    def __exit__(self, *exc: object) -> None:
        logging.getLogger("aiortc.rtcrtpreceiver").removeHandler(self)


class Receiver:
    """A client peer that reads every track of ``kinds`` it receives, on tasks it owns and
    cancels; a subclass counts or inspects the frames in :meth:`on_frame`."""

    def __init__(self, pc: RTCPeerConnection, kinds: Sequence[str] = ("audio", "video")) -> None:
        self.pc = pc
        self.ended = asyncio.Event()
        self._kinds = tuple(kinds)
        self._readers: set[asyncio.Task[None]] = set()
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind not in self._kinds:
            return
        mid = next((t.mid for t in self.pc.getTransceivers() if t.receiver.track is track), None)
        task = asyncio.get_running_loop().create_task(self._read(track, mid or "?"))
        self._readers.add(task)
        task.add_done_callback(self._readers.discard)

    async def _read(self, track: MediaStreamTrack, mid: str) -> None:
        try:
            while True:
                self.on_frame(await track.recv(), mid)
        except MediaStreamError:
            self.ended.set()

    def on_frame(self, frame: Any, mid: str) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        for task in list(self._readers):
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)
        await self.pc.close()


class ClientSubscriber(Receiver):
    """A client receiving and decoding; records decoded frame sizes and audio frames."""

    def __init__(self, *, loss: float = 0.0, seed: int = 1, lean: bool = False) -> None:
        """``loss``: the share of incoming RTP packets dropped. ``lean``: the benchmark's
        clients, which must leave the forwarding process most of the machine: packets reach
        the receivers as they arrive (core.media._aiortc.receive_directly) and frames are
        decoded on the event loop (decode_on_loop), not in aiortc's receive loop and threads.
        """
        if loss and lean:
            raise ValueError("loss is simulated on aiortc's receive loop, which lean skips")
        super().__init__(loopback_pc())
        self._lean = lean
        self.video_sizes: list[tuple[int, int]] = []
        self.video_times: list[float] = []
        self.audio_frames = 0
        self.frames_by_mid: dict[str, int] = {}
        self.first_video = asyncio.Event()
        self.first_audio = asyncio.Event()
        self.created = time.monotonic()
        self.dropped = 0
        self._loss = loss
        self._random = random.Random(seed)
        self._targets: dict[str, int] = {}
        self._reached: dict[str, asyncio.Event] = {}

    def on_frame(self, frame: Any, mid: str) -> None:
        self.frames_by_mid[mid] = self.frames_by_mid.get(mid, 0) + 1
        if isinstance(frame, VideoFrame):
            self.video_sizes.append((frame.width, frame.height))
            self.video_times.append(time.monotonic())
            self.first_video.set()
        else:
            self.audio_frames += 1
            self.first_audio.set()
        self._check_targets()

    def _check_targets(self) -> None:
        for kind, target in list(self._targets.items()):
            count = len(self.video_sizes) if kind == "video" else self.audio_frames
            if count >= target:
                self._reached.pop(kind).set()
                del self._targets[kind]

    async def wait_frames(self, kind: str, count: int, within: float = 15.0) -> None:
        """Wait until ``count`` more frames of ``kind`` than now were decoded."""
        current = len(self.video_sizes) if kind == "video" else self.audio_frames
        event = asyncio.Event()
        self._targets[kind] = current + count
        self._reached[kind] = event
        await asyncio.wait_for(event.wait(), within)

    def _drop(self, data: bytes) -> bool:
        if self._random.random() < self._loss:
            self.dropped += 1
            return True
        return False

    def _prepare(self) -> None:
        _aiortc.restrict_gathering(self.pc, LOOPBACK)
        if self._loss:
            _aiortc.drop_incoming_rtp(self.pc, self._drop)

    async def answer(self, offer: str) -> str:
        """Server-offer style: answer the gateway's sendonly offer."""
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        self._prepare()
        if self._lean:
            _aiortc.decode_on_loop(self.pc)
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        if self._lean:
            _aiortc.receive_directly(self.pc)
        return self.pc.localDescription.sdp

    async def offer(
        self, kinds: Sequence[str] = ("audio", "video"), video_codec: str | None = None
    ) -> str:
        """Client-offer style (WHEP): a recvonly offer."""
        for kind in kinds:
            transceiver = self.pc.addTransceiver(kind, direction="recvonly")
            if kind == "video" and video_codec:
                prefer(transceiver, video_codec)
        self._prepare()
        if self._lean:
            _aiortc.decode_on_loop(self.pc)
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self.pc.localDescription.sdp

    async def accept_answer(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        if self._lean:
            _aiortc.receive_directly(self.pc)
