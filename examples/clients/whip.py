"""Publish a synthetic stream over WHIP, or play one over WHEP and count decoded frames.

    python examples/clients/whip.py publish cam --url http://127.0.0.1:8080 --seconds 30
    python examples/clients/whip.py play cam --url http://127.0.0.1:8080 --frames 60

Exit status 0 when it worked (published for --seconds, or decoded --frames frames).
"""

from __future__ import annotations

import asyncio
import sys
from urllib.parse import urljoin

import aiohttp
from _common import PatternTrack, Player, parser, peer_connection
from aiortc import RTCSessionDescription


async def exchange(
    http: aiohttp.ClientSession, url: str, sdp: str, token: str | None
) -> tuple[str, str]:
    """POST the offer; the answer and the session URL (for DELETE)."""
    headers = {"Content-Type": "application/sdp"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with http.post(url, data=sdp, headers=headers) as response:
        body = await response.text()
        if response.status != 201:
            raise SystemExit(f"{url}: {response.status} {body}")
        return body, urljoin(url, response.headers["Location"])


async def main() -> int:
    p = parser(__doc__.splitlines()[0], "the gateway's base URL", "http://127.0.0.1:8080")
    p.add_argument("--token", help="bearer token, if the gateway wants one")
    args = p.parse_args()
    pc = peer_connection()
    player = None
    if args.action == "publish":
        pc.addTransceiver(PatternTrack(), direction="sendonly")
        endpoint = f"{args.url}/whip/{args.stream}"
    else:
        player = Player(pc)
        pc.addTransceiver("video", direction="recvonly")
        pc.addTransceiver("audio", direction="recvonly")
        endpoint = f"{args.url}/whep/{args.stream}"
    async with aiohttp.ClientSession() as http:
        await pc.setLocalDescription(await pc.createOffer())  # aiortc gathers before this returns
        answer, resource = await exchange(http, endpoint, pc.localDescription.sdp, args.token)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        ok = True
        try:
            if player is None:
                print(f"publishing {args.stream} for {args.seconds} s", flush=True)
                await asyncio.sleep(args.seconds)
                ok = pc.connectionState == "connected"
            else:
                ok = await player.wait_frames(args.frames, args.timeout)
                print(f"decoded {player.frames} frames of {player.size}", flush=True)
        finally:
            if player is not None:
                player.close()
            async with http.delete(resource):
                pass
            await pc.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
