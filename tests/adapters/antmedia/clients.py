"""Python clients that speak the Ant Media wire format, with real aiortc peers on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import aiohttp
from aiortc import RTCBundlePolicy, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import AudioStreamTrack
from aiortc.sdp import candidate_from_sdp
from av import VideoFrame

from adapters.antmedia import codec
from tests.core.media import clients as media

M = TypeVar("M", bound=codec.Message)


class Client:
    """One WebSocket connection; every server frame is decoded into ``received``."""

    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.http = http
        self.ws = ws
        self.received: list[codec.Message] = []
        self._taken: set[int] = set()
        self._new = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())
        self.pcs: dict[str, RTCPeerConnection] = {}

    @classmethod
    async def connect(cls, url: str) -> Client:
        http = aiohttp.ClientSession()
        ws = await http.ws_connect(url)
        return cls(http, ws)

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type is aiohttp.WSMsgType.TEXT:
                async with self._new:
                    self.received.append(codec.decode_server(msg.data))
                    self._new.notify_all()
        async with self._new:
            self._new.notify_all()

    async def send(self, message: codec.Message) -> None:
        await self.ws.send_str(codec.encode(message))

    async def send_raw(self, text: str) -> None:
        await self.ws.send_str(text)

    async def expect(
        self, kind: type[M], where: Callable[[M], bool] = lambda m: True, within: float = 10
    ) -> M:
        """The first message of ``kind`` (matching ``where``) not returned before."""

        def find() -> M | None:
            for message in self.received:
                if isinstance(message, kind) and where(message) and id(message) not in self._taken:
                    self._taken.add(id(message))
                    return message
            return None

        async def wait() -> M:
            async with self._new:
                while True:
                    found = find()
                    if found is not None:
                        return found
                    if self.ws.closed:
                        raise ConnectionError("closed")
                    await self._new.wait()

        return await asyncio.wait_for(wait(), within)

    async def error(self, definition: str, within: float = 10) -> codec.Error:
        return await self.expect(codec.Error, lambda e: e.definition == definition, within)

    # -- flows -----------------------------------------------------------------------------

    async def publish(self, stream_id: str, *, video: bool = True, audio: bool = True) -> None:
        """``publish`` → ``start`` → offer → answer, then wait for ``publish_started``."""
        await self.send(codec.Publish(stream_id, video=video, audio=audio))
        await self.expect(codec.Start, lambda m: m.stream_id == stream_id)
        pc = self.pcs[stream_id] = media.loopback_pc(RTCBundlePolicy.BALANCED)
        if audio:
            pc.addTransceiver(AudioStreamTrack(), direction="sendonly")
        if video:
            pc.addTransceiver(media.small_pattern(), direction="sendonly")
        await self.send(codec.TakeConfiguration(stream_id, "offer", await media.local_offer(pc)))
        answer = await self.expect(codec.TakeConfiguration, lambda m: m.stream_id == stream_id)
        assert answer.type == "answer"
        await pc.setRemoteDescription(RTCSessionDescription(answer.sdp, "answer"))
        await self.expect(codec.PublishStarted, lambda m: m.stream_id == stream_id, within=15)

    async def answer_offer(self, offer: codec.TakeConfiguration) -> RTCPeerConnection:
        pc = self.pcs.get(offer.stream_id)
        if pc is None:
            pc = self.pcs[offer.stream_id] = media.loopback_pc(RTCBundlePolicy.BALANCED)
        answer = await media.local_answer(pc, offer.sdp)
        await self.send(codec.TakeConfiguration(offer.stream_id, "answer", answer))
        return pc

    async def play(self, stream_id: str, **fields: Any) -> codec.TakeConfiguration:
        """``play`` → server offer → answer; returns the offer (with its ``idMapping``)."""
        await self.send(codec.Play(stream_id, **fields))
        offer = await self.expect(codec.TakeConfiguration, lambda m: m.stream_id == stream_id)
        assert offer.type == "offer"
        await self.answer_offer(offer)
        return offer

    async def add_candidates(self, stream_id: str) -> int:
        """Apply the trickled server candidates received so far."""
        pc = self.pcs[stream_id]
        count = 0
        for m in self.received:
            if isinstance(m, codec.TakeCandidate) and m.stream_id == stream_id:
                c = candidate_from_sdp(m.candidate.split(":", 1)[1])
                c.sdpMLineIndex = m.label
                await pc.addIceCandidate(c)
                count += 1
        return count

    async def close(self) -> None:
        for pc in self.pcs.values():
            await pc.close()
        await self.ws.close()
        self._reader.cancel()
        await self.http.close()


async def first_video_frame(pc: RTCPeerConnection, within: float = 10) -> VideoFrame:
    """Decode the first video frame the peer receives."""
    for receiver in pc.getReceivers():
        if receiver.track.kind == "video":
            return await asyncio.wait_for(receiver.track.recv(), within)
    raise AssertionError("no video track received")
