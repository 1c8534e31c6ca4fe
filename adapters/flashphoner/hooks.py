"""WCS REST hooks: the gateway POSTs WCS-shaped JSON to ``{backend}/{method}`` per appKey.

Permitting hooks (``connect``, ``publishStream``, ``playStream``) are awaited: a non-200
answer denies the action, with the answer's reason phrase as the reason the client is told.
A backend that cannot be reached follows the app's ``on_unreachable`` policy. The other hooks
(``unPublishStream``, ``stopStream``, ``ConnectionStatusEvent``, ``StreamStatusEvent``) are
notifications: sent in the background, their answer ignored.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import structlog

from adapters.flashphoner.settings import RestHookApp

log = structlog.get_logger(__name__)

PERMITTING = frozenset({"connect", "publishStream", "playStream"})
NOTIFYING = frozenset(
    {"unPublishStream", "stopStream", "ConnectionStatusEvent", "StreamStatusEvent"}
)

#: The reason a client hears when a hook denies without a reason phrase of its own.
RESTRICTED = "Restricted access"


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str | None = None


ALLOW = Decision(True)


class RestHooks:
    """The hook client of one dialect runtime; owns its HTTP session and background sends."""

    def __init__(self, apps: Mapping[str, RestHookApp]) -> None:
        self._apps = dict(apps)
        self._http: aiohttp.ClientSession | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def _app(self, app_key: str, method: str) -> RestHookApp | None:
        app = self._apps.get(app_key)
        if app is None or (app.methods and method not in app.methods):
            return None
        return app

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def permit(self, app_key: str, method: str, body: Mapping[str, Any]) -> Decision:
        """Ask the backend whether ``method`` may proceed; ALLOW when no hook is configured."""
        app = self._app(app_key, method)
        if app is None:
            return ALLOW
        url = f"{app.backend.rstrip('/')}/{method}"
        try:
            async with self._session().post(
                url, json=dict(body), timeout=aiohttp.ClientTimeout(total=app.timeout)
            ) as response:
                await response.read()
                if response.status == 200:
                    return ALLOW
                reason = response.reason or RESTRICTED
                log.info("rest_hook_denied", method=method, app_key=app_key, status=response.status)
                return Decision(False, reason)
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            allowed = app.on_unreachable == "allow"
            log.warning(
                "rest_hook_unreachable",
                method=method,
                app_key=app_key,
                error=type(exc).__name__,
                allowed=allowed,
            )
            return ALLOW if allowed else Decision(False, RESTRICTED)

    def notify(self, app_key: str, method: str, body: Mapping[str, Any]) -> None:
        """Send a notification hook in the background (nothing happens without a hook)."""
        app = self._app(app_key, method)
        if app is None:
            return
        task = asyncio.get_running_loop().create_task(
            self._send(app, method, dict(body)), name=f"hook:{method}"
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _send(self, app: RestHookApp, method: str, body: dict[str, Any]) -> None:
        url = f"{app.backend.rstrip('/')}/{method}"
        try:
            async with self._session().post(
                url, json=body, timeout=aiohttp.ClientTimeout(total=app.timeout)
            ) as response:
                await response.read()
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            log.warning("rest_hook_unreachable", method=method, error=type(exc).__name__)

    async def drain(self, *, grace: float = 2.0) -> None:
        """Give pending notifications ``grace`` seconds, then cancel them."""
        pending = tuple(self._pending)
        if pending:
            _, late = await asyncio.wait(pending, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late)

    async def close(self) -> None:
        await self.drain()
        if self._http is not None:
            await self._http.close()
            self._http = None
