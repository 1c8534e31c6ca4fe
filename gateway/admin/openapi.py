"""The OpenAPI 3.1 document of the admin API, served at ``/api/v1/openapi.json``.

Schemas are JSON Schema 2020-12 (OpenAPI 3.1's dialect) and close every object
(``additionalProperties: false``), so the test that validates real responses against them
fails when a handler and this document drift apart.
"""

from __future__ import annotations

from typing import Any

VERSION = "1.0.0"

_NUM = {"type": "number"}
_INT = {"type": "integer", "minimum": 0}
_STR = {"type": "string"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {**required, **(optional or {})},
        "required": list(required),
        "additionalProperties": False,
    }


def _list_of(field: str, item: str) -> dict[str, Any]:
    return _object({field: {"type": "array", "items": _ref(item)}})


SCHEMAS: dict[str, Any] = {
    "TrackStats": _object(
        {
            "codec": _STR,
            "packets": _INT,
            "bytes": _INT,
            "bitrate_bps": _INT,
            "fps": _NUM,
            "width": _nullable(_INT),
            "height": _nullable(_INT),
            "lost": _INT,
            "nack_count": _INT,
            "pli_count": _INT,
        }
    ),
    "StatsByKind": {
        "type": "object",
        "description": "Counters by track kind (audio, video)",
        "additionalProperties": _ref("TrackStats"),
    },
    "Track": _object({"kind": {"enum": ["audio", "video"]}, "mid": _STR, "codec": _STR}),
    "Stream": _object(
        {
            "name": _STR,
            "namespace": _STR,
            "state": {"enum": ["pending", "live", "ended"]},
            "session_id": _STR,
            "dialect": _STR,
            "created_at": _NUM,
            "live_at": _nullable(_NUM),
            "tracks": {"type": "array", "items": _ref("Track")},
            "stats": _ref("StatsByKind"),
            "subscribers": _INT,
            "recording_id": _nullable(_STR),
        }
    ),
    "StreamList": _list_of("streams", "Stream"),
    "Subscription": _object(
        {
            "id": _STR,
            "streams": {"type": "array", "items": _STR},
            "persistent": {"type": "boolean"},
            "stats": _ref("StatsByKind"),
        }
    ),
    "Session": _object(
        {
            "id": _STR,
            "dialect": _STR,
            "namespace": _STR,
            "remote": _nullable(_STR),
            "created_at": _NUM,
            "publishing": {"type": "array", "items": _STR},
            "subscriptions": {"type": "array", "items": _ref("Subscription")},
            "rooms": {"type": "array", "items": _STR},
        }
    ),
    "SessionList": _list_of("sessions", "Session"),
    "RoomMember": _object({"member_id": _STR, "session_id": _STR, "live": {"type": "boolean"}}),
    "Room": _object(
        {
            "name": _STR,
            "namespace": _STR,
            "members": {"type": "array", "items": _ref("RoomMember")},
            "live_streams": {"type": "array", "items": _STR},
        }
    ),
    "RoomList": _list_of("rooms", "Room"),
    "Recording": _object(
        {
            "id": _STR,
            "stream": _STR,
            "namespace": _STR,
            "state": {"enum": ["recording", "stopping", "finished", "empty", "failed"]},
            "format": _STR,
            "started_at": _NUM,
            "stopped_at": _nullable(_NUM),
            "stop_reason": _nullable(_STR),
            "duration_ms": _nullable(_INT),
            "size_bytes": _nullable(_INT),
            "frames": {"type": "object", "additionalProperties": _INT},
            "error": _nullable(_STR),
            "delivery_id": _nullable(_STR),
            "delivery": _nullable(
                {"enum": ["pending", "delivered", "failed_will_retry", "abandoned"]}
            ),
            "path": _nullable(_STR),
        }
    ),
    "RecordingList": _list_of("recordings", "Recording"),
    "Route": _object({"method": _STR, "path": _STR}),
    "Dialect": _object(
        {
            "name": _STR,
            "title": _STR,
            "started": {"type": "boolean"},
            "sessions": _INT,
            "routes": {"type": "array", "items": _ref("Route")},
        }
    ),
    "DialectList": _list_of("dialects", "Dialect"),
    "Status": _object(
        {
            "node_id": _STR,
            "uptime_s": _NUM,
            "sessions": _INT,
            "streams": _INT,
            "live_streams": _INT,
            "rooms": _INT,
            "recordings": _INT,
        }
    ),
    "Problem": _object(
        {"type": _STR, "title": _STR, "status": {"type": "integer"}, "detail": _STR}
    ),
}


