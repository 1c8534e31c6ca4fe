"""A WHEP player inside a network namespace:
``python -m tests.faults.lossy_player GATEWAY_URL NAME LOCAL_ADDRESS SECONDS``.

Gathers its ICE candidate on ``LOCAL_ADDRESS`` only, waits for the first decoded video frame,
then decodes for ``SECONDS`` and prints one JSON line: frames decoded, frames per second, the
longest gap between two frames, and aiortc's decode errors.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time

import aiohttp

from core.media import _aiortc
from tests.adapters.whip.clients import accept, post_offer
from tests.core.media.clients import ClientSubscriber, DecodeErrors


class NamespacedSubscriber(ClientSubscriber):
    def __init__(self, address: str) -> None:
        super().__init__()
        self._address = address

    def _prepare(self) -> None:
        _aiortc.restrict_gathering(self.pc, (self._address,))


async def main(url: str, name: str, address: str, seconds: float) -> None:
    with DecodeErrors() as errors:
        peer = NamespacedSubscriber(address)
        try:
            async with aiohttp.ClientSession() as http:
                created = await post_offer(http, f"{url}/whep/{name}", await peer.offer(("video",)))
                await accept(peer.pc, created.answer)
                await asyncio.wait_for(peer.first_video.wait(), 30)
                start, first = time.monotonic(), len(peer.video_times)
                await asyncio.sleep(seconds)
                times = [t for t in peer.video_times[first:] if t - start <= seconds]
                gaps = [b - a for a, b in itertools.pairwise(times)]
                result = {
                    "frames": len(times),
                    "fps": round(len(times) / seconds, 1),
                    "max_gap_s": round(max(gaps, default=seconds), 3),
                    "decode_errors": errors.count,
                    "size": list(peer.video_sizes[-1]),
                }
        finally:
            await peer.close()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])))
