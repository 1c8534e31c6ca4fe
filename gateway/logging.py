"""Logging, configured once per process.

structlog renders every record, its own and the standard library's (aiortc, aioice, aiohttp),
through the same processors, as JSON lines or for a console. Ids that adapters bind with
``structlog.contextvars.bind_contextvars`` (``conn_id``, ``dialect``, ``session_id``,
``stream``) appear on every line logged while they are bound.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import TextIO

import structlog
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from structlog.typing import EventDict, Processor, WrappedLogger

REDACTED = "[redacted]"
# Never logged at any level: credentials.
SECRET_KEYS = frozenset(
    {
        "password",
        "passwd",
        "credential",
        "credentials",
        "token",
        "secret",
        "ice_pwd",
        "authorization",
    }
)
# Logged at debug level only: session descriptions and ICE candidates carry the ICE password
# and the host's addresses.
DEBUG_ONLY_KEYS = frozenset({"sdp", "offer", "answer", "candidate"})


def redact(_: WrappedLogger, method: str, event: EventDict) -> EventDict:
    """Mask credentials always, and SDP-like fields above debug level."""
    debug = method == "debug"
    for key in list(event):
        k = key.lower()
        if k in SECRET_KEYS or (not debug and k in DEBUG_ONLY_KEYS):
            event[key] = REDACTED
    return event


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.add_log_level,
        structlog.stdlib.PositionalArgumentsFormatter(),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        redact,
    ]


def configure_logging(
    *,
    format: str = "console",
    level: str = "info",
    loggers: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> None:
    """Route structlog and the standard library through one handler on the root logger.

    ``loggers`` sets the level of named standard-library loggers (``aioice``, ``aiortc``...).
    """
    shared = _shared_processors()
    renderer: Processor
    if format == "json":
        renderer = structlog.processors.JSONRenderer()
        shared = [*shared, structlog.processors.dict_tracebacks]
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=(stream or sys.stderr).isatty())

    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            *shared,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name, logger_level in (loggers or {}).items():
        logging.getLogger(name).setLevel(logger_level.upper())


class AccessLogger(AbstractAccessLogger):
    """One ``http_request`` line per request, with the path but never the query string
    (it may carry tokens)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        structlog.stdlib.get_logger("aiohttp.access").info(
            "http_request",
            method=request.method,
            path=request.path,
            status=response.status,
            duration_ms=round(time * 1000, 1),
            remote=request.remote,
        )

    @property
    def enabled(self) -> bool:
        return self.logger.isEnabledFor(logging.INFO)
