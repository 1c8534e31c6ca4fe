"""Record a synthetic stream through the RTM dialect: start a session, record, stop.

    python examples/clients/rtm.py agent-1 --url ws://127.0.0.1:8080/api/v2/io --seconds 10

session_start (offer) → sdp_update (answer) → session_state ACTIVE → recording_start →
recording_state STARTED → ... → recording_stop → session_stop → session_state TERMINATED.
Without upload_url the gateway keeps the file in the dialect's local delivery directory.
Exit status 0 when the recording started and the session ended cleanly.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
from typing import Any

import aiohttp
from _common import PatternTrack, peer_connection
from aiortc import RTCSessionDescription


async def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("client_id", help="the agent's client id (also the stream name)")
    p.add_argument("--url", default="ws://127.0.0.1:8080/api/v2/io", help="(default: %(default)s)")
    p.add_argument("--seconds", type=float, default=10.0, help="record this long")
    p.add_argument("--upload-url", help="PUT the recording here instead of keeping it")
    p.add_argument("--timeout", type=float, default=20.0)
    args = p.parse_args()
    session_id = secrets.token_hex(8)
    pc = peer_connection()
    pc.addTransceiver(PatternTrack(), direction="sendonly")
    states: dict[str, asyncio.Event] = {
        s: asyncio.Event() for s in ("ACTIVE", "STARTED", "TERMINATED")
    }
    async with aiohttp.ClientSession() as http, http.ws_connect(args.url, heartbeat=20) as ws:

        async def send(kind: str, data: dict[str, Any]) -> None:
            frame = {"type": kind, "client_id": args.client_id, "session_id": session_id}
            await ws.send_str(json.dumps(frame | {"data": data}))

        async def read() -> None:
            async for msg in ws:
                frame = json.loads(msg.data)
                kind, data = frame.get("type"), frame.get("data") or {}
                if kind == "sdp_update":
                    sdp = data["sdp"]
                    await pc.setRemoteDescription(RTCSessionDescription(sdp["sdp"], sdp["type"]))
                elif kind in ("session_state", "recording_state"):
                    print(kind, data.get("state"), data.get("termination_cause", ""), flush=True)
                    if data.get("state") in states:
                        states[data["state"]].set()

        reader = asyncio.create_task(read())
        await pc.setLocalDescription(await pc.createOffer())
        offer = {"type": "offer", "sdp": pc.localDescription.sdp}
        ok = False
        try:
            await send("session_start", {"sdp": offer})
            await asyncio.wait_for(states["ACTIVE"].wait(), args.timeout)
            upload = {"upload_url": args.upload_url} if args.upload_url else {}
            await send("recording_start", upload)
            await asyncio.wait_for(states["STARTED"].wait(), args.timeout)
            await asyncio.sleep(args.seconds)
            await send("recording_stop", {})
            await send("session_stop", {})
            await asyncio.wait_for(states["TERMINATED"].wait(), args.timeout)
            ok = True
        except TimeoutError:
            print("timed out", flush=True)
        finally:
            reader.cancel()
            await pc.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
