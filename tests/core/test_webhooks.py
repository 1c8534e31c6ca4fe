"""The webhook dispatcher against a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from core.delivery import Backoff
from core.webhooks import DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, WebhookDispatcher, verify
from gateway.http_client import AiohttpClient
from tests.core.test_delivery import FAST, Receiver, http, receiver

__all__ = ["http", "receiver"]  # fixtures


async def test_posts_signed_json(tmp_path: Path, receiver: Receiver, http: AiohttpClient) -> None:
    hooks = WebhookDispatcher(tmp_path / "w.sqlite", http, secret="s3cret", backoff=FAST)
    await hooks.start()
    hook = await hooks.send(
        f"{receiver.url}/hook", {"status": "upload_ready"}, event="upload_ready"
    )
    await asyncio.wait_for(hooks.wait(hook), 5)
    await hooks.close()

    ((headers, body),) = receiver.posts
    assert json.loads(body) == {"status": "upload_ready"}
    assert headers["Content-Type"] == "application/json"
    assert headers[EVENT_HEADER] == "upload_ready"
    assert headers[DELIVERY_HEADER] == hook
    assert verify(b"s3cret", body, headers[SIGNATURE_HEADER])
    assert not verify(b"other", body, headers[SIGNATURE_HEADER])


async def test_retries_after_500(tmp_path: Path, receiver: Receiver, http: AiohttpClient) -> None:
    receiver.statuses = [500]
    hooks = WebhookDispatcher(tmp_path / "w.sqlite", http, backoff=FAST)
    await hooks.start()
    hook = await hooks.send(f"{receiver.url}/hook", {"n": 1})
    attempt = await asyncio.wait_for(hooks.wait(hook), 5)
    await hooks.close()
    assert attempt.status == 200
    assert receiver.requests == 2
    ((headers, body),) = receiver.posts
    assert SIGNATURE_HEADER not in headers
    assert json.loads(body) == {"n": 1}


async def test_a_restart_loses_no_event(
    tmp_path: Path, receiver: Receiver, http: AiohttpClient
) -> None:
    receiver.statuses = [500]
    db = tmp_path / "w.sqlite"
    first = WebhookDispatcher(db, http, backoff=Backoff(initial=60))
    await first.start()
    hook = await first.send(f"{receiver.url}/hook", {"n": 2})
    await asyncio.wait_for(first.queue.wait(hook, ok_only=False), 5)
    await first.close()
    assert receiver.posts == []

    second = WebhookDispatcher(db, http, backoff=FAST)
    await second.start()
    await second.queue.retry_now()
    await asyncio.wait_for(second.wait(hook), 5)
    await second.close()
    ((headers, body),) = receiver.posts
    assert json.loads(body) == {"n": 2}
    assert headers[DELIVERY_HEADER] == hook
