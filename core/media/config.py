"""Configuration of the media plane."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IceServer:
    """A STUN or TURN server offered to every peer connection."""

    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True)
class MediaConfig:
    """Settings of the forwarding plane; every field has a default that reaches no network."""

    ice_servers: tuple[IceServer, ...] = ()
    #: Addresses to gather host candidates on. Empty: every interface address, 127.0.0.1
    #: included (aioice leaves the loopback address out on its own).
    host_addresses: tuple[str, ...] = ()
    #: Minimum interval between two keyframe requests sent to a publisher. A request that
    #: comes sooner is deferred to the end of the interval, never dropped.
    keyframe_request_interval: float = 0.5
    #: Packets kept per published track to answer NACKs (rounded up to a power of two).
    packet_cache_size: int = 1024
    #: Serve a late joiner from the cached last keyframe when it is at most this old
    #: (seconds); 0 disables it and a late joiner always waits for a requested keyframe.
    cached_keyframe_max_age: float = 1.0
    #: Minimum interval between two REMB messages sent to a publisher.
    remb_interval: float = 1.0
    #: A publisher whose media has flowed and then sends no RTP packet at all for this long
    #: (seconds) is lost: its endpoint closes with reason "lost", long before ICE consent
    #: (about 30 s) would notice a client that vanished. 0 disables the check.
    publisher_silence_timeout: float = 1.5
