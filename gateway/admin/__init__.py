"""The operator's surface beside the metrics: the REST admin API (``/api/v1``), the dashboard
(``/dashboard``) and the example pages (``/examples/``).

:func:`install` mounts the routes and adds the cleanup context that builds the API's state
once the hub and the delivery queue exist; the gateway hands over what the API needs through
``parts`` so that this package does not reach into the application's keys.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from core.delivery import DeliveryQueue
from core.hub import Hub
from gateway.admin.api import ADMIN, PREFIX, AdminApi, DialectInfo, add_routes
from gateway.admin.recordings import AdminRecordings
from gateway.config import Settings
from gateway.metrics import Metrics

__all__ = ["ADMIN", "PREFIX", "AdminApi", "AdminParts", "DialectInfo", "install"]

STATIC = Path(__file__).with_name("static")
CHECKOUT = Path(__file__).resolve().parents[2]
#: The example pages, present in a source checkout.
EXAMPLES = CHECKOUT / "examples"
#: The vendors' SDKs, present once ``make deps`` (npm) ran in a checkout.
SDKS = CHECKOUT / "tests" / "e2e" / "node_modules"


@dataclass(frozen=True)
class AdminParts:
    """What the admin API needs from the running gateway."""

    hub: Hub
    deliveries: DeliveryQueue
    metrics: Metrics
    dialects: Callable[[], list[DialectInfo]]


async def dashboard(request: web.Request) -> web.FileResponse:
    return web.FileResponse(STATIC / "dashboard.html", headers={"Cache-Control": "no-cache"})


async def examples_index(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/examples/index.html")


def install(
    app: web.Application,
    settings: Settings,
    parts: Callable[[web.Application], AdminParts],
) -> None:
    """Mount what ``[admin]`` enables; call between the services' and the dialects' cleanup
    contexts, so that recordings stop after the dialects and before the delivery queue."""
    admin = settings.admin
    if not admin.enabled:
        return
    add_routes(app)
    if admin.dashboard:
        app.router.add_get("/dashboard", dashboard, name="dashboard")
        app.router.add_static("/dashboard/static", STATIC, name="dashboard_static")
    if admin.examples and EXAMPLES.is_dir():
        app.router.add_get("/examples", examples_index)
        app.router.add_get("/examples/", examples_index)
        if SDKS.is_dir():
            app.router.add_static("/examples/sdk", SDKS, name="examples_sdk")
        app.router.add_static("/examples", EXAMPLES, name="examples", show_index=True)

    state_dir = Path(settings.storage.state_dir)

    async def admin_ctx(app: web.Application) -> AsyncIterator[None]:
        p = parts(app)
        recordings = AdminRecordings(
            p.hub,
            p.deliveries,
            work_dir=state_dir / "recording-work",
            recordings_dir=Path(admin.recordings_dir),
            metrics=p.metrics,
        )
        app[ADMIN] = AdminApi(
            hub=p.hub,
            recordings=recordings,
            dialects=p.dialects,
            token=admin.token,
            started_at=time.time(),
        )
        try:
            yield
        finally:
            await recordings.close()

    app.cleanup_ctx.append(admin_ctx)
