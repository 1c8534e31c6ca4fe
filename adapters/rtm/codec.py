"""The RTM wire format: JSON text frames ``{type, client_id, session_id, data}``.

Pure: text becomes a typed :class:`Frame` and back; no I/O. A frame that is not JSON, has no
known ``type`` or lacks a field raises :class:`CodecError`. The fields of each ``data`` body are
declared on its message class with their wire name and type (:mod:`adapters.wire`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar

from adapters import wire
from adapters.wire import key, string


class CodecError(ValueError):
    """The text is not an RTM frame this server understands."""


@dataclass(frozen=True)
class Sdp:
    """An RTCSessionDescription: ``{type, sdp}``."""

    type: str = key("type", string, required=True)
    sdp: str = key("sdp", string, required=True)


def _sdp(v: Any) -> Sdp:
    if isinstance(v, dict) and isinstance(v.get("type"), str) and isinstance(v.get("sdp"), str):
        return Sdp(v["type"], v["sdp"])
    raise TypeError


@dataclass(frozen=True)
class IceCandidate:
    """An RTCIceCandidate; an empty ``candidate`` ends the candidates."""

    candidate: str = key("candidate", string, required=True)
    sdp_mid: str | None = key("sdpMid", string, keep_null=True)
    sdp_mline_index: int | None = key("sdpMLineIndex", wire.integer, keep_null=True)
    username_fragment: str | None = key("usernameFragment", string)


def _candidate(v: Any) -> IceCandidate:
    """A candidate object or its bare text; a missing text reads as empty (the end of the
    candidates) and an unusable ``usernameFragment`` as absent."""
    if isinstance(v, str):
        return IceCandidate(v)
    if not isinstance(v, dict):
        raise TypeError
    text = v.get("candidate") or ""
    mid = v.get("sdpMid")
    index = v.get("sdpMLineIndex")
    ufrag = v.get("usernameFragment")
    if not isinstance(text, str) or not isinstance(mid, str | None):
        raise TypeError
    if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
        raise TypeError
    return IceCandidate(text, mid, index, ufrag if isinstance(ufrag, str) else None)


@dataclass(frozen=True)
class Message:
    """Base of every message body; ``TYPE`` is the wire ``type``."""

    TYPE: ClassVar[str] = ""

    def to_json(self) -> dict[str, Any]:
        return wire.to_object(self)


@dataclass(frozen=True)
class SessionStart(Message):
    TYPE: ClassVar[str] = "session_start"
    sdp: Sdp = key("sdp", _sdp, required=True)
    webhook_url: str | None = key("webhook_url", string)
    version: str | None = key("version", str)


@dataclass(frozen=True)
class SupervisorJoinSession(Message):
    TYPE: ClassVar[str] = "supervisor_join_session"
    sdp: Sdp = key("sdp", _sdp, required=True)
    session_id_to_monitor: str = key("session_id_to_monitor", string, required=True)
    webhook_url: str | None = key("webhook_url", string)


@dataclass(frozen=True)
class SdpUpdate(Message):
    TYPE: ClassVar[str] = "sdp_update"
    sdp: Sdp = key("sdp", _sdp, required=True)


@dataclass(frozen=True)
class Candidate(Message):
    TYPE: ClassVar[str] = "candidate"
    candidate: IceCandidate = key("candidate", _candidate, default=IceCandidate(""))


@dataclass(frozen=True)
class RecordingStart(Message):
    TYPE: ClassVar[str] = "recording_start"
    upload_url: str | None = key("upload_url", string)
    webhook_url: str | None = key("webhook_url", string)


@dataclass(frozen=True)
class RecordingStop(Message):
    TYPE: ClassVar[str] = "recording_stop"


@dataclass(frozen=True)
class SessionStop(Message):
    TYPE: ClassVar[str] = "session_stop"


@dataclass(frozen=True)
class Ping(Message):
    TYPE: ClassVar[str] = "msg ping"


@dataclass(frozen=True)
class Pong(Message):
    TYPE: ClassVar[str] = "msg pong"


@dataclass(frozen=True)
class SessionState(Message):
    TYPE: ClassVar[str] = "session_state"
    state: str = key("state", string, required=True)
    termination_cause: str | None = key("termination_cause", string)


@dataclass(frozen=True)
class RecordingState(Message):
    TYPE: ClassVar[str] = "recording_state"
    recording_id: str = key("recording_id", string, required=True)
    state: str = key("state", string, required=True)


@dataclass(frozen=True)
class Frame:
    """One wire frame: the envelope and its typed body."""

    client_id: str
    session_id: str
    message: Message
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def type(self) -> str:
        return self.message.TYPE


# -- decoding ------------------------------------------------------------------------------

_BODIES: dict[str, type[Message]] = {
    c.TYPE: c
    for c in (
        SessionStart,
        SupervisorJoinSession,
        SdpUpdate,
        Candidate,
        RecordingStart,
        RecordingStop,
        SessionStop,
        Ping,
        Pong,
        SessionState,
        RecordingState,
    )
}


def _body(kind: str, data: dict[str, Any]) -> Message:
    cls = _BODIES.get(kind)
    if cls is None:
        raise CodecError(f"unknown message type {kind!r}")
    try:
        return wire.from_object(cls, data)
    except wire.FieldError as exc:
        raise CodecError(f"data.{exc}") from exc


def decode(text: str | bytes) -> Frame:
    """Parse one wire frame."""
    try:
        obj = wire.parse_object(text)
    except wire.NotAnObject as exc:
        raise CodecError(str(exc)) from exc.__cause__
    kind = obj.get("type")
    if not isinstance(kind, str):
        raise CodecError("type is missing")
    client_id = obj.get("client_id", "")
    session_id = obj.get("session_id", "")
    if not isinstance(client_id, str) or not isinstance(session_id, str):
        raise CodecError("client_id and session_id must be strings")
    data = obj.get("data") or {}
    if not isinstance(data, dict):
        raise CodecError("data must be an object")
    extra = {k: v for k, v in obj.items() if k not in ("type", "client_id", "session_id", "data")}
    return Frame(client_id, session_id, _body(kind, data), extra)


def encode(frame: Frame) -> str:
    """The wire text of ``frame``."""
    obj: dict[str, Any] = {
        "type": frame.type,
        "client_id": frame.client_id,
        "session_id": frame.session_id,
        "data": frame.message.to_json(),
    }
    return json.dumps(obj, separators=(",", ":"))
