"""NACKs answered from the packet cache, each packet at most once per round trip."""

from __future__ import annotations

import asyncio
import socket

from aiortc import clock
from aiortc.rtp import RTCP_RTPFB_NACK, RtcpReceiverInfo, RtcpRrPacket, RtcpRtpfbPacket

from tests.perf.forward_micro import socket_subscriber, video_ingress, vp8_packets

MEDIA_PT, RTX_PT = 97, 98  # as socket_subscriber negotiates them


def _receive(sock: socket.socket) -> tuple[int, int]:
    """The next packet's payload type and sequence number (SRTP leaves the header clear)."""
    data = sock.recv(2048)
    return data[1] & 0x7F, int.from_bytes(data[2:4], "big")


def _nack(egress_ssrc: int, seq: int) -> RtcpRtpfbPacket:
    packet = RtcpRtpfbPacket(fmt=RTCP_RTPFB_NACK, ssrc=7, media_ssrc=egress_ssrc)
    packet.lost = [seq]
    return packet


async def test_a_repeated_nack_is_answered_once_per_round_trip() -> None:
    ingress = video_ingress()
    egress, sock, transport = await socket_subscriber(ingress, 0)
    sock.setblocking(True)
    sock.settimeout(5)
    packets = vp8_packets(12)
    try:
        for packet in packets[:10]:
            ingress.on_rtp(packet)
        sent = [_receive(sock) for _ in range(10)]
        assert {pt for pt, _ in sent} == {MEDIA_PT}
        lost = sent[3][1]

        # The client repeats its NACK before the copy could have reached it: one copy.
        egress.on_rtcp(_nack(egress.ssrc, lost))
        egress.on_rtcp(_nack(egress.ssrc, lost))
        ingress.on_rtp(packets[10])
        assert _receive(sock)[0] == RTX_PT
        assert _receive(sock) == (MEDIA_PT, sent[-1][1] + 1)  # the next packet, no second copy
        assert (egress.retransmitted, egress.retransmit_skipped) == (1, 1)

        # A receiver report measures the round trip (here next to nothing: 10 ms, the floor);
        # once it has passed, the packet is sent again.
        report = RtcpReceiverInfo(
            ssrc=egress.ssrc,
            fraction_lost=0,
            packets_lost=1,
            highest_sequence=sent[-1][1],
            jitter=0,
            lsr=(clock.current_ntp_time() >> 16) & 0xFFFFFFFF,
            dlsr=0,
        )
        egress.on_rtcp(RtcpRrPacket(ssrc=7, reports=[report]))
        assert egress.rtt is not None and egress.rtt < 0.01
        await asyncio.sleep(0.02)
        egress.on_rtcp(_nack(egress.ssrc, lost))
        assert _receive(sock)[0] == RTX_PT
        assert egress.retransmitted == 2
    finally:
        transport.close()
        sock.close()
        ingress.close()
