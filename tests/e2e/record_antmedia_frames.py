"""Record the frames the real ``@antmedia/webrtc_adaptor`` sends, for the codec tests.

Run once (``python -m tests.e2e.record_antmedia_frames``) after ``tests/setup-deps.sh``: it
starts a small recording WebSocket server on 127.0.0.1 that answers just enough for the SDK to
send every command a page can make it send (``start`` for a publish, an aiortc offer for a
play), drives the SDK in headless Chromium, and writes what the SDK sent, one file per command,
to ``tests/adapters/antmedia/frames/``. Server frames are written as a server sends them.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from aiohttp import WSMsgType, web
from aiortc import RTCPeerConnection, RTCSessionDescription

from tests.e2e.harness import chromium, free_port, page_server

OUT = Path(__file__).resolve().parents[1] / "adapters" / "antmedia" / "frames"


class Recorder:
    def __init__(self) -> None:
        self.client: list[dict[str, Any]] = []
        self.server: list[dict[str, Any]] = []
        self.pcs: dict[str, RTCPeerConnection] = {}

    async def handler(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)

        async def send(obj: dict[str, Any]) -> None:
            self.server.append(obj)
            await ws.send_str(json.dumps(obj))

        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                continue
            obj = json.loads(msg.data)
            self.client.append(obj)
            command = obj.get("command")
            if command == "publish":
                await send({"command": "start", "streamId": obj["streamId"]})
            elif command == "ping":
                await send({"command": "pong"})
            elif command == "play":
                pc = RTCPeerConnection()
                self.pcs[obj["streamId"]] = pc
                pc.addTransceiver("audio", direction="sendonly")
                pc.addTransceiver("video", direction="sendonly")
                await pc.setLocalDescription(await pc.createOffer())
                await send(
                    {
                        "command": "takeConfiguration",
                        "streamId": obj["streamId"],
                        "type": "offer",
                        "sdp": pc.localDescription.sdp,
                        "idMapping": {},
                    }
                )
            elif command == "takeConfiguration" and obj.get("type") == "answer":
                await self.pcs[obj["streamId"]].setRemoteDescription(
                    RTCSessionDescription(obj["sdp"], "answer")
                )
            elif command == "getIceServerConfig":
                await send(
                    {
                        "command": "iceServerConfig",
                        "stunServerUri": "",
                        "turnServerUsername": "",
                        "turnServerCredential": "",
                    }
                )
            elif command == "joinRoom":
                await send(
                    {
                        "command": "notification",
                        "definition": "joinedTheRoom",
                        "streamId": obj.get("streamId") or "member1",
                        "room": obj["room"],
                        "ATTR_ROOM_NAME": obj["room"],
                        "streams": [],
                        "streamList": [],
                    }
                )
        return ws


SCRIPT = """async (url) => {
  await window.start({url: url, askIceServers: true});
  const a = window.adaptor;
  a.publish("rec1", undefined, "", "", "rec1 name", "", "");
  await new Promise(r => setTimeout(r, 1500));
  a.getStreamInfo("rec1");
  a.toggleVideo("rec1", "rec1", false);
  a.toggleAudio("rec1", "rec1", true);
  a.getTracks("rec1", "");
  a.getBroadcastObject("rec1");
  a.getSubscriberCount("rec1");
  a.playStream({streamId: "play2", trackList: [], subscriberName: "viewer",
                disableTracksByDefault: true});
  a.enableTrack("room1", "rec1", false);
  a.forceStreamQuality("rec1", 480);
  a.getRoomInfo("room1", "rec1");
  a.joinRoom("room1", "member1");
  a.leaveFromRoom("room1");
  a.join("p2p1");
  a.leave("p2p1");
  a.play("play1", "", "", ["!rec1"], "", "", "");
  await new Promise(r => setTimeout(r, 2500));
  a.stop("rec1");
  await new Promise(r => setTimeout(r, 3200));
}"""


async def main() -> None:
    recorder = Recorder()
    app = web.Application()
    app.router.add_get("/{app}/websocket", recorder.handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with page_server() as base, chromium() as browser:
            page = await browser.new_page()
            page.on("console", lambda m: print("console:", m.text[:200]))
            page.on("pageerror", lambda e: print("pageerror:", e))
            await page.goto(f"{base}/pages/antmedia.html")
            await page.evaluate(SCRIPT, f"ws://127.0.0.1:{port}/WebRTCAppEE/websocket")
    finally:
        for pc in recorder.pcs.values():
            await pc.close()
        await runner.cleanup()

    OUT.mkdir(parents=True, exist_ok=True)
    seen: dict[str, dict[str, Any]] = {}
    for obj in recorder.client:
        key = obj["command"]
        if key == "takeConfiguration":
            key += "_" + obj["type"]
        if key == "play" and "subscriberName" in obj:
            key = "playStream"
        seen.setdefault(key, obj)
    (OUT / "client.json").write_text(json.dumps(seen, indent=1, sort_keys=True) + "\n")
    server: dict[str, dict[str, Any]] = {}
    for obj in recorder.server:
        server.setdefault(obj["command"] + ":" + obj.get("definition", ""), obj)
    (OUT / "server.json").write_text(json.dumps(server, indent=1, sort_keys=True) + "\n")
    print(f"recorded {len(seen)} client commands: {sorted(seen)}")


if __name__ == "__main__":
    asyncio.run(main())
