"""Incoming SRTP handed to the receivers as it arrives (_aiortc.receive_directly)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from aiortc import RTCRtpCodecParameters, RTCRtpReceiver, RTCSessionDescription
from aiortc.jitterbuffer import JitterFrame

from core.media import _aiortc
from tests.core.media.clients import (
    LOOPBACK,
    ClientSubscriber,
    DecodeErrors,
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


async def test_lean_client_decodes_on_the_loop_and_its_tracks_end_on_close() -> None:
    sender = loopback_pc()
    receiver = ClientSubscriber(lean=True)
    try:
        sender.addTransceiver(SineAudioTrack(), direction="sendonly")
        sender.addTransceiver(small_pattern(), direction="sendonly")
        answer = await receiver.answer(await local_offer(sender))
        await sender.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await receiver.wait_frames("video", 30)
        await receiver.wait_frames("audio", 50)
        decoders = [
            t.receiver._RTCRtpReceiver__decoder_queue for t in receiver.pc.getTransceivers()
        ]
        # The frames were decoded by the loop's decoders, none by aiortc's threads.
        assert sorted(name for d in decoders for name in d._decoders) == ["VP8", "opus"]
        await receiver.pc.close()
        await asyncio.wait_for(receiver.ended.wait(), 10)
    finally:
        await receiver.close()
        await sender.close()
    assert set(receiver.video_sizes) == {(320, 240)}


async def test_a_frame_that_fails_to_decode_on_the_loop_is_reported() -> None:
    pc = loopback_pc()
    try:
        transceiver = pc.addTransceiver("video", direction="recvonly")
        _aiortc.decode_on_loop(pc)
        receiver = transceiver.receiver
        decoder = receiver._RTCRtpReceiver__decoder_queue
        error = receiver._RTCRtpReceiver__decoder_error
        vp8 = next(c for c in RTCRtpReceiver.getCapabilities("video").codecs if "VP8" in c.mimeType)
        codec = RTCRtpCodecParameters(mimeType=vp8.mimeType, clockRate=90000, payloadType=96)
        with DecodeErrors() as errors:
            decoder.put((codec, JitterFrame(data=b"\x00" * 20, timestamp=0)))
        assert errors.count == 1
        assert error.is_set()  # the receiver asks the sender for a keyframe
    finally:
        await pc.close()


async def test_a_failing_handler_closes_the_transport_as_aiortc_does() -> None:
    sender = loopback_pc()
    receiver = ClientSubscriber(lean=True)
    try:
        sender.addTransceiver(small_pattern(), direction="sendonly")
        answer = await receiver.answer(await local_offer(sender))
        await sender.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
        await receiver.wait_frames("video", 5)
        transceiver = receiver.pc.getTransceivers()[0]
        closed = asyncio.Event()
        dtls = transceiver.receiver.transport

        @dtls.on("statechange")  # type: ignore[misc]
        def on_state() -> None:
            if dtls.state == "closed":
                closed.set()

        async def broken(packet: object, arrival_time_ms: int) -> None:
            raise RuntimeError("broken handler")

        transceiver.receiver._handle_rtp_packet = broken
        await asyncio.wait_for(closed.wait(), 10)
        await asyncio.wait_for(receiver.ended.wait(), 10)  # the track ends with it
    finally:
        await receiver.close()
        await sender.close()
