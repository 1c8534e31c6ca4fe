"""Publish or play a stream with Ant Media Server's WebSocket messaging.

    python examples/clients/antmedia.py publish cam --url ws://127.0.0.1:5080/WebRTCAppEE/websocket
    python examples/clients/antmedia.py play cam --url ws://127.0.0.1:5080/WebRTCAppEE/websocket

The same commands as the webrtc_adaptor SDK: publish → start → takeConfiguration (offer) →
takeConfiguration (answer); play → takeConfiguration (server offer) → answer. Candidates the
server trickles (takeCandidate) are applied. Exit status 0 when it worked.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

import aiohttp
from _common import PatternTrack, Player, parser, peer_connection
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.sdp import candidate_from_sdp


async def add_candidate(pc: RTCPeerConnection, frame: dict[str, Any]) -> None:
    text = frame.get("candidate", "")
    if not text:
        return
    candidate = candidate_from_sdp(text.split(":", 1)[1])
    candidate.sdpMid = frame.get("id")
    candidate.sdpMLineIndex = frame.get("label")
    await pc.addIceCandidate(candidate)


async def main() -> int:
    p = parser(
        __doc__.splitlines()[0], "WebSocket URL", "ws://127.0.0.1:5080/WebRTCAppEE/websocket"
    )
    args = p.parse_args()
    pc = peer_connection()
    player = Player(pc) if args.action == "play" else None
    started = asyncio.Event()
    async with aiohttp.ClientSession() as http, http.ws_connect(args.url, heartbeat=20) as ws:

        async def send(command: str, **fields: Any) -> None:
            await ws.send_str(json.dumps({"command": command, "streamId": args.stream, **fields}))

        async def read() -> None:
            async for msg in ws:
                frame = json.loads(msg.data)
                command = frame.get("command")
                if command == "start":  # publish: the server is ready for the offer
                    pc.addTransceiver(PatternTrack(), direction="sendonly")
                    await pc.setLocalDescription(await pc.createOffer())
                    await send("takeConfiguration", type="offer", sdp=pc.localDescription.sdp)
                elif command == "takeConfiguration" and frame["type"] == "answer":
                    await pc.setRemoteDescription(RTCSessionDescription(frame["sdp"], "answer"))
                elif command == "takeConfiguration" and frame["type"] == "offer":  # play
                    await pc.setRemoteDescription(RTCSessionDescription(frame["sdp"], "offer"))
                    await pc.setLocalDescription(await pc.createAnswer())
                    await send("takeConfiguration", type="answer", sdp=pc.localDescription.sdp)
                elif command == "takeCandidate":
                    await add_candidate(pc, frame)
                elif command == "notification":
                    print("notification:", frame.get("definition"), flush=True)
                    if frame.get("definition") in ("publish_started", "play_started"):
                        started.set()
                elif command == "error":
                    print("error:", frame.get("definition"), flush=True)
                    return

        reader = asyncio.create_task(read())
        if player is None:
            await send("publish", video=True, audio=False)
        else:
            await send("play")
        try:
            await asyncio.wait_for(started.wait(), args.timeout)
            if player is None:
                await asyncio.sleep(args.seconds)
                ok = pc.connectionState == "connected"
            else:
                ok = await player.wait_frames(args.frames, args.timeout)
                print(f"decoded {player.frames} frames of {player.size}", flush=True)
            await send("stop")
        except TimeoutError:
            ok = False
        finally:
            reader.cancel()
            if player is not None:
                player.close()
            await pc.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
