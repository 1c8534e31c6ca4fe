"""Per-client limits every dialect shares: connections per address, message rate and size.

The hub enforces the limits on what clients open (sessions, streams, subscribers per stream);
this module holds the limits on how clients talk. One :class:`Limiter` per process is handed
to every dialect; each of a dialect's connections takes a :class:`ConnectionGuard` when it
opens, asks it to :meth:`~ConnectionGuard.admit` every message, and releases it when it
closes. A refusal is a :class:`~core.errors.LimitReached` whose ``details["limit"]`` names
the limit, which the dialect answers in its own words before closing the connection.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from core.errors import LimitReached

Clock = Callable[[], float]

#: ``details["limit"]`` of each refusal.
CONNECTIONS_PER_IP = "connections_per_ip"
MESSAGE_RATE = "messages_per_second"
MESSAGE_SIZE = "max_message_bytes"

#: Addresses whose request rate is tracked at once; the oldest are forgotten beyond it.
MAX_TRACKED_ADDRESSES = 10_000


@dataclass(frozen=True)
class ClientLimits:
    """How much one client may do; 0 means no limit."""

    max_message_bytes: int = 1 << 20
    messages_per_second: float = 0.0
    #: Messages a client may send at once above the steady rate (at least one).
    message_burst: int = 0
    max_connections_per_ip: int = 0


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved; one message takes one token."""

    def __init__(self, rate: float, burst: int, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = float(max(1, burst or int(rate) or 1))
        self._clock = clock
        self._tokens = self.burst
        self._at = clock()

    def take(self) -> bool:
        now = self._clock()
        self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False


class ConnectionGuard:
    """One open connection's share of the limits; :meth:`release` is idempotent."""

    def __init__(self, limiter: Limiter, address: str | None) -> None:
        self._limiter = limiter
        self.address = address
        limits = limiter.limits
        self._bucket = (
            TokenBucket(limits.messages_per_second, limits.message_burst, limiter.clock)
            if limits.messages_per_second > 0
            else None
        )
        self.released = False

    def admit(self, size: int) -> None:
        """Let one message of ``size`` bytes in, or raise :class:`LimitReached`."""
        limits = self._limiter.limits
        if limits.max_message_bytes and size > limits.max_message_bytes:
            raise LimitReached(
                f"messages are limited to {limits.max_message_bytes} bytes",
                limit=MESSAGE_SIZE,
            )
        if self._bucket is not None and not self._bucket.take():
            raise LimitReached(
                f"at most {limits.messages_per_second:g} messages per second",
                limit=MESSAGE_RATE,
            )

    def release(self) -> None:
        if not self.released:
            self.released = True
            self._limiter._release(self.address)

    def __enter__(self) -> ConnectionGuard:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class Limiter:
    """The process's client limits and the connections open from each address."""

    def __init__(self, limits: ClientLimits | None = None, clock: Clock = time.monotonic) -> None:
        self.limits = limits or ClientLimits()
        self.clock = clock
        self._open: dict[str, int] = {}
        self._requests: dict[str, TokenBucket] = {}

    @property
    def transport_max_bytes(self) -> int:
        """The size above which the transport itself drops a message: twice the limit, so
        that a message just over it is still read and answered in the dialect's words."""
        size = self.limits.max_message_bytes
        return 2 * size if size else 0

    def connect(self, address: str | None) -> ConnectionGuard:
        """A guard for a new connection from ``address`` (an IP), or :class:`LimitReached`
        when that address has its maximum of open connections."""
        limit = self.limits.max_connections_per_ip
        key = _host(address)
        if key is not None:
            count = self._open.get(key, 0)
            if limit and count >= limit:
                raise LimitReached(
                    f"at most {limit} connections from one address", limit=CONNECTIONS_PER_IP
                )
            self._open[key] = count + 1
        return ConnectionGuard(self, key)

    def admit_request(self, address: str | None) -> None:
        """Let one HTTP request from ``address`` in (the message rate, per address), or raise
        :class:`LimitReached`."""
        limits = self.limits
        if limits.messages_per_second <= 0:
            return
        key = _host(address) or ""
        bucket = self._requests.get(key)
        if bucket is None:
            if len(self._requests) >= MAX_TRACKED_ADDRESSES:
                # forget the longest-known half: their buckets have had time to refill
                for old in list(self._requests)[: MAX_TRACKED_ADDRESSES // 2]:
                    del self._requests[old]
            bucket = TokenBucket(limits.messages_per_second, limits.message_burst, self.clock)
            self._requests[key] = bucket
        if not bucket.take():
            raise LimitReached(
                f"at most {limits.messages_per_second:g} requests per second",
                limit=MESSAGE_RATE,
            )

    def _release(self, key: str | None) -> None:
        if key is None:
            return
        count = self._open.get(key, 0) - 1
        if count > 0:
            self._open[key] = count
        else:
            self._open.pop(key, None)

    def open_connections(self, address: str | None = None) -> int:
        """Connections open from ``address``, or from everywhere."""
        if address is None:
            return sum(self._open.values())
        key = _host(address)
        return self._open.get(key, 0) if key is not None else 0


def _host(address: str | None) -> str | None:
    """The IP of ``address`` (``host``, ``host:port`` or ``[v6]:port``)."""
    if not address:
        return None
    if address.startswith("["):
        return address[1:].partition("]")[0]
    if address.count(":") == 1:
        return address.partition(":")[0]
    return address
