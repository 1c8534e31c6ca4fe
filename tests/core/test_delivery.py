"""Delivery of files to a directory and by PUT to a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from aiohttp import web

from core.delivery import Backoff, DeliveryOutcome, DeliveryQueue, HttpPut, LocalDirectory
from gateway.http_client import AiohttpClient

FAST = Backoff(initial=0.05, factor=2.0, maximum=0.2)


@dataclass
class Receiver:
    """An HTTP server that takes PUT uploads and POSTed webhooks, answering ``statuses``
    first (then 200)."""

    statuses: list[int] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    posts: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    requests: int = 0
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    def _status(self) -> int:
        self.requests += 1
        return self.statuses.pop(0) if self.statuses else 200

    async def put(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = self._status()
        if status == 200:
            self.uploads[request.match_info["name"]] = body
            self.arrived.set()
        return web.Response(status=status)

    async def post(self, request: web.Request) -> web.Response:
        body = await request.read()
        status = self._status()
        if status == 200:
            self.posts.append((dict(request.headers), body))
            self.arrived.set()
        return web.Response(status=status)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_put("/upload/{name}", receiver.put)
    app.router.add_post("/hook", receiver.post)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{port}"
    yield receiver
    await runner.cleanup()


@pytest.fixture
async def http() -> AsyncIterator[AiohttpClient]:
    client = AiohttpClient(timeout=5)
    yield client
    await client.close()


def a_file(tmp_path: Path, name: str = "rec.webm", size: int = 300_000) -> tuple[Path, bytes]:
    data = bytes(range(256)) * (size // 256)
    path = tmp_path / "spool" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path, data


async def test_put_delivers_and_removes_the_file(
    tmp_path: Path, receiver: Receiver, http: AiohttpClient
) -> None:
    queue = DeliveryQueue(tmp_path / "q.sqlite", http, backoff=FAST)
    await queue.start()
    path, data = a_file(tmp_path)
    delivery = await queue.deliver(path, HttpPut(f"{receiver.url}/upload/a"))
    attempt = await asyncio.wait_for(queue.wait(delivery), 5)
    await queue.close()

    assert attempt.ok and attempt.status == 200
    assert receiver.uploads["a"] == data
    assert not path.exists()


async def test_failed_put_keeps_the_file_and_retries(
    tmp_path: Path, receiver: Receiver, http: AiohttpClient
) -> None:
    receiver.statuses = [500, 503]
    queue = DeliveryQueue(tmp_path / "q.sqlite", http, backoff=FAST)
    outcomes: list[DeliveryOutcome] = []
    queue.observe(outcomes.append)
    await queue.start()
    path, data = a_file(tmp_path)
    delivery = await queue.deliver(
        path, HttpPut(f"{receiver.url}/upload/b", success=(200,)), meta={"rec_id": "r1"}
    )
    await asyncio.wait_for(queue.wait(delivery), 5)
    await queue.close()

    assert [(o.ok, o.status, o.will_retry) for o in outcomes] == [
        (False, 500, True),
        (False, 503, True),
        (True, 200, False),
    ]
    assert outcomes[0].meta == {"rec_id": "r1"}
    assert receiver.uploads["b"] == data


async def test_pending_delivery_resumes_after_a_restart(
    tmp_path: Path, receiver: Receiver, http: AiohttpClient
) -> None:
    receiver.statuses = [500]
    db = tmp_path / "q.sqlite"
    first = DeliveryQueue(db, http, backoff=Backoff(initial=60))
    failed = asyncio.Event()
    first.observe(lambda outcome: failed.set())
    await first.start()
    path, data = a_file(tmp_path)
    delivery = await first.deliver(path, HttpPut(f"{receiver.url}/upload/c"))
    await asyncio.wait_for(failed.wait(), 5)
    await first.close()  # the gateway stops; the next try was a minute away
    assert path.exists()

    second = DeliveryQueue(db, http, backoff=FAST)
    await second.start()
    await second.queue.retry_now()
    await asyncio.wait_for(second.wait(delivery), 5)
    assert await second.state(delivery) == ("done", 2, 200)
    await second.close()
    assert receiver.uploads["c"] == data


async def test_unreachable_server_is_retried(tmp_path: Path, http: AiohttpClient) -> None:
    queue = DeliveryQueue(tmp_path / "q.sqlite", http, backoff=FAST, max_attempts=2)
    outcomes: list[DeliveryOutcome] = []
    done = asyncio.Event()

    def observe(outcome: DeliveryOutcome) -> None:
        outcomes.append(outcome)
        if not outcome.will_retry:
            done.set()

    queue.observe(observe)
    await queue.start()
    path, _ = a_file(tmp_path, size=1000)
    # a port nobody listens on
    delivery = await queue.deliver(path, HttpPut("http://127.0.0.1:9/upload/x"))
    await asyncio.wait_for(done.wait(), 5)
    assert await queue.state(delivery) == ("abandoned", 2, None)
    await queue.close()
    assert [o.status for o in outcomes] == [None, None]
    assert path.exists()


async def test_local_directory_target(tmp_path: Path) -> None:
    queue = DeliveryQueue(tmp_path / "q.sqlite")
    await queue.start()
    path, data = a_file(tmp_path)
    delivery = await queue.deliver(path, LocalDirectory(str(tmp_path / "out")))
    await asyncio.wait_for(queue.wait(delivery), 5)
    await queue.close()
    assert (tmp_path / "out" / "rec.webm").read_bytes() == data
    assert not path.exists()


async def test_a_missing_file_is_abandoned_at_once(tmp_path: Path, http: AiohttpClient) -> None:
    queue = DeliveryQueue(tmp_path / "q.sqlite", http, backoff=FAST)
    outcomes: list[DeliveryOutcome] = []
    queue.observe(outcomes.append)
    await queue.start()
    delivery = await queue.deliver(tmp_path / "gone.webm", HttpPut("http://127.0.0.1:9/x"))
    await asyncio.wait_for(queue.queue.wait(delivery, ok_only=False), 5)
    assert await queue.state(delivery) == ("abandoned", 1, None)
    await queue.close()
    assert [o.will_retry for o in outcomes] == [False]
