"""Record the frames the unmodified ``@flashphoner/websdk`` sends, as codec test fixtures.

Run once (``.venv/bin/python -m tests.e2e.flashphoner.record_frames``): it serves the SDK
page, answers the SDK with just enough of the protocol to make it send every message a
stream goes through (``connection``, ``publishStream``, ``playStream``, ``unPublishStream``,
``stopStream``, ``pong``, ``availableStream``, ``sendStreamEvent``), and writes each first
frame of a kind to ``tests/adapters/flashphoner/frames/client/<message>.json``. The recording
server never applies the SDP; it only has to move the SDK's statuses along.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from aiohttp import WSMsgType, web

from tests.e2e.flashphoner.pages_server import serve_pages
from tests.e2e.harness import chromium, free_port

OUT = Path(__file__).resolve().parents[2] / "adapters" / "flashphoner" / "frames" / "client"


async def main() -> None:
    frames: dict[str, str] = {}

    async def ws_handler(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for msg in ws:
            if msg.type is not WSMsgType.TEXT:
                break
            obj = json.loads(msg.data)
            name = obj["message"]
            frames.setdefault(name, msg.data)
            data = obj["data"][0] if obj.get("data") else None
            if name == "connection":
                await ws.send_json({"message": "getUserData", "data": [dict(data, authToken="t")]})
                await ws.send_json({"message": "ping", "data": [None]})
            elif name in ("publishStream", "playStream"):
                status = "PUBLISHING" if name == "publishStream" else "PLAYING"
                reply = {k: data[k] for k in ("mediaSessionId", "name") if k in data}
                await ws.send_json(
                    {"message": "notifyStreamStatusEvent", "data": [dict(reply, status=status)]}
                )
            elif name in ("unPublishStream", "stopStream"):
                status = "UNPUBLISHED" if name == "unPublishStream" else "STOPPED"
                reply = {k: data[k] for k in ("mediaSessionId", "name") if k in data}
                await ws.send_json(
                    {"message": "notifyStreamStatusEvent", "data": [dict(reply, status=status)]}
                )
            elif name == "availableStream":
                await ws.send_json(
                    {
                        "message": "availableStream",
                        "data": [
                            {"id": data["mediaSessionId"], "status": "false", "info": "Not found"}
                        ],
                    }
                )
        return ws

    app = web.Application()
    app.router.add_get("/", ws_handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with serve_pages() as base, chromium() as browser:
            page = await browser.new_page()
            await page.goto(f"{base}/flashphoner/pages/flashphoner.html")
            url = f"ws://127.0.0.1:{port}"
            assert await page.evaluate("(u) => connect(u, {custom: {user: 'alice'}})", url)
            await page.evaluate("() => publish('pub', 'cam1', {record: false})")
            await page.evaluate("() => streams['pub'].muteAudio()")
            await page.evaluate("() => streams['pub'].sendData({text: 'hello'})")
            await page.evaluate("() => play('play', 'cam1')")
            await page.evaluate("() => available('cam2')")
            await page.evaluate("() => stop('play')")
            await page.evaluate("() => stop('pub')")
            for _ in range(50):
                if {"unPublishStream", "stopStream", "pong"} <= frames.keys():
                    break
                await asyncio.sleep(0.1)
    finally:
        await runner.cleanup()
    OUT.mkdir(parents=True, exist_ok=True)
    for name, text in frames.items():
        (OUT / f"{name}.json").write_text(json.dumps(json.loads(text), indent=2) + "\n")
        print(name)


if __name__ == "__main__":
    asyncio.run(main())
