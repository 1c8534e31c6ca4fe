"""A player to kill: ``python -m tests.faults.player GATEWAY_URL NAME``.

Plays ``NAME`` with WHEP, the Ant Media wire and the Flashphoner wire, prints ``ready`` once
video frames are decoded on each, then runs until it is killed.
"""

from __future__ import annotations

import asyncio
import sys

import aiohttp

from tests.adapters.antmedia.clients import Client as AntClient
from tests.adapters.antmedia.clients import first_video_frame
from tests.adapters.flashphoner.conftest import WcsClient
from tests.adapters.whip.clients import Player, accept, player_offer, post_offer
from tests.core.media.clients import ClientSubscriber


async def main(url: str, name: str) -> None:
    ws = url.replace("http", "ws", 1)
    async with aiohttp.ClientSession() as http:
        whep = Player()
        created = await post_offer(http, f"{url}/whep/{name}", await player_offer(whep.pc))
        await accept(whep.pc, created.answer)

        antmedia = await AntClient.connect(f"{ws}/WebRTCAppEE/websocket")
        await antmedia.play(name)

        flashphoner = await WcsClient.open(f"{ws}/")
        await flashphoner.connect()
        peer = ClientSubscriber()
        await flashphoner.send(
            "playStream",
            {
                "mediaSessionId": "fp-play",
                "name": name,
                "published": False,
                "hasVideo": True,
                "hasAudio": False,
                "status": "PENDING",
                "mediaProvider": "WebRTC",
                "sdp": await peer.offer(("video",)),
            },
        )
        await peer.accept_answer((await flashphoner.expect("setRemoteSDP", within=20))["data"][1])
        await flashphoner.status("fp-play", "PLAYING", within=20)

        await asyncio.wait_for(whep.enough.wait(), 20)
        await first_video_frame(antmedia.pcs[name], within=20)
        await peer.wait_frames("video", 5, within=20)
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:3]))
