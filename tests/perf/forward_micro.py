"""Microbenchmark of the forwarding function alone: one ingress, N in-process subscribers.

    python -m tests.perf.forward_micro --subscribers 1,5,10,20 --packets 3000

Each subscriber has what a real one has on the egress path: its own SRTP session
(pylibsrtp, AEAD_AES_256_GCM, which aiortc peers negotiate) and its own asyncio UDP
transport on 127.0.0.1 writing to a socket on 127.0.0.1. Packets are VP8-like (1100 byte
payload, abs-send-time extension, a marker every 5 packets) and go through
``Ingress.on_rtp`` as the publisher's receiver hands them over. Only this thread's CPU time
is counted (``time.thread_time``); the receiving sockets are drained outside the timed
sections. Nothing else (ICE, DTLS, RTCP, aiortc's receive path) is included.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import time
from types import SimpleNamespace
from typing import Any

from aiortc.rtcrtpparameters import (
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpSendParameters,
)
from aiortc.rtp import RtpPacket
from pylibsrtp import Policy, Session

from core.media.forwarding import Egress, Ingress
from core.media.types import CodecInfo, TrackInfo

LOOPBACK = "127.0.0.1"
PAYLOAD = 1100
ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
MID = "urn:ietf:params:rtp-hdrext:sdes:mid"


class _Sink(asyncio.DatagramProtocol):
    pass


def _srtp_session() -> Session:
    # The profile aiortc peers negotiate (it offers AEAD_AES_256_GCM first).
    policy = Policy(
        key=os.urandom(44),
        ssrc_type=Policy.SSRC_ANY_OUTBOUND,
        srtp_profile=Policy.SRTP_PROFILE_AEAD_AES_256_GCM,
    )
    return Session(policy=policy)


def vp8_packets(count: int) -> list[RtpPacket]:
    packets = []
    descriptor = bytes((0x90, 0x80, 0x00))  # X and S set, picture id present
    keyframe = bytes((0x10, 0x00, 0x00, 0x9D, 0x01, 0x2A, 0x80, 0x02, 0xE0, 0x01))
    for i in range(count):
        body = keyframe if i == 0 else b"\x01" * 10
        payload = descriptor + body + os.urandom(PAYLOAD - len(descriptor) - len(body))
        packet = RtpPacket(
            payload_type=96,
            marker=int(i % 5 == 4),
            sequence_number=(1000 + i) & 0xFFFF,
            timestamp=(3000 * (i // 5)) & 0xFFFFFFFF,
            ssrc=0x1234,
            payload=payload,
        )
        packet.extensions.abs_send_time = (i * 1000) & 0xFFFFFF
        packets.append(packet)
    return packets


def video_ingress() -> Ingress:
    """A VP8 ingress that sends its feedback nowhere and serves no cached keyframe."""
    return Ingress(
        TrackInfo(kind="video", mid="0", codec=CodecInfo("video/VP8", 90000)),
        rtcp_ssrc=1,
        send_rtcp=lambda data: None,
        keyframe_request_interval=0.5,
        cache_size=1024,
        cached_keyframe_max_age=0.0,
        remb_interval=1.0,
        on_first_packet=lambda: None,
    )


async def socket_subscriber(
    ingress: Ingress, index: int
) -> tuple[Egress, socket.socket, asyncio.DatagramTransport]:
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
    receiver.bind((LOOPBACK, 0))
    receiver.setblocking(False)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_Sink, local_addr=(LOOPBACK, 0))
    pair = SimpleNamespace(
        protocol=SimpleNamespace(transport=transport), remote_addr=receiver.getsockname()
    )
    dtls = SimpleNamespace(
        _tx_srtp=_srtp_session(),
        transport=SimpleNamespace(_connection=SimpleNamespace(_nominated={1: pair})),
    )
    from core.media._aiortc import Wire

    egress = Egress(ingress, on_first_packet=lambda egress: None)
    parameters = RTCRtpSendParameters(
        codecs=[
            RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=97),
            RTCRtpCodecParameters(
                mimeType="video/rtx", clockRate=90000, payloadType=98, parameters={"apt": 97}
            ),
        ],
        headerExtensions=[
            RTCRtpHeaderExtensionParameters(id=1, uri=MID),
            RTCRtpHeaderExtensionParameters(id=3, uri=ABS_SEND_TIME),
        ],
        muxId="1",
    )
    egress.configure(0x10000 + index, 0x20000 + index, parameters)
    egress.wire = Wire(dtls)  # type: ignore[arg-type]
    ingress.add_consumer(egress)
    return egress, receiver, transport


def _drain(sockets: list[socket.socket]) -> int:
    received = 0
    for sock in sockets:
        while True:
            try:
                sock.recv(2048)
            except BlockingIOError:
                break
            received += 1
    return received


async def measure(subscribers: int, passes: list[list[RtpPacket]]) -> dict[str, Any]:
    """Median CPU seconds of ``Ingress.on_rtp`` over one pass, ``subscribers`` egresses."""
    ingress = video_ingress()
    subs = [await socket_subscriber(ingress, i) for i in range(subscribers)]
    sockets = [s for _, s, _ in subs]
    samples = []
    received = 0
    for packets in passes:
        cpu = 0.0
        for start in range(0, len(packets), 50):
            chunk = packets[start : start + 50]
            t0 = time.thread_time()
            for packet in chunk:
                ingress.on_rtp(packet)
            cpu += time.thread_time() - t0
            received += _drain(sockets)
            await asyncio.sleep(0)
        samples.append(cpu)
    sent = sum(e.packets for e, _, _ in subs)
    for _, sock, transport in subs:
        transport.close()
        sock.close()
    ingress.close()
    return {
        "subscribers": subscribers,
        "cpu_seconds": statistics.median(samples),
        "packets": len(passes[0]),
        "sent": sent,
        "received": received,
    }


async def run(counts: list[int], packet_count: int, repeat: int) -> dict[str, Any]:
    # Sequence numbers keep rising from pass to pass: SRTP refuses to protect a replay.
    packets = vp8_packets(packet_count * repeat)
    passes = [packets[i * packet_count : (i + 1) * packet_count] for i in range(repeat)]
    await measure(max(counts), passes[:1])  # warm up
    results = [await measure(n, passes) for n in counts]
    rows = []
    for r in results:
        n = r["subscribers"]
        us_ingress = r["cpu_seconds"] / r["packets"] * 1e6
        rows.append(
            {
                "subscribers": n,
                "us_per_ingress_packet": round(us_ingress, 2),
                "us_per_forwarded_packet_average": round(us_ingress / n, 2) if n else None,
                "lost_on_loopback": r["sent"] - r["received"],
            }
        )
    low, high = results[0], results[-1]
    slope = (high["cpu_seconds"] - low["cpu_seconds"]) / (
        (high["subscribers"] - low["subscribers"]) * packet_count
    )
    return {
        "micro_us_per_forwarded_packet": round(slope * 1e6, 2),
        "micro_rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscribers", default="1,5,10,20")
    parser.add_argument("--packets", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5, help="median of this many passes")
    args = parser.parse_args(argv)
    counts = [int(n) for n in args.subscribers.split(",")]
    result = asyncio.run(run(counts, args.packets, args.repeat))
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
