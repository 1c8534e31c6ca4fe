"""One webhook dispatcher for the whole gateway.

Dialects choose the payloads; the dispatcher delivers them: a JSON ``POST``, retried with
backoff until the receiver answers 2xx, from a durable sqlite3 outbox so that a restart loses
no event. With a secret configured every request carries an HMAC-SHA256 signature of its
body::

    X-Switchboard-Signature: sha256=<hex digest of HMAC-SHA256(secret, body)>

together with ``X-Switchboard-Event`` (the payload's event name) and
``X-Switchboard-Delivery`` (an id that stays the same across retries, for deduplication).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from core.delivery import Attempt, Backoff, DurableQueue, HttpClient, Job

log = structlog.get_logger(__name__)

SIGNATURE_HEADER = "X-Switchboard-Signature"
EVENT_HEADER = "X-Switchboard-Event"
DELIVERY_HEADER = "X-Switchboard-Delivery"


def sign(secret: bytes, body: bytes) -> str:
    """The signature header value of ``body``."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, header: str) -> bool:
    """Whether ``header`` is the signature of ``body`` (for receivers and tests)."""
    return hmac.compare_digest(sign(secret, body), header)


@dataclass(frozen=True)
class WebhookOutcome:
    """One attempt at posting a webhook, as observers (metrics) see it."""

    webhook_id: str
    url: str
    event: str
    attempt: int
    ok: bool
    status: int | None
    error: str | None
    will_retry: bool


WebhookObserver = Callable[[WebhookOutcome], None]


class WebhookDispatcher:
    """Posts webhook payloads durably. ``max_attempts`` 0 retries without end."""

    def __init__(
        self,
        db_path: Path | str,
        http: HttpClient,
        *,
        secret: bytes | str | None = None,
        backoff: Backoff | None = None,
        max_attempts: int = 20,
        concurrency: int = 4,
        user_agent: str = "switchboard-webhooks",
    ) -> None:
        self.http = http
        self.secret = secret.encode() if isinstance(secret, str) else secret
        self.user_agent = user_agent
        self.queue = DurableQueue(
            db_path,
            self._run,
            name="webhooks",
            backoff=backoff,
            max_attempts=max_attempts,
            concurrency=concurrency,
            on_attempt=self._attempted,
        )
        self._observers: list[WebhookObserver] = []

    def observe(self, observer: WebhookObserver) -> Callable[[], None]:
        """Call ``observer`` after every attempt; returns the function that stops it."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    def _attempted(self, job: Job, attempt: Attempt) -> None:
        limit = self.queue.max_attempts
        outcome = WebhookOutcome(
            webhook_id=job.id,
            url=job.spec.get("url", ""),
            event=job.spec.get("event", ""),
            attempt=job.attempts,
            ok=attempt.ok,
            status=attempt.status,
            error=attempt.error,
            will_retry=not attempt.ok and not attempt.final and (not limit or job.attempts < limit),
        )
        for observer in tuple(self._observers):
            try:
                observer(outcome)
            except Exception:
                log.exception("webhook_observer_failed", webhook_id=job.id)

    async def start(self) -> None:
        """Open the outbox and post whatever a previous run left pending."""
        await self.queue.start()

    async def close(self) -> None:
        await self.queue.close()

    async def send(self, url: str, payload: Mapping[str, Any], *, event: str = "") -> str:
        """Store the webhook in the outbox (durable on return) and post it; its id."""
        body = json.dumps(dict(payload), separators=(",", ":"), default=str).encode()
        return await self.queue.add({"url": url, "event": event}, body)

    async def wait(self, webhook_id: str) -> Attempt:
        """Wait until the webhook was accepted by its receiver."""
        return await self.queue.wait(webhook_id)

    async def _run(self, job: Job) -> Attempt:
        headers = {
            "Content-Type": "application/json",
            "User-Agent": self.user_agent,
            DELIVERY_HEADER: job.id,
        }
        if job.spec.get("event"):
            headers[EVENT_HEADER] = job.spec["event"]
        if self.secret:
            headers[SIGNATURE_HEADER] = sign(self.secret, job.body)
        try:
            status = await self.http.post(job.spec["url"], job.body, headers)
        except (OSError, TimeoutError) as exc:
            return Attempt(False, None, f"{type(exc).__name__}: {exc}")
        return Attempt(200 <= status < 300, status, None if status < 300 else f"HTTP {status}")
