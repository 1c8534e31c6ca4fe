"""Every use of a private aiortc or aioice member, in one place.

aiortc is pinned to a minor version in pyproject.toml. ``tests/core/media/
test_aiortc_internals.py`` checks each member listed in :data:`PRIVATE_MEMBERS` so that an
upgrade which moves one fails loudly, naming it.

What is touched, and why:

* ``Connection.gather_candidates`` (per instance): gather host candidates on the configured
  addresses, 127.0.0.1 included (aioice's ``get_host_addresses`` leaves it out).
* ``RTCRtpReceiver._handle_rtp_packet`` / ``_handle_rtcp_packet`` / ``receive`` (per
  instance): tap the decrypted packets of a publisher and stop its decoder.
* ``RTCRtpReceiver.__remote_streams``: keep feeding the receiver-report statistics.
* ``RTCRtpSender.send`` / ``_handle_rtcp_packet`` / ``_send_rtcp`` (per instance): learn the
  negotiated send parameters, receive a subscriber's feedback, rewrite sender reports.
* ``RTCDtlsTransport._tx_srtp`` and ``Connection._nominated``: protect and write packets
  without going through three coroutines per packet.
* ``Connection.data_received`` (per instance) and ``RTCDtlsTransport._rx_srtp`` / ``_state`` /
  ``_rtp_router`` / ``_rtp_header_extensions_map`` / ``__rx_bytes`` / ``__rx_packets``:
  incoming SRTP and SRTCP are unprotected and routed as they arrive, without aiortc's
  queue and receive loop (see :func:`receive_directly`).
* ``pylibsrtp.Session._srtp`` / ``_cdata`` / ``_buffer`` and ``pylibsrtp._binding.lib``:
  forwarded packets are written into the session's buffer and protected there by
  ``srtp_protect``, as ``Session.protect`` does, without its two copies and its checks.
* ``RTCRtpTransceiver._codecs`` / ``_headerExtensions``: the negotiated codecs.
* ``RTCIceTransport._recv``: tests drop incoming packets to simulate loss.
* ``Connection._protocols``: the benchmark's clients enlarge their sockets' receive buffers
  (see :func:`enlarge_receive_buffers`).
* ``RTCRtpReceiver.__decoder_queue`` / ``__decoder_error`` / ``_track`` and the track's
  ``_queue``: the benchmark's clients decode on the event loop, not in a thread per receiver
  (see :func:`decode_on_loop`).
* ``RTCRtpReceiver._send_rtcp`` (per instance): the benchmark's clients space their REMB
  packets as libwebrtc does (see :func:`throttle_remb`).
* ``Connection.connect`` (per instance) / ``_closing`` / ``_query_consent_task``: a peer
  connection closed while ICE completes would otherwise keep its consent task (a sleeping
  loop over no pairs) and the closed connection forever (see :func:`restrict_gathering`).
* ``RTCRtpTransceiver._bundled``: put every transceiver of a BUNDLE group on the group's
  transport (see :func:`bundle_on_primary`).
* ``RTCPeerConnection.__connect`` (per instance): a peer connection closed while it connects
  its first transceiver makes the task that connects the next one raise ``InvalidStateError``
  into nowhere, logged as "Task exception was never retrieved" (see :func:`peer_connection`).
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
import threading
import time
import types
from collections.abc import Awaitable, Callable, Coroutine, Generator, Sequence
from typing import Any

import aioice.ice
import av
import structlog
from aiortc import (
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
)
from aiortc import sdp as aiortc_sdp
from aiortc.clock import current_ms
from aiortc.codecs import get_decoder
from aiortc.exceptions import InvalidStateError
from aiortc.jitterbuffer import JitterFrame
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.rtcdtlstransport import State as DtlsState
from aiortc.rtcrtpparameters import (
    RTCRtpCodecCapability,
    RTCRtpCodecParameters,
    RTCRtpHeaderExtensionParameters,
    RTCRtpReceiveParameters,
    RTCRtpSendParameters,
)
from aiortc.rtcrtpreceiver import RemoteStreamTrack, StreamStatistics
from aiortc.rtp import (
    RTCP_PSFB_APP,
    AnyRtcpPacket,
    RtcpPacket,
    RtcpPsfbPacket,
    RtcpSenderInfo,
    RtcpSrPacket,
    RtpPacket,
    is_rtcp,
)
from pylibsrtp import SRTP_MAX_TRAILER_LEN, Session
from pylibsrtp import Error as SrtpError
from pylibsrtp._binding import ffi as _srtp_ffi
from pylibsrtp._binding import lib as _srtp_lib

#: (owner, attribute) pairs this module relies on; checked by the internals test.
PRIVATE_MEMBERS: tuple[tuple[str, str], ...] = (
    ("aioice.Connection", "gather_candidates"),
    ("aioice.Connection", "get_component_candidates"),
    ("aioice.Connection", "_local_candidates"),
    ("aioice.Connection", "_local_candidates_start"),
    ("aioice.Connection", "_local_candidates_end"),
    ("aioice.Connection", "_components"),
    ("aioice.Connection", "_nominated"),
    ("aioice.Connection", "_closing"),
    ("aioice.Connection", "_query_consent_task"),
    ("aioice.Connection", "_protocols"),
    ("aioice.CandidatePair", "protocol"),
    ("aioice.CandidatePair", "remote_addr"),
    ("aiortc.RTCRtpReceiver", "_handle_rtp_packet"),
    ("aiortc.RTCRtpReceiver", "_handle_rtcp_packet"),
    ("aiortc.RTCRtpReceiver", "_handle_disconnect"),
    ("aiortc.RTCRtpReceiver", "_enabled"),
    ("aiortc.RTCRtpReceiver", "_send_rtcp"),
    ("aiortc.RTCRtpReceiver", "_RTCRtpReceiver__remote_streams"),
    ("aiortc.RTCRtpReceiver", "_RTCRtpReceiver__decoder_thread"),
    ("aiortc.RTCRtpReceiver", "_RTCRtpReceiver__decoder_queue"),
    ("aiortc.RTCRtpReceiver", "_RTCRtpReceiver__decoder_error"),
    ("aiortc.RTCRtpReceiver", "_track"),
    ("aiortc.RemoteStreamTrack", "_queue"),
    ("aiortc.RTCRtpSender", "_handle_rtcp_packet"),
    ("aiortc.RTCRtpSender", "_send_rtcp"),
    ("aiortc.RTCRtpSender", "_ssrc"),
    ("aiortc.RTCRtpSender", "_rtx_ssrc"),
    ("aiortc.RTCRtpTransceiver", "_codecs"),
    ("aiortc.RTCRtpTransceiver", "_headerExtensions"),
    ("aiortc.RTCRtpTransceiver", "_bundled"),
    ("aiortc.RTCDtlsTransport", "_tx_srtp"),
    ("aiortc.RTCDtlsTransport", "_rx_srtp"),
    ("aiortc.RTCDtlsTransport", "_state"),
    ("aiortc.RTCDtlsTransport", "_rtp_router"),
    ("aiortc.RTCDtlsTransport", "_rtp_header_extensions_map"),
    ("aiortc.RTCDtlsTransport", "_RTCDtlsTransport__rx_bytes"),
    ("aiortc.RTCDtlsTransport", "_RTCDtlsTransport__rx_packets"),
    ("aioice.Connection", "data_received"),
    ("aiortc.RTCDtlsTransport", "_send_rtp"),
    ("aiortc.RTCIceTransport", "_connection"),
    ("aiortc.RTCIceTransport", "_recv"),
    ("aiortc.RTCIceGatherer", "_connection"),
    ("pylibsrtp.Session", "_srtp"),
    ("pylibsrtp.Session", "_cdata"),
    ("pylibsrtp.Session", "_buffer"),
    ("pylibsrtp._binding.lib", "srtp_protect"),
    ("aiortc.RTCPeerConnection", "_RTCPeerConnection__connect"),
)

_RECV_MARK = "_switchboard_tapped"
_DIRECT_MARK = "_switchboard_direct"
_log = structlog.get_logger(__name__)
_receiver_log = logging.getLogger("aiortc.rtcrtpreceiver")  # where aiortc reports decode errors

#: Bytes 1 to 11 of an RTP header: marker and payload type, sequence number, timestamp, SSRC.
_PATCH = struct.Struct("!BHLL")
_srtp_protect = _srtp_lib.srtp_protect


def default_host_addresses() -> list[str]:
    """Every interface address, 127.0.0.1 included."""
    addresses = aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False)
    if "127.0.0.1" not in addresses:
        addresses.append("127.0.0.1")
    return addresses


def restrict_gathering(pc: RTCPeerConnection, addresses: Sequence[str]) -> None:
    """Make every ICE gatherer of ``pc`` gather host candidates on ``addresses`` only.

    Call before ``setLocalDescription`` (which gathers). Idempotent.
    """
    wanted = list(addresses)
    for transceiver in pc.getTransceivers():
        connection = transceiver.receiver.transport.transport.iceGatherer._connection
        if getattr(connection, _RECV_MARK, False):
            continue

        async def gather_candidates(self: Any) -> None:
            if not self._local_candidates_start:
                self._local_candidates_start = True
                for component in sorted(self._components):
                    self._local_candidates += await self.get_component_candidates(
                        component=component, addresses=wanted
                    )
                self._local_candidates_end = True

        connection.gather_candidates = types.MethodType(  # type: ignore[method-assign]
            gather_candidates, connection
        )
        connection.connect = types.MethodType(  # type: ignore[method-assign]
            _connect_then_check_closed(connection.connect), connection
        )
        setattr(connection, _RECV_MARK, True)


def _connect_then_check_closed(
    original: Callable[[], Awaitable[None]],
) -> Callable[[Any], Awaitable[None]]:
    """``Connection.connect`` that does not leave a consent task on a closed connection.

    aioice starts the consent freshness task when ``connect()`` has seen the check list
    complete. When the connection is closed between the completion and ``connect()``
    resuming (a peer connection closed right as ICE succeeds), ``close()`` found no task to
    cancel and the one started afterwards loops forever over no nominated pair, holding the
    closed connection: one task and one connection leaked per such close.
    """

    async def connect(self: Any) -> None:
        await original()
        task = self._query_consent_task
        if self._closing and task is not None:
            self._query_consent_task = None
            task.cancel()

    return connect


def peer_connection(configuration: RTCConfiguration | None = None) -> RTCPeerConnection:
    """A peer connection whose closing while it connects is quiet.

    aiortc connects the transceivers one after the other in a task nobody awaits. Closed
    while it waits for the first, the peer connection has closed the shared ICE transport,
    and starting it for the next transceiver raises ``InvalidStateError``: nothing is wrong
    (the connection was closed on purpose), but the loop logs the task's exception as never
    retrieved. This swallows exactly that, and only once the connection is closed.
    """
    pc = RTCPeerConnection(configuration)
    original: Callable[[], Awaitable[None]] = pc._RTCPeerConnection__connect  # type: ignore[attr-defined]

    async def connect() -> None:
        try:
            await original()
        except InvalidStateError:
            if pc.signalingState != "closed":
                raise

    pc._RTCPeerConnection__connect = connect  # type: ignore[attr-defined]
    return pc


def bundle_on_primary(pc: RTCPeerConnection) -> None:
    """Move every transceiver of the remote BUNDLE group onto the group's transport.

    aiortc's balanced policy gives a second transceiver of a kind the transport of the first
    one of its kind and marks it bundled. When the remote BUNDLE group then moves that first
    one onto the primary transport, aiortc skips the second (already "bundled") and leaves it
    on the transport it has just stopped: it never sends nor receives. Two sources attached to
    a subscriber before its first offer hit this for their second video and audio.

    Call right after ``setRemoteDescription``, before the event loop runs the connect task
    aiortc scheduled.
    """
    remote = pc.remoteDescription
    if remote is None:
        return
    description = aiortc_sdp.SessionDescription.parse(remote.sdp)
    bundle = next((g for g in description.group if g.semantic == "BUNDLE"), None)
    if bundle is None or len(bundle.items) < 2:
        return
    transceivers = pc.getTransceivers()
    primary = next((t for t in transceivers if t.mid == bundle.items[0]), None)
    if primary is None:
        return
    transport = primary.receiver.transport
    others = set(bundle.items[1:])
    for transceiver in transceivers:
        if transceiver.mid in others and transceiver.receiver.transport is not transport:
            transceiver.receiver.setTransport(transport)
            transceiver.sender.setTransport(transport)
            transceiver._bundled = True


def negotiated_codecs(transceiver: RTCRtpTransceiver) -> list[RTCRtpCodecParameters]:
    return list(transceiver._codecs)


def negotiated_header_extensions(
    transceiver: RTCRtpTransceiver,
) -> list[RTCRtpHeaderExtensionParameters]:
    return list(transceiver._headerExtensions)


def codec_preferences(
    kind: str, mime_type: str, parameters: dict[str, str]
) -> list[RTCRtpCodecCapability]:
    """Codec preferences offering exactly this codec (plus RTX for video); empty if unknown."""
    capabilities = RTCRtpSender.getCapabilities(kind).codecs
    chosen: list[RTCRtpCodecCapability] = []
    for capability in capabilities:
        if capability.mimeType.lower() != mime_type.lower():
            continue
        offered = {k: str(v) for k, v in capability.parameters.items()}
        if offered and offered != parameters:
            continue
        chosen.append(capability)
        break
    if chosen and kind == "video":
        chosen += [c for c in capabilities if c.mimeType.lower() == "video/rtx"]
    return chosen


def sender_ssrcs(sender: RTCRtpSender) -> tuple[int, int]:
    """The media and RTX SSRC a sender announces."""
    return sender._ssrc, sender._rtx_ssrc


class Wire:
    """Writes RTP and RTCP to a DTLS transport: SRTP protect, then UDP sendto, no coroutine.

    :meth:`send_patched` is the forwarding path: the packet is copied once into the SRTP
    session's own buffer, its header fields are written in place, libsrtp protects it there
    and the UDP transport sends a view of it. No bytes object is made per packet.
    """

    __slots__ = (
        "_addr",
        "_buffer",
        "_capacity",
        "_cdata",
        "_dtls",
        "_length",
        "_nominated",
        "_pair",
        "_sendto",
        "_session",
        "_srtp",
        "_view",
    )

    def __init__(self, dtls: RTCDtlsTransport) -> None:
        self._dtls = dtls
        self._nominated: dict[int, Any] = dtls.transport._connection._nominated
        self._pair: Any = None
        self._sendto: Callable[[Any, Any], None] | None = None
        self._addr: Any = None
        self._srtp: Session | None = None
        self._session: Any = None
        self._cdata: Any = None
        self._buffer: Any = None
        self._view = memoryview(b"")
        self._capacity = 0
        self._length = _srtp_ffi.new("int *")

    def send_patched(
        self, template: bytes, second_byte: int, seq: int, timestamp: int, ssrc: int
    ) -> None:
        """Send ``template`` (a whole RTP packet) with bytes 1 to 11 of its header replaced."""
        srtp = self._dtls._tx_srtp
        pair = self._nominated.get(1)
        if srtp is not self._srtp or pair is not self._pair:
            if pair is None or srtp is None:
                return
            self._use(pair, srtp)
        size = len(template)
        if size > self._capacity:
            packet = bytearray(template)
            _PATCH.pack_into(packet, 1, second_byte, seq, timestamp, ssrc)
            self._sendto(srtp.protect(bytes(packet)), self._addr)  # type: ignore[misc]
            return
        buffer = self._buffer
        buffer[0:size] = template
        _PATCH.pack_into(buffer, 1, second_byte, seq, timestamp, ssrc)
        length = self._length
        length[0] = size
        status = _srtp_protect(self._session, self._cdata, length)
        if status:
            raise SrtpError(f"srtp_protect failed with status {status}")
        self._sendto(self._view[: length[0]], self._addr)  # type: ignore[misc]

    def send_rtp(self, data: bytes) -> None:
        srtp = self._dtls._tx_srtp
        pair = self._nominated.get(1)
        if pair is None or srtp is None:
            return
        if srtp is not self._srtp or pair is not self._pair:
            self._use(pair, srtp)
        self._sendto(srtp.protect(data), self._addr)  # type: ignore[misc]

    def send_rtcp(self, data: bytes) -> None:
        srtp = self._dtls._tx_srtp
        pair = self._nominated.get(1)
        if pair is None or srtp is None:
            return
        if srtp is not self._srtp or pair is not self._pair:
            self._use(pair, srtp)
        self._sendto(srtp.protect_rtcp(data), self._addr)  # type: ignore[misc]

    def _use(self, pair: Any, srtp: Session) -> None:
        self._pair = pair
        self._sendto = pair.protocol.transport.sendto
        self._addr = pair.remote_addr
        if srtp is not self._srtp:
            self._srtp = srtp
            self._session = srtp._srtp[0]
            self._cdata = srtp._cdata
            self._buffer = srtp._buffer
            self._view = memoryview(srtp._buffer)
            # Room for the longest trailer libsrtp may append, as Session.protect leaves.
            self._capacity = len(self._view) - SRTP_MAX_TRAILER_LEN


def receive_directly(pc: RTCPeerConnection) -> None:
    """Hand ``pc``'s incoming SRTP and SRTCP to its receivers and senders as each datagram
    arrives, instead of through aiortc's receive loop.

    aioice queues every datagram for a coroutine of the DTLS transport, which takes it off
    the queue in a later step of the event loop and passes it down two more coroutines: a
    hand-off and a wake-up per packet. Here the datagram is unprotected, parsed and routed
    where it arrives, and the handler it is routed to runs there (see :func:`_run_now`).
    Anything else (STUN, DTLS, and every datagram before the handshake has given the SRTP
    keys) goes the usual way. Idempotent; call when the transports are known (after each
    description is applied).
    """
    for transceiver in pc.getTransceivers():
        dtls = transceiver.receiver.transport
        connection: Any = dtls.transport._connection
        if getattr(connection, _DIRECT_MARK, None) is dtls:
            continue
        connection.data_received = _direct_receiver(dtls, connection.data_received)
        setattr(connection, _DIRECT_MARK, dtls)


def _direct_receiver(
    dtls: RTCDtlsTransport, queue: Callable[[bytes, int], None]
) -> Callable[[bytes, int], None]:
    connected = DtlsState.CONNECTED
    extensions = dtls._rtp_header_extensions_map
    router = dtls._rtp_router
    failed = False

    def data_received(data: bytes, component: int) -> None:
        nonlocal failed
        srtp = dtls._rx_srtp
        first = data[0]
        if srtp is None or not 127 < first < 192 or dtls._state is not connected or failed:
            queue(data, component)
            return
        dtls._RTCDtlsTransport__rx_bytes += len(data)  # type: ignore[attr-defined]
        dtls._RTCDtlsTransport__rx_packets += 1  # type: ignore[attr-defined]
        # Dropped when it fails to unprotect or parse, as aiortc drops it.
        try:
            if is_rtcp(data):
                try:
                    packets = RtcpPacket.parse(srtp.unprotect_rtcp(data))
                except (SrtpError, ValueError):
                    return
                for packet in packets:
                    for recipient in router.route_rtcp(packet):
                        _run_now(recipient._handle_rtcp_packet(packet))
                return
            arrival_time_ms = current_ms()
            try:
                rtp = RtpPacket.parse(srtp.unprotect(data), extensions)
            except (SrtpError, ValueError):
                return
            receiver = router.route_rtp(rtp)
            if receiver is not None:
                _run_now(receiver._handle_rtp_packet(rtp, arrival_time_ms=arrival_time_ms))
        except Exception:
            # A handler failed: aiortc's receive loop would end with the error and close the
            # transport, and so does this.
            failed = True
            _log.exception("packet handler failed, closing the transport")
            _keep(asyncio.ensure_future(dtls.stop()))

    return data_received


def _run_now(coro: Coroutine[Any, Any, None]) -> None:
    """Run a packet handler to its end now, not in a task of its own.

    aiortc's packet handlers and the taps' never wait in practice: what they send goes down
    to a synchronous ``sendto``. Should one suspend all the same, a task finishes it from
    where it stopped (:class:`_Rest`), as a task would have run it.
    """
    try:
        awaited = coro.send(None)
    except StopIteration:
        return
    _keep(asyncio.ensure_future(_Rest(coro, awaited)))


_UNFINISHED: set[asyncio.Future[None]] = set()


def _keep(task: asyncio.Future[None]) -> None:
    """Hold ``task`` until it is done (the loop keeps only a weak reference)."""
    _UNFINISHED.add(task)
    task.add_done_callback(_UNFINISHED.discard)


class _Rest:
    """The rest of a coroutine that has already run up to a suspension on ``awaited``."""

    def __init__(self, coro: Coroutine[Any, Any, None], awaited: Any) -> None:
        self._coro = coro
        self._awaited = awaited

    def __await__(self) -> Generator[Any, Any, None]:
        awaited = self._awaited
        while True:
            try:
                sent = yield awaited
            except BaseException as exc:  # cancellation reaches the coroutine, as in a task
                try:
                    awaited = self._coro.throw(exc)
                except StopIteration:
                    return
                continue
            try:
                awaited = self._coro.send(sent)
            except StopIteration:
                return


def tap_receiver(
    receiver: RTCRtpReceiver,
    *,
    on_parameters: Callable[[RTCRtpReceiveParameters], None],
    on_rtp: Callable[[RtpPacket], None],
    on_rtcp: Callable[[AnyRtcpPacket], None],
) -> None:
    """Take a receiver's packets for the forwarding plane; its decoder never runs.

    Receiver-report statistics keep being fed so aiortc still sends RRs upstream.
    """
    remote_streams: dict[int, StreamStatistics] = receiver._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
    original_receive = receiver.receive
    original_rtcp = receiver._handle_rtcp_packet
    clock_rate = 90000

    async def receive(parameters: RTCRtpReceiveParameters) -> None:
        nonlocal clock_rate
        if parameters.codecs:
            clock_rate = parameters.codecs[0].clockRate
        on_parameters(parameters)
        await original_receive(parameters)
        # Nobody reads the receiver's track: stop the decoder thread it just started.
        receiver._handle_disconnect()

    async def handle_rtp_packet(packet: RtpPacket, arrival_time_ms: int) -> None:
        if not receiver._enabled:
            return
        stream = remote_streams.get(packet.ssrc)
        if stream is None:
            stream = remote_streams[packet.ssrc] = StreamStatistics(clock_rate)
        stream.add(packet)
        on_rtp(packet)

    async def handle_rtcp_packet(packet: AnyRtcpPacket) -> None:
        await original_rtcp(packet)
        on_rtcp(packet)

    receiver.receive = receive  # type: ignore[method-assign]
    receiver._handle_rtp_packet = handle_rtp_packet  # type: ignore[method-assign]
    receiver._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]


def receiver_stream_statistics(receiver: RTCRtpReceiver) -> dict[int, StreamStatistics]:
    stats: dict[int, StreamStatistics] = receiver._RTCRtpReceiver__remote_streams  # type: ignore[attr-defined]
    return stats


def tap_sender(
    sender: RTCRtpSender,
    *,
    on_parameters: Callable[[RTCRtpSendParameters, Wire], None],
    on_rtcp: Callable[[AnyRtcpPacket], None],
    sender_info: Callable[[], RtcpSenderInfo | None],
) -> None:
    """Take a subscriber-side sender: learn its parameters, its feedback, fix its reports.

    The subscriber's reports go to ``on_rtcp`` only: aiortc's own handling of them feeds its
    round-trip and remote statistics, which nothing reads, at a cost per report. The sender's
    reports are written straight to the wire, without aiortc's coroutines per packet.
    """
    original_send = sender.send
    wire: Wire | None = None

    async def send(parameters: RTCRtpSendParameters) -> None:
        # aiortc calls send() again on every renegotiation; only the first one counts.
        nonlocal wire
        await original_send(parameters)
        if wire is None:
            wire = Wire(sender.transport)
            on_parameters(parameters, wire)

    async def handle_rtcp_packet(packet: AnyRtcpPacket) -> None:
        on_rtcp(packet)

    async def send_rtcp(packets: list[AnyRtcpPacket]) -> None:
        if wire is None or sender.transport.state != "connected":
            return
        out = b""
        for packet in packets:
            if isinstance(packet, RtcpSrPacket):
                info = sender_info()
                if info is None:
                    # Nothing forwarded yet: an SR with zero times would mislead the peer.
                    return
                packet = RtcpSrPacket(ssrc=packet.ssrc, sender_info=info)
            out += bytes(packet)
        wire.send_rtcp(out)

    sender.send = send  # type: ignore[method-assign]
    sender._handle_rtcp_packet = handle_rtcp_packet  # type: ignore[method-assign]
    sender._send_rtcp = send_rtcp  # type: ignore[method-assign]


def drop_incoming_rtp(pc: RTCPeerConnection, drop: Callable[[bytes], bool]) -> None:
    """Drop incoming SRTP packets for which ``drop(datagram)`` is true (loss simulation)."""
    for transceiver in pc.getTransceivers():
        ice = transceiver.receiver.transport.transport
        if getattr(ice, _RECV_MARK, False):
            continue
        original: Callable[[], Awaitable[bytes]] = ice._recv

        async def recv(original: Callable[[], Awaitable[bytes]] = original) -> bytes:
            while True:
                data = await original()
                first = data[0]
                is_rtp = 127 < first < 192 and not 192 <= data[1] <= 223
                if not (is_rtp and drop(data)):
                    return data

        ice._recv = recv
        setattr(ice, _RECV_MARK, True)


def enlarge_receive_buffers(pc: RTCPeerConnection, size: int) -> int:
    """Ask for ``size`` bytes of receive buffer on every ICE socket of ``pc`` (after
    gathering); the smallest size the kernel granted (it caps the request at
    ``net.core.rmem_max`` and reports twice what it reserves for data)."""
    granted = []
    for transceiver in pc.getTransceivers():
        connection = transceiver.receiver.transport.transport.iceGatherer._connection
        for protocol in connection._protocols:
            sock = protocol.transport.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
            granted.append(sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))
    return min(granted, default=0)


def throttle_remb(pc: RTCPeerConnection, interval: float = 0.2) -> None:
    """Let the receivers of ``pc`` send a REMB at most every ``interval`` seconds.

    aiortc's receiver sends one with every packet while its delay detector reads
    "overusing"; libwebrtc's REMB throttler sends one at most every 200 ms.
    """
    for transceiver in pc.getTransceivers():
        receiver = transceiver.receiver
        original: Callable[[AnyRtcpPacket], Awaitable[None]] = receiver._send_rtcp
        last = [-1e9]

        async def send_rtcp(
            packet: AnyRtcpPacket,
            original: Callable[[AnyRtcpPacket], Awaitable[None]] = original,
            last: list[float] = last,
        ) -> None:
            if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
                now = time.monotonic()
                if now - last[0] < interval:
                    return
                last[0] = now
            await original(packet)

        receiver._send_rtcp = send_rtcp  # type: ignore[method-assign]


def decode_on_loop(pc: RTCPeerConnection) -> None:
    """Let the receivers of ``pc`` decode on the event loop instead of in a thread each.

    aiortc hands every encoded frame to a decoder thread and every decoded frame back to the
    loop: two thread wake-ups per frame, which cost a benchmark client with audio and video
    about as much as decoding the audio. Here a frame is decoded where the receiver completes
    it and its pictures or samples go straight to the track's queue; a frame that fails to
    decode is logged and reported (a keyframe request follows) as aiortc's thread does. The
    thread aiortc still starts only waits for the receiver to stop, then ends the track.
    Call before the connection is established (the receivers start their thread then).
    """
    for transceiver in pc.getTransceivers():
        receiver = transceiver.receiver
        receiver._RTCRtpReceiver__decoder_queue = _LoopDecoder(  # type: ignore[attr-defined]
            receiver,
            receiver._RTCRtpReceiver__decoder_error,  # type: ignore[attr-defined]
        )


class _LoopDecoder:
    """Stands for a receiver's decoder queue: decodes what it is given, at once."""

    def __init__(self, receiver: RTCRtpReceiver, decode_error: threading.Event) -> None:
        self._receiver = receiver
        self._decode_error = decode_error
        self._decoders: dict[str, Any] = {}
        self._stopped = threading.Event()

    def put(self, item: tuple[RTCRtpCodecParameters, JitterFrame] | None) -> None:
        if item is None:  # the receiver stops
            self._stopped.set()
            return
        codec, encoded_frame = item
        decoder = self._decoders.get(codec.name)
        if decoder is None:
            decoder = self._decoders[codec.name] = get_decoder(codec)
        try:
            frames = decoder.decode(encoded_frame)
        except av.FFmpegError as exc:
            _receiver_log.warning(
                "RTCRtpReceiver(%s) failed to decode %s frame: %s",
                codec.mimeType.split("/")[0],
                codec.name,
                exc,
            )
            self._decode_error.set()
            return
        queue = self._receiver._track._queue  # type: ignore[union-attr]
        for frame in frames:
            queue.put_nowait(frame)

    def get(self) -> None:
        """aiortc's decoder thread: nothing to decode; wait for the receiver to stop."""
        self._stopped.wait()


