"""aiortc RTM clients for the tests: a WebSocket, a peer connection on loopback."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import aiohttp
from aiortc import RTCBundlePolicy, RTCRtpSender, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack
from av import VideoFrame

from tests.core.media import clients as media

WIDTH, HEIGHT, FPS = media.SMALL


class PatternTrack(media.PacedVideoTrack):
    """A moving gradient at 15 fps; clearing ``running`` stops the frames (a stalled camera)."""

    def __init__(self) -> None:
        super().__init__(media.gradient_frames(WIDTH, HEIGHT, FPS), FPS)
        self.running = asyncio.Event()
        self.running.set()

    async def recv(self) -> VideoFrame:
        await self.running.wait()
        return await super().recv()

    def pts(self) -> int:
        assert self._start is not None
        return round((time.monotonic() - self._start) * media.VIDEO_CLOCK)


class RtmClient:
    """One RTM WebSocket and its peer connection."""

    def __init__(self, http: aiohttp.ClientSession, url: str, client_id: str) -> None:
        self.http = http
        self.url = url
        self.client_id = client_id
        self.session_id = ""
        self.pc = media.loopback_pc(RTCBundlePolicy.BALANCED)
        self.frames: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self.ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self.video: PatternTrack | None = None

    async def connect(self, **kwargs: Any) -> None:
        self.ws = await self.http.ws_connect(self.url, **kwargs)
        self._reader = asyncio.get_running_loop().create_task(self._read())

    async def send(self, kind: str, data: dict[str, Any] | None = None) -> None:
        assert self.ws is not None
        frame = {
            "type": kind,
            "client_id": self.client_id,
            "session_id": self.session_id,
            "data": data or {},
        }
        await self.ws.send_str(json.dumps(frame))

    async def _read(self) -> None:
        assert self.ws is not None
        async for message in self.ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                break
            frame = json.loads(message.data)
            self.frames.append(frame)
            if frame["type"] == "sdp_update":
                sdp = frame["data"]["sdp"]
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp["sdp"], sdp["type"]))
            self._arrived.set()
        self._arrived.set()

    async def next(self, kind: str, within: float = 10, **match: Any) -> dict[str, Any]:
        """The first frame of ``kind`` (not yet taken) whose data has the ``match`` items."""
        deadline = time.monotonic() + within
        while True:
            for frame in self.frames:
                if frame["type"] == kind and all(
                    frame["data"].get(k) == v for k, v in match.items()
                ):
                    self.frames.remove(frame)
                    return frame
            if self.ws is not None and self.ws.closed and self._reader and self._reader.done():
                raise AssertionError(f"socket closed before {kind} {match}; got {self.frames}")
            self._arrived.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {kind} {match}; got {self.frames}")
            try:
                await asyncio.wait_for(self._arrived.wait(), left)
            except TimeoutError:
                pass

    async def state(self, state: str, within: float = 10) -> dict[str, Any]:
        frame = await self.next("session_state", within, state=state)
        return dict(frame["data"])

    async def offer(
        self, *, audio: bool = True, video: bool = True, recv: bool = False, prefer: str = ""
    ) -> dict[str, str]:
        if recv:
            self.pc.addTransceiver("video", direction="recvonly")
            self.pc.addTransceiver("audio", direction="recvonly")
        else:
            if video:
                self.video = PatternTrack()
                transceiver = self.pc.addTransceiver(self.video, direction="sendonly")
                if prefer:
                    codecs = RTCRtpSender.getCapabilities("video").codecs
                    transceiver.setCodecPreferences(
                        [c for c in codecs if c.mimeType.lower() == prefer.lower()]
                    )
            if audio:
                self.pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        return {"type": "offer", "sdp": await media.local_offer(self.pc)}

    async def start_session(self, session_id: str, **data: Any) -> None:
        self.session_id = session_id
        await self.send("session_start", {"sdp": await self.offer(), **data})

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            await asyncio.gather(self._reader, return_exceptions=True)
        await self.pc.close()
