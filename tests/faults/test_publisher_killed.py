"""A publisher process SIGKILLed mid-stream: every player hears it in its dialect within 2 s.

The killed process publishes with WHIP and runs an RTM client session; it sends no BYE, no
DTLS close and no WebSocket close. The gateway notices the RTP silence
(``media.publisher_silence_timeout``, 1.5 s by default) long before ICE consent would, and
ends the stream with reason ``publisher_lost``.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import aiohttp

from adapters.antmedia import codec as ant
from tests.faults.harness import Gateway, admin, client_process, play_everywhere, start_gateway

BOUND = 2.0


async def test_every_player_is_told_within_two_seconds(tmp_path: Path) -> None:
    gateway = await start_gateway(tmp_path)
    publisher = None
    players = None
    try:
        publisher = await client_process("tests.faults.publisher", gateway.url, "cam1", "a-1")
        players = await play_everywhere(gateway, "cam1", "a-1")
        whep_pc = players.whep.pc
        whep_closed = asyncio.Event()
        whep_pc.on(
            "connectionstatechange",
            lambda: whep_closed.set() if whep_pc.connectionState != "connected" else None,
        )

        killed = time.monotonic()
        publisher.send_signal(signal.SIGKILL)

        async def told(name: str, waiting: asyncio.Future[object]) -> tuple[str, float]:
            await waiting
            return name, time.monotonic() - killed

        fp_peer_msid = "fp-play"
        results = await asyncio.gather(
            told(
                "antmedia play_finished",
                asyncio.ensure_future(
                    players.antmedia.expect(
                        ant.PlayFinished, lambda m: m.stream_id == "cam1", within=10
                    )
                ),
            ),
            told(
                "flashphoner STOPPED",
                asyncio.ensure_future(players.flashphoner.status(fp_peer_msid, "STOPPED", 10)),
            ),
            told("whep connection closed", asyncio.ensure_future(whep_closed.wait())),
            told(
                "rtm supervisor TERMINATED",
                asyncio.ensure_future(players.supervisor.state("TERMINATED", within=10)),
            ),
        )
        for name, seconds in results:
            print(f"publisher killed -> {name}: {seconds:.2f} s")
        assert all(seconds < BOUND for _, seconds in results), results

        async with aiohttp.ClientSession() as http:
            assert (await admin(http, gateway, "streams"))["streams"] == []
        ended = [e for e in gateway.lines() if e.get("event") == "stream_ended"]
        assert {e["stream"]: e["reason"] for e in ended}["cam1"] == "publisher_lost"
    finally:
        if players is not None:
            await players.close()
        if publisher is not None and publisher.returncode is None:
            publisher.kill()
        if publisher is not None:
            await publisher.wait()
        await stop(gateway)


async def stop(gateway: Gateway) -> None:
    assert await gateway.stop() == 0
