"""Publish or play a stream with the Flashphoner Web Call Server Raw WebSocket API.

    python examples/clients/flashphoner.py publish cam --url ws://127.0.0.1:8080/
    python examples/clients/flashphoner.py play cam --url ws://127.0.0.1:8080/

The same messages as the WebSDK: connection → getUserData; publishStream / playStream with the
client's offer → setRemoteSDP (the answer, with every server candidate) →
notifyStreamStatusEvent PUBLISHING / PLAYING. Exit status 0 when it worked.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from typing import Any

import aiohttp
from _common import PatternTrack, Player, parser, peer_connection
from aiortc import RTCSessionDescription


async def main() -> int:
    p = parser(__doc__.splitlines()[0], "WebSocket URL", "ws://127.0.0.1:8080/")
    p.add_argument("--app-key", default="defaultApp")
    args = p.parse_args()
    pc = peer_connection()
    player = Player(pc) if args.action == "play" else None
    media_session_id = str(uuid.uuid4())
    running = asyncio.Event()
    failed: list[str] = []
    async with aiohttp.ClientSession() as http, http.ws_connect(args.url, heartbeat=20) as ws:

        async def send(message: str, *data: Any) -> None:
            await ws.send_str(json.dumps({"message": message, "data": list(data)}))

        async def read() -> None:
            async for msg in ws:
                frame = json.loads(msg.data)
                message, data = frame.get("message"), frame.get("data") or [{}]
                if message == "ping":
                    await send("pong")
                elif message == "setRemoteSDP":
                    await pc.setRemoteDescription(RTCSessionDescription(data[1], "answer"))
                elif message == "notifyStreamStatusEvent":
                    status = data[0].get("status")
                    print("status:", status, data[0].get("info", ""), flush=True)
                    if status in ("PUBLISHING", "PLAYING"):
                        running.set()
                    elif status == "FAILED":
                        failed.append(data[0].get("info", ""))
                        running.set()

        reader = asyncio.create_task(read())
        await send(
            "connection",
            {"appKey": args.app_key, "mediaProviders": ["WebRTC"], "clientVersion": "2.0"},
        )
        if player is None:
            pc.addTransceiver(PatternTrack(), direction="sendonly")
        else:
            pc.addTransceiver("audio", direction="recvonly")
            pc.addTransceiver("video", direction="recvonly")
        await pc.setLocalDescription(await pc.createOffer())
        stream = {
            "mediaSessionId": media_session_id,
            "name": args.stream,
            "published": player is None,
            "hasVideo": True,
            "hasAudio": player is not None,
            "status": "PENDING",
            "record": False,
            "mediaProvider": "WebRTC",
            "sdp": pc.localDescription.sdp,
        }
        await send("publishStream" if player is None else "playStream", stream)
        try:
            await asyncio.wait_for(running.wait(), args.timeout)
            if failed:
                ok = False
            elif player is None:
                await asyncio.sleep(args.seconds)
                ok = pc.connectionState == "connected"
            else:
                ok = await player.wait_frames(args.frames, args.timeout)
                print(f"decoded {player.frames} frames of {player.size}", flush=True)
            stop = "unPublishStream" if player is None else "stopStream"
            await send(stop, {"mediaSessionId": media_session_id, "name": args.stream})
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
