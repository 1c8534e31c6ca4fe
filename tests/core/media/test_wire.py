"""The forwarding path's wire writer, against a real SRTP session and a UDP socket."""

from __future__ import annotations

import asyncio
import os
import socket
from types import SimpleNamespace

import pytest
from aiortc.rtp import RtpPacket
from pylibsrtp import Policy, Session

from core.media._aiortc import Wire


class _Protocol(asyncio.DatagramProtocol):
    pass


def _policy(key: bytes, direction: int) -> Policy:
    return Policy(key=key, ssrc_type=direction, srtp_profile=Policy.SRTP_PROFILE_AEAD_AES_256_GCM)


async def test_send_patched_writes_the_patched_packet() -> None:
    key = os.urandom(44)
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
        _Protocol, local_addr=("127.0.0.1", 0)
    )
    pair = SimpleNamespace(
        protocol=SimpleNamespace(transport=transport), remote_addr=receiver.getsockname()
    )
    dtls = SimpleNamespace(
        _tx_srtp=Session(_policy(key, Policy.SSRC_ANY_OUTBOUND)),
        transport=SimpleNamespace(_connection=SimpleNamespace(_nominated={1: pair})),
    )
    wire = Wire(dtls)  # type: ignore[arg-type]
    inbound = Session(_policy(key, Policy.SSRC_ANY_INBOUND))
    extension = b"\xbe\xde\x00\x01\x10\x31\x00\x00"  # mid "1"
    payload = os.urandom(1000)
    template = b"\x90" + bytes(11) + extension + payload
    try:
        for seq in (65534, 65535, 0):
            wire.send_patched(template, 0x80 | 97, seq, 123456, 0xCAFE)
            packet = RtpPacket.parse(inbound.unprotect(receiver.recv(2048)))
            assert (packet.marker, packet.payload_type) == (1, 97)
            assert (packet.sequence_number, packet.timestamp, packet.ssrc) == (seq, 123456, 0xCAFE)
            assert packet.payload == payload
        # Longer than the session's buffer allows: refused as Session.protect refuses it.
        with pytest.raises(ValueError):
            wire.send_patched(b"\x80" + bytes(11) + os.urandom(1400), 96, 1, 2, 3)
    finally:
        transport.close()
        receiver.close()
