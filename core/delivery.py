"""Durable delivery of finished files: to a local directory (default) or by HTTP PUT.

A delivery is a row in a small sqlite3 database before anything is attempted, and the file
stays where it is until its delivery succeeded. Failed attempts are retried with exponential
backoff; a gateway that restarts opens the same database and resumes every pending delivery.

The core does no HTTP itself: it is handed an :class:`HttpClient` (the gateway's is built on
aiohttp). :class:`DurableQueue` is the part shared with :mod:`core.webhooks`.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import secrets
import shutil
import sqlite3
import time
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

import structlog

from core.tasks import TaskOwner

log = structlog.get_logger(__name__)

T = TypeVar("T")


class HttpClient(Protocol):
    """The HTTP the core needs; implementations raise ``OSError`` (or a subclass) or
    ``TimeoutError`` when no status was received."""

    async def put(self, url: str, path: Path, headers: Mapping[str, str]) -> int:
        """PUT the file at ``path`` to ``url``; the response status."""
        ...

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        """POST ``body`` to ``url``; the response status."""
        ...


@dataclass(frozen=True)
class Backoff:
    """Delay before retry ``n`` (1-based): ``initial * factor**(n-1)``, at most ``maximum``."""

    initial: float = 2.0
    factor: float = 2.0
    maximum: float = 300.0

    def delay(self, attempt: int) -> float:
        return float(min(self.maximum, self.initial * self.factor ** max(0, attempt - 1)))


# -- the durable queue ---------------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """One row of a :class:`DurableQueue`."""

    id: str
    spec: dict[str, Any]
    body: bytes
    attempts: int
    next_at: float
    created_at: float


@dataclass(frozen=True)
class Attempt:
    """What one attempt of a job gave: ``status`` is None when no response came back."""

    ok: bool
    status: int | None = None
    error: str | None = None
    #: A failure no retry can mend (the file is gone): the job is abandoned at once.
    final: bool = False


_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    spec TEXT NOT NULL,
    body BLOB NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_at REAL NOT NULL,
    created_at REAL NOT NULL,
    done_at REAL,
    last_status INTEGER,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_due ON jobs (state, next_at);
"""


