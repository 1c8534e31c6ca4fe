"""aiortc WHIP/WHEP clients for the tests: plain aiohttp requests, real peers on loopback."""

from __future__ import annotations

import asyncio
import fractions
import time
from dataclasses import dataclass

import aiohttp
import numpy as np
from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

from core.media import _aiortc

WIDTH, HEIGHT, FPS = 320, 240, 15


class PatternTrack(MediaStreamTrack):
    """A small moving gradient: cheap to encode, never an empty inter frame."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        y, x = np.mgrid[0:HEIGHT, 0:WIDTH]
        self._frames = []
        for i in range(FPS):
            rgb = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
            rgb[..., 0] = (x + 8 * i) % 256
            rgb[..., 1] = (y + 16 * i) % 256
            self._frames.append(VideoFrame.from_ndarray(rgb, format="rgb24"))
        self._start: float | None = None
        self._count = 0

    async def recv(self) -> VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        self._count += 1
        wait = self._start + self._count / FPS - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = self._frames[self._count % FPS]
        frame.pts = self._count * 90000 // FPS
        frame.time_base = fractions.Fraction(1, 90000)
        return frame


def loopback_pc() -> RTCPeerConnection:
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


async def publisher_offer(pc: RTCPeerConnection, *, videos: int = 1) -> str:
    for _ in range(videos):
        pc.addTransceiver(PatternTrack(), direction="sendonly")
    _aiortc.restrict_gathering(pc, ("127.0.0.1",))
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


async def player_offer(pc: RTCPeerConnection) -> str:
    pc.addTransceiver("audio", direction="recvonly")
    pc.addTransceiver("video", direction="recvonly")
    _aiortc.restrict_gathering(pc, ("127.0.0.1",))
    await pc.setLocalDescription(await pc.createOffer())
    return str(pc.localDescription.sdp)


@dataclass
class Created:
    """A 201 answer."""

    status: int
    location: str
    etag: str
    links: list[str]
    answer: str


class Player:
    """Decodes what it receives; records the decoded video frame sizes."""

    def __init__(self) -> None:
        self.pc = loopback_pc()
        self.sizes: list[tuple[int, int]] = []
        self.enough = asyncio.Event()
        self._readers: set[asyncio.Task[None]] = set()
        self.pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video":
            task = asyncio.get_running_loop().create_task(self._read(track))
            self._readers.add(task)
            task.add_done_callback(self._readers.discard)

    async def _read(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                self.sizes.append((frame.width, frame.height))
                if len(self.sizes) >= 5:
                    self.enough.set()
        except MediaStreamError:
            return

    async def close(self) -> None:
        for task in tuple(self._readers):
            task.cancel()
        await self.pc.close()


async def post_offer(
    http: aiohttp.ClientSession, url: str, offer: str, token: str | None = None
) -> Created:
    headers = {"Content-Type": "application/sdp"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with http.post(url, data=offer, headers=headers) as response:
        body = await response.text()
        assert response.status == 201, (response.status, body)
        assert response.content_type == "application/sdp"
        return Created(
            status=response.status,
            location=response.headers["Location"],
            etag=response.headers["ETag"],
            links=response.headers.getall("Link", []),
            answer=body,
        )


async def accept(pc: RTCPeerConnection, answer: str) -> None:
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