def _json_body(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/problem+json": {"schema": _ref("Problem")}},
    }


_DENIED = {
    "401": _problem("No or a wrong bearer token (a token is configured)"),
    "403": _problem("No token is configured and the client is not on loopback"),
}
_NAME = {"name": "name", "in": "path", "required": True, "schema": _STR}
_NAMESPACE = {
    "name": "namespace",
    "in": "query",
    "required": False,
    "schema": {"type": "string", "default": "default"},
}
_ID = {"name": "id", "in": "path", "required": True, "schema": _STR}


def _op(
    op_id: str,
    summary: str,
    responses: dict[str, Any],
    parameters: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": op_id,
        "summary": summary,
        "responses": {**responses, **_DENIED},
    }
    if parameters:
        op["parameters"] = parameters
    return op


_NO_CONTENT = {"description": "Done"}


def document() -> dict[str, Any]:
    """The whole document (a fresh dict each time)."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Switchboard admin API",
            "version": VERSION,
            "description": "Streams, sessions, rooms, recordings and dialects of one gateway "
            "node. Bearer-token protected when [admin] token is set; loopback only otherwise.",
        },
        "jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "paths": {
            "/status": {
                "get": _op("getStatus", "This node at a glance", {"200": _json_body("Status", "")})
            },
            "/streams": {
                "get": _op(
                    "listStreams",
                    "Published streams with their tracks and counters",
                    {"200": _json_body("StreamList", "")},
                    [{**_NAMESPACE, "schema": _STR, "description": "only this namespace"}],
                )
            },
            "/streams/{name}": {
                "get": _op(
                    "getStream",
                    "One stream",
                    {"200": _json_body("Stream", ""), "404": _problem("No such stream")},
                    [_NAME, _NAMESPACE],
                ),
                "delete": _op(
                    "terminateStream",
                    "End the stream: its publisher is disconnected, its players told it ended",
                    {"204": _NO_CONTENT, "404": _problem("No such stream")},
                    [_NAME, _NAMESPACE],
                ),
            },
            "/streams/{name}/recording": {
                "post": _op(
                    "startRecording",
                    "Record the stream to a file, delivered to [admin] recordings_dir",
                    {
                        "201": _json_body("Recording", "Recording"),
                        "404": _problem("No such stream"),
                        "409": _problem("Not live yet, or recorded already"),
                        "422": _problem("No track that can be recorded"),
                    },
                    [_NAME, _NAMESPACE],
                ),
                "delete": _op(
                    "stopRecording",
                    "Stop the stream's recording; its file is queued for delivery",
                    {
                        "200": _json_body("Recording", "Stopped"),
                        "404": _problem("Not being recorded"),
                    },
                    [_NAME, _NAMESPACE],
                ),
            },
            "/sessions": {
                "get": _op(
                    "listSessions",
                    "Open signalling sessions of every dialect",
                    {"200": _json_body("SessionList", "")},
                    [{"name": "dialect", "in": "query", "required": False, "schema": _STR}],
                )
            },
            "/sessions/{id}": {
                "get": _op(
                    "getSession",
                    "One session",
                    {"200": _json_body("Session", ""), "404": _problem("No such session")},
                    [_ID],
                ),
                "delete": _op(
                    "terminateSession",
                    "Close the session and everything it publishes and plays",
                    {"204": _NO_CONTENT, "404": _problem("No such session")},
                    [_ID],
                ),
            },
            "/rooms": {
                "get": _op(
                    "listRooms", "Rooms and their members", {"200": _json_body("RoomList", "")}
                )
            },
            "/recordings": {
                "get": _op(
                    "listRecordings",
                    "Recordings started from this API (running and recent)",
                    {"200": _json_body("RecordingList", "")},
                )
            },
            "/recordings/{id}": {
                "get": _op(
                    "getRecording",
                    "One recording",
                    {"200": _json_body("Recording", ""), "404": _problem("No such recording")},
                    [_ID],
                )
            },
            "/dialects": {
                "get": _op(
                    "listDialects",
                    "Loaded dialects, their routes and open sessions",
                    {"200": _json_body("DialectList", "")},
                )
            },
        },
    }
