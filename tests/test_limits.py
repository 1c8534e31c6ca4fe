"""The client limits: each configurable, each answered in the dialect's own words with a clean
close, and a flooding client does not hold up anyone else."""

from __future__ import annotations

import asyncio
import json
import time

import aiohttp
import pytest

from core.errors import LimitReached
from core.limits import CONNECTIONS_PER_IP, MESSAGE_RATE, MESSAGE_SIZE, ClientLimits, Limiter
from tests.fuzz.serving import RawClient, serve, settled

PING = {
    "antmedia": json.dumps({"command": "ping"}),
    "flashphoner": json.dumps({"message": "ping", "data": [None]}),
    "rtm": json.dumps({"type": "msg ping", "client_id": "c", "session_id": "", "data": {}}),
}


def is_pong(dialect: str, message: dict[str, object]) -> bool:
    if dialect == "antmedia":
        return message.get("command") == "pong"
    if dialect == "flashphoner":
        return message.get("message") == "pong"
    return message.get("type") == "msg pong"


def limit_refusal(dialect: str, message: dict[str, object]) -> bool:
    """The dialect's own words for 'you went over a limit'."""
    if dialect == "antmedia":
        return message.get("command") == "error" and message.get("definition") in (
            "highResourceUsage",
            "viewerLimitReached",
        )
    if dialect == "flashphoner":
        return message.get("message") == "fail" and any(
            isinstance(d, dict) and d.get("status") == "FAILED" and d.get("info")
            for d in message.get("data", [])  # type: ignore[union-attr]
        )
    data = message.get("data")
    return (
        message.get("type") == "session_state"
        and isinstance(data, dict)
        and data.get("state") == "TERMINATED"
        and data.get("termination_cause") == "CONN_ERROR"
    )


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    clock = Clock()
    limiter = Limiter(ClientLimits(messages_per_second=10, message_burst=5), clock=clock)
    guard = limiter.connect("10.0.0.1:5000")
    for _ in range(5):
        guard.admit(10)
    with pytest.raises(LimitReached) as refused:
        guard.admit(10)
    assert refused.value.details["limit"] == MESSAGE_RATE
    clock.now += 0.1
    guard.admit(10)


def test_size_and_connections_per_address() -> None:
    limiter = Limiter(ClientLimits(max_message_bytes=100, max_connections_per_ip=2))
    with pytest.raises(LimitReached) as refused:
        limiter.connect("10.0.0.1").admit(101)
    assert refused.value.details["limit"] == MESSAGE_SIZE
    limiter = Limiter(ClientLimits(max_connections_per_ip=2))
    a, b = limiter.connect("10.0.0.1:1"), limiter.connect("10.0.0.1:2")
    limiter.connect("10.0.0.2:1")
    with pytest.raises(LimitReached) as refused:
        limiter.connect("10.0.0.1:3")
    assert refused.value.details["limit"] == CONNECTIONS_PER_IP
    a.release()
    a.release()  # idempotent
    c = limiter.connect("[10.0.0.1]:4")
    assert limiter.open_connections("10.0.0.1") == 2
    b.release(), c.release()
    assert limiter.open_connections("10.0.0.1") == 0


@pytest.mark.parametrize("dialect", ["antmedia", "flashphoner", "rtm"])
async def test_each_websocket_limit_is_refused_in_the_dialects_words(dialect: str) -> None:
    limits = {"max_connections_per_ip": 2, "messages_per_second": 20, "message_burst": 20}
    limits["max_message_bytes"] = 4096
    async with serve(limits=limits) as served:
        url = served.ws_url(dialect)
        # connections per address
        a, b = await RawClient.connect(url), await RawClient.connect(url)
        third = await RawClient.connect(url)
        await third.wait_for(lambda m: limit_refusal(dialect, m))
        assert await third.wait_closed() is not None
        await third.close()
        await a.close()
        await settled(lambda: served.limiter.open_connections() == 1)
        # message size: just over the limit gets the dialect's answer, then a close
        big = await RawClient.connect(url)
        await big.ws.send_str(" " * 5000)
        await big.wait_for(lambda m: limit_refusal(dialect, m))
        await big.wait_closed()
        await big.close()
        # message rate
        flood = await RawClient.connect(url)
        for _ in range(60):
            if flood.closed.is_set():
                break
            await flood.ws.send_str(PING[dialect])
        await flood.wait_for(lambda m: limit_refusal(dialect, m))
        await flood.wait_closed()
        await flood.close()
        await b.close()
        await settled(lambda: served.limiter.open_connections() == 0)
        await settled(lambda: not served.hub.sessions)


async def test_whip_requests_and_sessions_per_address_are_limited() -> None:
    limits = {"messages_per_second": 5, "message_burst": 5}
    async with serve(limits=limits) as served, aiohttp.ClientSession() as http:
        statuses = []
        for _ in range(10):
            async with http.head(served.url("/whep/nothing")) as response:
                statuses.append(response.status)
                if response.status == 429:
                    assert response.headers["Retry-After"]
        assert statuses[:5] == [404] * 5
        assert 429 in statuses


async def test_sessions_streams_and_subscribers_are_configurable() -> None:
    """The hub's limits, answered by one dialect (the others map the same error)."""
    async with serve(limits={"max_sessions": 1}) as served:
        first = await RawClient.connect(served.ws_url("antmedia"))
        await settled(lambda: len(served.hub.sessions) == 1)
        second = await RawClient.connect(served.ws_url("antmedia"))
        await second.wait_for(lambda m: limit_refusal("antmedia", m))
        await second.wait_closed()
        await second.close()
        await first.close()
        await settled(lambda: not served.hub.sessions)


@pytest.mark.parametrize("dialect", ["antmedia", "flashphoner", "rtm"])
async def test_a_flooding_client_does_not_delay_another_clients_ping(dialect: str) -> None:
    """One client sends as fast as it can (bad frames, rate limit off); another's ping is
    still answered within a bound."""
    async with serve(limits={"messages_per_second": 0}) as served:
        url = served.ws_url(dialect)
        flooder = await RawClient.connect(url)
        other = await RawClient.connect(url)
        stop = asyncio.Event()

        async def flood() -> None:
            junk = '{"command": 1, "message": [], "type": {}}' * 20
            while not stop.is_set() and not flooder.closed.is_set():
                await flooder.ws.send_str(junk)
                await asyncio.sleep(0)

        task = asyncio.create_task(flood())
        try:
            await asyncio.sleep(0.3)
            delays = []
            for _ in range(5):
                before = len([m for m in other.messages() if is_pong(dialect, m)])
                started = time.monotonic()
                await other.ws.send_str(PING[dialect])
                await other.wait_for(
                    lambda m, n=before: (
                        len([x for x in other.messages() if is_pong(dialect, x)]) > n
                    ),
                    within=5,
                )
                delays.append(time.monotonic() - started)
            assert max(delays) < 1.0, delays
        finally:
            stop.set()
            await task
            await flooder.close()
            await other.close()
        await settled(lambda: not served.hub.sessions)
