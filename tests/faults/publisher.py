"""A publisher to kill: ``python -m tests.faults.publisher GATEWAY_URL NAME RTM_SESSION``.

Publishes ``NAME`` with WHIP and starts the RTM client session ``RTM_SESSION`` (client id
``agent``), prints ``ready`` once both send media, then runs until it is killed.
"""

from __future__ import annotations

import asyncio
import sys

import aiohttp

from tests.adapters.rtm.clients import RtmClient
from tests.adapters.whip.clients import accept, loopback_pc, post_offer, publisher_offer


async def main(url: str, name: str, rtm_session: str) -> None:
    async with aiohttp.ClientSession() as http:
        pc = loopback_pc()
        created = await post_offer(http, f"{url}/whip/{name}", await publisher_offer(pc))
        await accept(pc, created.answer)
        agent = RtmClient(http, url.replace("http", "ws", 1) + "/api/v2/io", "agent")
        await agent.connect()
        await agent.start_session(rtm_session)
        await agent.state("ACTIVE", within=20)
        while True:
            async with http.get(f"{url}/api/v1/streams") as resp:
                streams = (await resp.json())["streams"]
            if any(s.get("name") == name and s.get("state") == "live" for s in streams):
                break
            await asyncio.sleep(0.1)
        print("ready", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