class DurableQueue:
    """Jobs kept in sqlite3 and run by one worker task until they succeed.

    Every database call runs on one private thread, so the event loop never waits on the disk.
    ``run(job)`` performs an attempt; a job whose attempt is not ``ok`` is tried again after
    ``backoff``, forever unless ``max_attempts`` is set (then it is marked ``abandoned``).
    """

    def __init__(
        self,
        path: Path | str,
        run: Callable[[Job], Awaitable[Attempt]],
        *,
        name: str,
        backoff: Backoff | None = None,
        max_attempts: int = 0,
        concurrency: int = 4,
        on_attempt: Callable[[Job, Attempt], None] | None = None,
    ) -> None:
        self.path = Path(path)
        self.name = name
        self.backoff = backoff or Backoff()
        self.max_attempts = max_attempts
        self.concurrency = concurrency
        self._run = run
        self._on_attempt = on_attempt
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"{name}-db")
        self._db: sqlite3.Connection | None = None
        self._tasks = TaskOwner(name)
        self._wake = asyncio.Event()
        self._running: set[str] = set()
        self._slots = asyncio.Semaphore(concurrency)
        self._waiters: dict[str, list[asyncio.Future[Attempt]]] = {}
        self._closed = False
        self.log = log.bind(queue=name)

    # -- database, on the private thread ---------------------------------------------------

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._in_thread, fn)

    def _in_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        if self._db is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(_SCHEMA)
            self._db = db
        return fn(self._db)

    @staticmethod
    def _row(row: tuple[Any, ...]) -> Job:
        return Job(row[0], json.loads(row[1]), bytes(row[2]), row[3], row[4], row[5])

    # -- public ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Open the database and start the worker (pending jobs resume at once)."""
        await self._call(lambda db: None)
        pending = await self.count("pending")
        if pending:
            self.log.info("queue_resumed", pending=pending)
        self._tasks.spawn(self._worker(), name=f"{self.name}-worker")

    async def add(self, spec: Mapping[str, Any], body: bytes = b"", *, job_id: str = "") -> str:
        """Store a job durably, then wake the worker; returns its id."""
        job_id = job_id or secrets.token_hex(12)
        now = time.time()
        text = json.dumps(dict(spec), separators=(",", ":"))

        def insert(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO jobs (id, spec, body, next_at, created_at) VALUES (?, ?, ?, ?, ?)",
                (job_id, text, body, now, now),
            )

        await self._call(insert)
        self._wake.set()
        return job_id

    async def wait(self, job_id: str, *, ok_only: bool = True) -> Attempt:
        """The outcome of the next attempt of ``job_id`` (the first successful one when
        ``ok_only``)."""
        while True:
            future: asyncio.Future[Attempt] = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(job_id, []).append(future)
            attempt = await future
            if attempt.ok or not ok_only:
                return attempt

    async def state(self, job_id: str) -> tuple[str, int, int | None] | None:
        """``(state, attempts, last_status)`` of a job, or None when unknown."""

        def get(db: sqlite3.Connection) -> tuple[str, int, int | None] | None:
            row = db.execute(
                "SELECT state, attempts, last_status FROM jobs WHERE id = ?", (job_id,)
            ).fetchone()
            return None if row is None else (row[0], row[1], row[2])

        return await self._call(get)

    async def count(self, state: str = "pending") -> int:
        def get(db: sqlite3.Connection) -> int:
            return int(
                db.execute("SELECT COUNT(*) FROM jobs WHERE state = ?", (state,)).fetchone()[0]
            )

        return await self._call(get)

    async def retry_now(self) -> None:
        """Make every pending job due at once (an operator's nudge; tests)."""
        await self._call(
            lambda db: db.execute("UPDATE jobs SET next_at = 0 WHERE state = 'pending'")
        )
        self._wake.set()

    async def close(self) -> None:
        """Stop the worker; attempts under way are cancelled and stay pending (idempotent)."""
        if self._closed:
            return
        self._closed = True
        await self._tasks.cancel_all()

        def shut(db: sqlite3.Connection) -> None:
            db.close()

        if self._db is not None:
            await self._call(shut)
            self._db = None
        self._executor.shutdown(wait=True)

    # -- the worker ------------------------------------------------------------------------

    async def _worker(self) -> None:
        while True:
            self._wake.clear()
            now = time.time()
            running = tuple(self._running)

            jobs, next_at = await self._call(functools.partial(self._due, now=now, running=running))
            for job in jobs:
                await self._slots.acquire()
                self._running.add(job.id)
                self._tasks.spawn(self._attempt(job), name=f"{self.name}-{job.id}")
            if jobs:
                continue
            timeout = None if next_at is None else max(0.0, next_at - time.time())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
            except TimeoutError:
                pass

    def _due(
        self, db: sqlite3.Connection, now: float, running: tuple[str, ...]
    ) -> tuple[list[Job], float | None]:
        skip = f"AND id NOT IN ({','.join('?' * len(running))})" if running else ""
        rows = db.execute(
            "SELECT id, spec, body, attempts, next_at, created_at FROM jobs "
            f"WHERE state = 'pending' AND next_at <= ? {skip} "
            "ORDER BY next_at LIMIT ?",
            (now, *running, self.concurrency),
        ).fetchall()
        nxt = db.execute(
            "SELECT MIN(next_at) FROM jobs WHERE state = 'pending' AND next_at > ?", (now,)
        ).fetchone()[0]
        return [self._row(r) for r in rows], nxt

    async def _attempt(self, job: Job) -> None:
        try:
            try:
                attempt = await self._run(job)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the job's own failure, reported and retried
                attempt = Attempt(False, None, f"{type(exc).__name__}: {exc}")
            attempts = job.attempts + 1
            now = time.time()
            if attempt.ok:
                state, next_at = "done", now
            elif attempt.final or (self.max_attempts and attempts >= self.max_attempts):
                state, next_at = "abandoned", now
            else:
                state, next_at = "pending", now + self.backoff.delay(attempts)

            def update(db: sqlite3.Connection) -> None:
                db.execute(
                    "UPDATE jobs SET state = ?, attempts = ?, next_at = ?, last_status = ?, "
                    "last_error = ?, done_at = ? WHERE id = ?",
                    (
                        state,
                        attempts,
                        next_at,
                        attempt.status,
                        attempt.error,
                        now if state != "pending" else None,
                        job.id,
                    ),
                )

            await self._call(update)
            self.log.info(
                "job_attempted",
                job_id=job.id,
                attempt=attempts,
                ok=attempt.ok,
                status=attempt.status,
                state=state,
                error=attempt.error,
            )
            if self._on_attempt is not None:
                try:
                    self._on_attempt(
                        Job(job.id, job.spec, job.body, attempts, next_at, job.created_at), attempt
                    )
                except Exception:
                    self.log.exception("job_observer_failed", job_id=job.id)
            for future in self._waiters.pop(job.id, []):
                if not future.done():
                    future.set_result(attempt)
        finally:
            self._running.discard(job.id)
            self._slots.release()
            self._wake.set()


# -- file delivery -------------------------------------------------------------------------


@dataclass(frozen=True)
class LocalDirectory:
    """Move the file into ``directory`` (the default target)."""

    directory: str

    def spec(self) -> dict[str, Any]:
        return {"target": "dir", "directory": self.directory}


