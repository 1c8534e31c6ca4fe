"""Incoming SRTP handed to the receivers as it arrives (_aiortc.receive_directly)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiortc import RTCSessionDescription

from core.media import _aiortc
from tests.core.media.clients import (
    LOOPBACK,
    ClientSubscriber,
    SineAudioTrack,
    local_offer,
    loopback_pc,
    small_pattern,
)


async def test_media_skips_the_receive_loop_and_decodes() -> None:
    sender = loopback_pc()
    receiver = ClientSubscriber()
    # (first byte, whether the SRTP keys were there) of each datagram left to aiortc's loop
    queued: list[tuple[int, bool]] = []
    try:
        sender.addTransceiver(SineAudioTrack(), direction="sendonly")
        sender.addTransceiver(small_pattern(), direction="sendonly")
        offer = await local_offer(sender)
        pc = receiver.pc
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        dtls = pc.getTransceivers()[0].receiver.transport
        connection = dtls.transport._connection
        queue: Callable[[bytes, int], None] = connection.data_received

        def spy(data: bytes, component: int) -> None:
            queued.append((data[0], dtls._rx_srtp is not None))
            queue(data, component)

        connection.data_received = spy
        _aiortc.receive_directly(pc)
        _aiortc.receive_directly(pc)  # idempotent
        _aiortc.restrict_gathering(pc, LOOPBACK)
        await pc.setLocalDescription(await pc.createAnswer())
        await sender.setRemoteDescription(pc.localDescription)

        await receiver.wait_frames("video", 30)
        await receiver.wait_frames("audio", 50)
    finally:
        await receiver.close()
        await sender.close()
    assert set(receiver.video_sizes) == {(320, 240)}
    # The DTLS handshake went through aiortc's loop; no SRTP did once the keys were there.
    assert any(19 < first < 64 for first, _ in queued)
    assert [q for q in queued if 127 < q[0] < 192 and q[1]] == []


async def test_a_handler_that_suspends_is_finished_in_order() -> None:
    steps: list[str] = []
    gate: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    async def quick() -> None:
        steps.append("quick")

    async def waits() -> None:
        steps.append("before")
        steps.append(await gate)
        await asyncio.sleep(0)
        steps.append("after")

    _aiortc._run_now(quick())
    assert steps == ["quick"]  # ran to its end within the call
    _aiortc._run_now(waits())
    assert steps == ["quick", "before"]
    gate.set_result("resumed")
    await asyncio.gather(*_aiortc._UNFINISHED)
    assert steps == ["quick", "before", "resumed", "after"]
    assert not _aiortc._UNFINISHED


async def test_a_suspended_handler_sees_the_error_it_waited_for() -> None:
    seen: list[BaseException] = []
    gate: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def waits() -> None:
        try:
            await gate
        except ConnectionError as exc:
            seen.append(exc)

    _aiortc._run_now(waits())
    gate.set_exception(ConnectionError("gone"))
    await asyncio.gather(*_aiortc._UNFINISHED)
    assert [str(e) for e in seen] == ["gone"]
