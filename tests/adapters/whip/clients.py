"""aiortc WHIP/WHEP clients for the tests: plain aiohttp requests, real peers on loopback."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiortc import RTCBundlePolicy, RTCPeerConnection, RTCSessionDescription

from tests.core.media import clients as media


def loopback_pc() -> RTCPeerConnection:
    return media.loopback_pc(RTCBundlePolicy.BALANCED)


async def publisher_offer(pc: RTCPeerConnection, *, videos: int = 1) -> str:
    for _ in range(videos):
        pc.addTransceiver(media.small_pattern(), direction="sendonly")
    return await media.local_offer(pc)


async def player_offer(pc: RTCPeerConnection) -> str:
    pc.addTransceiver("audio", direction="recvonly")
    pc.addTransceiver("video", direction="recvonly")
    return await media.local_offer(pc)


@dataclass
class Created:
    """A 201 answer."""

    status: int
    location: str
    etag: str
    links: list[str]
    answer: str


class Player(media.Receiver):
    """Decodes what it receives; records the decoded video frame sizes."""

    def __init__(self) -> None:
        super().__init__(loopback_pc(), kinds=("video",))
        self.sizes: list[tuple[int, int]] = []
        self.enough = asyncio.Event()

    def on_frame(self, frame: Any, mid: str) -> None:
        self.sizes.append((frame.width, frame.height))
        if len(self.sizes) >= 5:
            self.enough.set()


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
