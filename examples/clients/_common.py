"""What the example clients share: a synthetic camera, a player that decodes, the command line.

Plain aiortc, no STUN server (the gateway is expected on a reachable address). Each client is
small on purpose: read it next to the dialect's page in docs/dialects/.
"""

from __future__ import annotations

import argparse
import asyncio
import fractions
import time

from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection
from aiortc.mediastreams import MediaStreamError
from av import VideoFrame

WIDTH, HEIGHT, FPS = 320, 240, 15


class PatternTrack(MediaStreamTrack):
    """A moving colour pattern: something to publish without a camera."""

    kind = "video"

    def __init__(self) -> None:
        super().__init__()
        self._start: float | None = None
        self._count = 0

    async def recv(self) -> VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        self._count += 1
        wait = self._start + self._count / FPS - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        frame = VideoFrame(WIDTH, HEIGHT, "yuv420p")
        shade = (self._count * 4) % 256
        for plane, value in zip(frame.planes, (shade, 128, 255 - shade), strict=True):
            plane.update(bytes([value]) * plane.buffer_size)
        frame.pts = self._count * 90000 // FPS
        frame.time_base = fractions.Fraction(1, 90000)
        return frame


def peer_connection() -> RTCPeerConnection:
    """No ICE server: aiortc would otherwise use a public STUN server."""
    return RTCPeerConnection(RTCConfiguration(iceServers=[]))


class Player:
    """Decodes every video track the peer connection receives and counts the frames."""

    def __init__(self, pc: RTCPeerConnection) -> None:
        self.frames = 0
        self.wanted = 1
        self.enough = asyncio.Event()
        self.size: tuple[int, int] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        pc.on("track", self._on_track)

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video":
            task = asyncio.get_running_loop().create_task(self._read(track))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _read(self, track: MediaStreamTrack) -> None:
        try:
            while True:
                frame = await track.recv()
                self.frames += 1
                self.size = (frame.width, frame.height)
                if self.frames >= self.wanted:
                    self.enough.set()
        except MediaStreamError:
            return

    async def wait_frames(self, count: int, within: float) -> bool:
        """Whether ``count`` frames were decoded within ``within`` seconds."""
        self.wanted = count
        if self.frames >= count:
            return True
        try:
            await asyncio.wait_for(self.enough.wait(), within)
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        for task in tuple(self._tasks):
            task.cancel()


def parser(description: str, url_help: str, url_default: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description)
    p.add_argument("action", choices=["publish", "play"])
    p.add_argument("stream", help="stream name")
    p.add_argument("--url", default=url_default, help=f"{url_help} (default: %(default)s)")
    p.add_argument(
        "--seconds", type=float, default=10.0, help="publish: how long (default: %(default)s)"
    )
    p.add_argument(
        "--frames",
        type=int,
        default=30,
        help="play: decode this many frames (default: %(default)s)",
    )
    p.add_argument(
        "--timeout", type=float, default=20.0, help="give up after (default: %(default)s)"
    )
    return p