@dataclass(frozen=True)
class HttpPut:
    """PUT the file to ``url``; a status in ``success`` means delivered."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    success: tuple[int, ...] = (200, 201, 204)

    def spec(self) -> dict[str, Any]:
        return {
            "target": "put",
            "url": self.url,
            "headers": dict(self.headers),
            "success": list(self.success),
        }


Target = LocalDirectory | HttpPut


@dataclass(frozen=True)
class DeliveryOutcome:
    """One attempt at delivering a file, as observers see it."""

    delivery_id: str
    path: Path
    target: str  # "dir" or "put"
    destination: str  # the directory or the URL
    attempt: int
    ok: bool
    status: int | None
    error: str | None
    meta: dict[str, Any]
    will_retry: bool
    next_attempt_at: float | None


DeliveryObserver = Callable[[DeliveryOutcome], None]


class DeliveryQueue:
    """Delivers files to their targets, durably. One per gateway.

    ``meta`` given to :meth:`deliver` (JSON-able) comes back in every
    :class:`DeliveryOutcome`, so that the dialect which asked can tell its client, also
    after a restart. A file delivered by PUT is deleted afterwards unless ``keep_uploaded``.
    """

    def __init__(
        self,
        db_path: Path | str,
        http: HttpClient | None = None,
        *,
        backoff: Backoff | None = None,
        max_attempts: int = 0,
        keep_uploaded: bool = False,
        concurrency: int = 2,
    ) -> None:
        self.http = http
        self.keep_uploaded = keep_uploaded
        self._observers: list[DeliveryObserver] = []
        self.queue = DurableQueue(
            db_path,
            self._run,
            name="delivery",
            backoff=backoff,
            max_attempts=max_attempts,
            concurrency=concurrency,
            on_attempt=self._attempted,
        )

    def observe(self, observer: DeliveryObserver) -> Callable[[], None]:
        """Call ``observer`` after every attempt; returns the function that stops it."""
        self._observers.append(observer)
        return lambda: self._observers.remove(observer) if observer in self._observers else None

    async def start(self) -> None:
        await self.queue.start()

    async def close(self) -> None:
        await self.queue.close()

    async def deliver(
        self, path: Path, target: Target, *, meta: Mapping[str, Any] | None = None
    ) -> str:
        """Queue ``path`` for ``target``; returns the delivery id (durable on return)."""
        spec = target.spec() | {"path": str(path), "meta": dict(meta or {})}
        return await self.queue.add(spec)

    async def wait(self, delivery_id: str) -> Attempt:
        """Wait until the delivery succeeded."""
        return await self.queue.wait(delivery_id)

    async def state(self, delivery_id: str) -> tuple[str, int, int | None] | None:
        return await self.queue.state(delivery_id)

    async def _run(self, job: Job) -> Attempt:
        spec = job.spec
        path = Path(spec["path"])
        if spec["target"] == "dir":
            return await asyncio.to_thread(_move, path, Path(spec["directory"]))
        if self.http is None:
            return Attempt(False, None, "no HTTP client configured")
        if not await asyncio.to_thread(path.exists):
            return Attempt(False, None, f"file {path} is missing", final=True)
        try:
            status = await self.http.put(spec["url"], path, spec.get("headers") or {})
        except (OSError, TimeoutError) as exc:
            return Attempt(False, None, f"{type(exc).__name__}: {exc}")
        if status not in spec.get("success", (200,)):
            return Attempt(False, status, f"HTTP {status}")
        if not self.keep_uploaded:
            await asyncio.to_thread(path.unlink, True)
        return Attempt(True, status)

    def _attempted(self, job: Job, attempt: Attempt) -> None:
        spec = job.spec
        retry = (
            not attempt.ok
            and not attempt.final
            and (not self.queue.max_attempts or job.attempts < self.queue.max_attempts)
        )
        outcome = DeliveryOutcome(
            delivery_id=job.id,
            path=Path(spec["path"]),
            target=spec["target"],
            destination=spec.get("url") or spec.get("directory", ""),
            attempt=job.attempts,
            ok=attempt.ok,
            status=attempt.status,
            error=attempt.error,
            meta=spec.get("meta", {}),
            will_retry=retry,
            next_attempt_at=job.next_at if retry else None,
        )
        for observer in tuple(self._observers):
            try:
                observer(outcome)
            except Exception:
                log.exception("delivery_observer_failed", delivery_id=job.id)


def _move(path: Path, directory: Path) -> Attempt:
    target = directory / path.name
    try:
        if path.resolve() == target.resolve() and path.exists():
            return Attempt(True)
        if not path.exists():
            if target.exists():  # moved before a restart cut the bookkeeping short
                return Attempt(True)
            return Attempt(False, None, f"file {path} is missing", final=True)
        directory.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(path, partial)
        os.replace(partial, target)
        path.unlink()
        return Attempt(True)
    except OSError as exc:
        return Attempt(False, None, f"{type(exc).__name__}: {exc}")
