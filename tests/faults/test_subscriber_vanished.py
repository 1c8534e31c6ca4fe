"""A player process SIGKILLed: its subscriptions and peer connections are freed.

The killed process plays one stream with WHEP, the Ant Media wire and the Flashphoner wire.
The WebSocket players' subscriptions go with their sockets at once; the WHEP player has no
socket, so its session goes when ICE consent fails (aioice: six unanswered checks about 5 s
apart, under 40 s).
"""

from __future__ import annotations

import signal
import time
from pathlib import Path

import aiohttp

from tests.adapters.whip.clients import accept, loopback_pc, post_offer, publisher_offer
from tests.faults.harness import client_process, metrics, start_gateway, wait_until

CONSENT_BOUND = 40.0


async def test_a_vanished_player_is_freed_within_the_consent_timeout(tmp_path: Path) -> None:
    gateway = await start_gateway(tmp_path)
    publisher = loopback_pc()
    player = None
    try:
        async with aiohttp.ClientSession() as http:
            created = await post_offer(
                http, f"{gateway.url}/whip/cam1", await publisher_offer(publisher)
            )
            await accept(publisher, created.answer)
            player = await client_process("tests.faults.player", gateway.url, "cam1")
            before = await metrics(http, gateway)
            assert before["switchboard_subscribers"] == 3
            assert before["switchboard_media_endpoints"] == 4  # the publisher and 3 players

            killed = time.monotonic()
            player.send_signal(signal.SIGKILL)

            async def subscribers(n: float) -> bool:
                return (await metrics(http, gateway))["switchboard_subscribers"] <= n

            sockets = await wait_until(
                lambda: subscribers(1), within=5, what="the WebSocket players freed"
            )
            print(f"player killed -> WebSocket subscriptions freed: {sockets:.2f} s")
            freed = await wait_until(
                lambda: subscribers(0), within=CONSENT_BOUND, step=0.2, what="WHEP freed"
            )
            after = await metrics(http, gateway)
            print(f"player killed -> WHEP subscription freed: {time.monotonic() - killed:.2f} s")
            assert freed < CONSENT_BOUND
            assert after["switchboard_media_endpoints"] == 1  # the publisher's alone
            assert after["switchboard_sessions"] == 1
            assert publisher.connectionState == "connected"
    finally:
        await publisher.close()
        if player is not None:
            if player.returncode is None:
                player.kill()
            await player.wait()
        assert await gateway.stop() == 0
