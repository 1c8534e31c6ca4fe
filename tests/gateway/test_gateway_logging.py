"""One configuration for structlog and the standard library's loggers."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from gateway.logging import REDACTED, configure_logging


@pytest.fixture
def stream() -> Iterator[io.StringIO]:
    out = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield out
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.contextvars.clear_contextvars()
    structlog.reset_defaults()


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_json_lines_carry_bound_ids_for_structlog_and_stdlib(stream: io.StringIO) -> None:
    configure_logging(format="json", level="info", loggers={"aioice": "warning"}, stream=stream)
    structlog.contextvars.bind_contextvars(dialect="echo", conn_id="c1")
    structlog.stdlib.get_logger("test").info("session_opened", session_id="s1")
    logging.getLogger("aiohttp.server").warning("plain %s", "stdlib")
    logging.getLogger("aioice.ice").info("chatty")  # below the library's level
    first, second = lines(stream)
    assert first["event"] == "session_opened"
    assert (first["dialect"], first["conn_id"], first["session_id"]) == ("echo", "c1", "s1")
    assert first["level"] == "info" and "timestamp" in first
    assert second["event"] == "plain stdlib"
    assert (second["logger"], second["conn_id"]) == ("aiohttp.server", "c1")


def test_secrets_are_masked_and_sdp_only_shown_at_debug(stream: io.StringIO) -> None:
    configure_logging(format="json", level="debug", stream=stream)
    log = structlog.stdlib.get_logger("test")
    log.info("offer_received", sdp="v=0 a=ice-pwd:hunter2", token="t0k3n")
    log.debug("offer_received", sdp="v=0", credential="pw")
    info, debug = lines(stream)
    assert info["sdp"] == REDACTED and info["token"] == REDACTED
    assert debug["sdp"] == "v=0" and debug["credential"] == REDACTED


def test_console_format_renders_text(stream: io.StringIO) -> None:
    configure_logging(format="console", level="info", stream=stream)
    structlog.stdlib.get_logger("test").info("gateway_ready", node_id="n1")
    text = stream.getvalue()
    assert "gateway_ready" in text and "node_id" in text and "n1" in text
