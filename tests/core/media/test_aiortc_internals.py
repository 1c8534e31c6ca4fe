"""Fails, naming the member, when an aiortc or aioice upgrade moves a private member we use."""

from __future__ import annotations

import asyncio
import gc
from typing import Any

from aiortc import RTCBundlePolicy, RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.exceptions import InvalidStateError

from core.media import _aiortc
from tests.core.media.clients import local_offer, loopback_pc


async def test_private_members_exist() -> None:
    missing = await _aiortc.missing_members()
    assert not missing, (
        "aiortc/aioice no longer has these private members used by core/media/_aiortc.py: "
        + ", ".join(missing)
    )


def test_get_host_addresses_still_exists() -> None:
    addresses = _aiortc.default_host_addresses()
    assert "127.0.0.1" in addresses


async def _close_while_connecting(pc: RTCPeerConnection) -> list[dict[str, Any]]:
    """``pc`` answers a client's audio and video on one transport and is closed while its
    DTLS handshake runs (a WHEP player deleted right after its POST): the loop's reports of
    exceptions nobody retrieved."""
    loop = asyncio.get_running_loop()
    reports: list[dict[str, Any]] = []
    previous = loop.get_exception_handler()
    loop.set_exception_handler(lambda _loop, context: reports.append(context))
    peer = loopback_pc(RTCBundlePolicy.BALANCED)
    try:
        peer.addTransceiver("audio", direction="recvonly")
        peer.addTransceiver("video", direction="recvonly")
        offer = await local_offer(peer)
        await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        _aiortc.bundle_on_primary(pc)
        _aiortc.restrict_gathering(pc, ["127.0.0.1"])
        dtls = pc.getTransceivers()[0].receiver.transport
        handshaking = asyncio.Event()

        @dtls.on("statechange")  # type: ignore[misc]
        def on_state() -> None:
            if dtls.state == "connecting":
                handshaking.set()

        before = asyncio.all_tasks()
        await pc.setLocalDescription(await pc.createAnswer())
        connecting = list(asyncio.all_tasks() - before)
        await peer.setRemoteDescription(pc.localDescription)
        await asyncio.wait_for(handshaking.wait(), 10)
        await pc.close()
        await asyncio.wait(connecting, timeout=10)
        assert connecting and all(t.done() for t in connecting)
        del connecting
        gc.collect()
    finally:
        await peer.close()
        loop.set_exception_handler(previous)
    return reports


async def test_closing_a_connecting_peer_connection_is_quiet() -> None:
    # aiortc's own peer connection: the task connecting the second transceiver raises into
    # nowhere, and the loop logs it.
    plain = await _close_while_connecting(RTCPeerConnection(RTCConfiguration(iceServers=[])))
    assert any(isinstance(r.get("exception"), InvalidStateError) for r in plain), plain
    # The media plane's: nothing to report.
    quiet = await _close_while_connecting(_aiortc.peer_connection(RTCConfiguration(iceServers=[])))
    assert quiet == []