async def missing_members() -> list[str]:
    """The members of :data:`PRIVATE_MEMBERS` an installed aiortc/aioice no longer has."""
    pc = RTCPeerConnection()
    try:
        transceiver = pc.addTransceiver("video")
        dtls = transceiver.receiver.transport
        ice = dtls.transport
        connection = ice.iceGatherer._connection
        objects: dict[str, Any] = {
            "aioice.Connection": connection,
            "aioice.CandidatePair": aioice.ice.CandidatePair(
                protocol=None,  # type: ignore[arg-type]
                remote_candidate=aioice.Candidate(
                    foundation="1",
                    component=1,
                    transport="udp",
                    priority=1,
                    host="127.0.0.1",
                    port=9,
                    type="host",
                ),
            ),
            "aiortc.RTCPeerConnection": pc,
            "aiortc.RTCRtpReceiver": transceiver.receiver,
            "aiortc.RemoteStreamTrack": RemoteStreamTrack(kind="video"),
            "aiortc.RTCRtpSender": transceiver.sender,
            "aiortc.RTCRtpTransceiver": transceiver,
            "aiortc.RTCDtlsTransport": dtls,
            "aiortc.RTCIceTransport": ice,
            "aiortc.RTCIceGatherer": ice.iceGatherer,
            "pylibsrtp.Session": Session(),
            "pylibsrtp._binding.lib": _srtp_lib,
        }
        return [
            f"{owner}.{name}"
            for owner, name in PRIVATE_MEMBERS
            if not hasattr(objects[owner], name)
        ]
    finally:
        await pc.close()
