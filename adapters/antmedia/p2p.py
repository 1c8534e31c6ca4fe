"""Ant Media peer-to-peer mode: two clients ``join`` the same id; the server pairs them and
relays ``start``, SDP, candidates and peer messages between them. No media passes here."""

from __future__ import annotations

from typing import TYPE_CHECKING

import structlog

from adapters.antmedia import codec
from core.names import StreamKey

if TYPE_CHECKING:
    from adapters.antmedia.connection import Connection

log = structlog.get_logger(__name__)


class PeerRooms:
    """Pairings of one dialect instance, by namespace and id."""

    def __init__(self) -> None:
        self._peers: dict[StreamKey, list[Connection]] = {}

    def peers(self, key: StreamKey) -> list[Connection]:
        return list(self._peers.get(key, ()))

    def join(self, conn: Connection, stream_id: str) -> None:
        from adapters.antmedia.connection import Refused

        if not stream_id:
            raise Refused("noStreamNameSpecified")
        key = conn.key(stream_id)
        peers = self._peers.setdefault(key, [])
        if conn in peers:
            return
        if len(peers) >= 2:
            raise Refused("streamIdInUse", stream_id)
        peers.append(conn)
        conn.p2p.add(stream_id)
        conn.log.info("p2p_joined", stream=stream_id, peers=len(peers))
        conn.send(codec.Joined(stream_id))
        if len(peers) == 2:
            # The first peer offers, as Ant Media does.
            peers[0].send(codec.Start(stream_id))

    def leave(self, conn: Connection, stream_id: str) -> None:
        from adapters.antmedia.connection import Refused

        key = conn.key(stream_id)
        peers = self._peers.get(key, [])
        if conn not in peers:
            raise Refused("no_peer_associated_before", stream_id)
        peers.remove(conn)
        conn.p2p.discard(stream_id)
        if not peers:
            self._peers.pop(key, None)
        conn.log.info("p2p_left", stream=stream_id)
        conn.send(codec.Leaved(stream_id))
        for other in peers:
            other.send(codec.Stop(stream_id))
            other.send(codec.Leaved(stream_id))

    def relay(self, conn: Connection, message: codec.Message) -> None:
        from adapters.antmedia.connection import Refused

        stream_id = getattr(message, "stream_id", "")
        others = [c for c in self._peers.get(conn.key(stream_id), []) if c is not conn]
        if not others:
            raise Refused("no_peer_associated_before", stream_id)
        for other in others:
            other.send(message)

    def forget(self, conn: Connection) -> None:
        for stream_id in list(conn.p2p):
            try:
                self.leave(conn, stream_id)
            except Exception:
                log.debug("p2p_forget_failed", stream=stream_id)
