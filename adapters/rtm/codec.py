"""The RTM wire format: JSON text frames ``{type, client_id, session_id, data}``.

Pure: text becomes a typed :class:`Frame` and back; no I/O. A frame that is not JSON, has no
known ``type`` or lacks a field raises :class:`CodecError`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar


class CodecError(ValueError):
    """The text is not an RTM frame this server understands."""


@dataclass(frozen=True)
class Sdp:
    """An RTCSessionDescription: ``{type, sdp}``."""

    type: str
    sdp: str

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "sdp": self.sdp}


@dataclass(frozen=True)
class IceCandidate:
    """An RTCIceCandidate; an empty ``candidate`` ends the candidates."""

    candidate: str
    sdp_mid: str | None = None
    sdp_mline_index: int | None = None
    username_fragment: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "candidate": self.candidate,
            "sdpMid": self.sdp_mid,
            "sdpMLineIndex": self.sdp_mline_index,
        }
        if self.username_fragment is not None:
            out["usernameFragment"] = self.username_fragment
        return out


class Message:
    """Base of every message body; ``TYPE`` is the wire ``type``."""

    TYPE: ClassVar[str] = ""

    def to_json(self) -> dict[str, Any]:
        return {}


@dataclass(frozen=True)
class SessionStart(Message):
    TYPE: ClassVar[str] = "session_start"
    sdp: Sdp
    webhook_url: str | None = None
    version: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"sdp": self.sdp.to_json()}
        if self.webhook_url is not None:
            out["webhook_url"] = self.webhook_url
        if self.version is not None:
            out["version"] = self.version
        return out


@dataclass(frozen=True)
class SupervisorJoinSession(Message):
    TYPE: ClassVar[str] = "supervisor_join_session"
    sdp: Sdp
    session_id_to_monitor: str
    webhook_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "sdp": self.sdp.to_json(),
            "session_id_to_monitor": self.session_id_to_monitor,
        }
        if self.webhook_url is not None:
            out["webhook_url"] = self.webhook_url
        return out


@dataclass(frozen=True)
class SdpUpdate(Message):
    TYPE: ClassVar[str] = "sdp_update"
    sdp: Sdp

    def to_json(self) -> dict[str, Any]:
        return {"sdp": self.sdp.to_json()}


@dataclass(frozen=True)
class Candidate(Message):
    TYPE: ClassVar[str] = "candidate"
    candidate: IceCandidate

    def to_json(self) -> dict[str, Any]:
        return {"candidate": self.candidate.to_json()}


@dataclass(frozen=True)
class RecordingStart(Message):
    TYPE: ClassVar[str] = "recording_start"
    upload_url: str | None = None
    webhook_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            k: v
            for k, v in (("upload_url", self.upload_url), ("webhook_url", self.webhook_url))
            if v is not None
        }


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
    state: str
    termination_cause: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"state": self.state}
        if self.termination_cause is not None:
            out["termination_cause"] = self.termination_cause
        return out


@dataclass(frozen=True)
class RecordingState(Message):
    TYPE: ClassVar[str] = "recording_state"
    recording_id: str
    state: str

    def to_json(self) -> dict[str, Any]:
        return {"recording_id": self.recording_id, "state": self.state}


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


def _str(data: dict[str, Any], key: str, *, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise CodecError(f"data.{key} is missing")
        return None
    if not isinstance(value, str):
        raise CodecError(f"data.{key} must be a string")
    return value


def _sdp(data: dict[str, Any]) -> Sdp:
    value = data.get("sdp")
    if not isinstance(value, dict):
        raise CodecError("data.sdp must be an object {type, sdp}")
    kind, text = value.get("type"), value.get("sdp")
    if not isinstance(kind, str) or not isinstance(text, str):
        raise CodecError("data.sdp needs a string type and a string sdp")
    return Sdp(kind, text)


def _candidate(data: dict[str, Any]) -> IceCandidate:
    value = data.get("candidate")
    if value is None:
        return IceCandidate("")
    if isinstance(value, str):
        return IceCandidate(value)
    if not isinstance(value, dict):
        raise CodecError("data.candidate must be an object")
    text = value.get("candidate") or ""
    mid = value.get("sdpMid")
    index = value.get("sdpMLineIndex")
    ufrag = value.get("usernameFragment")
    if not isinstance(text, str) or not isinstance(mid, str | None):
        raise CodecError("data.candidate has fields of the wrong type")
    if index is not None and (not isinstance(index, int) or isinstance(index, bool)):
        raise CodecError("data.candidate.sdpMLineIndex must be an integer")
    return IceCandidate(text, mid, index, ufrag if isinstance(ufrag, str) else None)


def _body(kind: str, data: dict[str, Any]) -> Message:
    if kind == SessionStart.TYPE:
        return SessionStart(_sdp(data), _str(data, "webhook_url", required=False), _version(data))
    if kind == SupervisorJoinSession.TYPE:
        target = _str(data, "session_id_to_monitor")
        assert target is not None
        return SupervisorJoinSession(_sdp(data), target, _str(data, "webhook_url", required=False))
    if kind == SdpUpdate.TYPE:
        return SdpUpdate(_sdp(data))
    if kind == Candidate.TYPE:
        return Candidate(_candidate(data))
    if kind == RecordingStart.TYPE:
        return RecordingStart(
            _str(data, "upload_url", required=False), _str(data, "webhook_url", required=False)
        )
    simple: dict[str, type[Message]] = {
        RecordingStop.TYPE: RecordingStop,
        SessionStop.TYPE: SessionStop,
        Ping.TYPE: Ping,
        Pong.TYPE: Pong,
    }
    if kind in simple:
        return simple[kind]()
    if kind == SessionState.TYPE:
        state = _str(data, "state")
        assert state is not None
        return SessionState(state, _str(data, "termination_cause", required=False))
    if kind == RecordingState.TYPE:
        rec, state = _str(data, "recording_id"), _str(data, "state")
        assert rec is not None and state is not None
        return RecordingState(rec, state)
    raise CodecError(f"unknown message type {kind!r}")


def _version(data: dict[str, Any]) -> str | None:
    value = data.get("version")
    return None if value is None else str(value)


def decode(text: str | bytes) -> Frame:
    """Parse one wire frame."""
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise CodecError(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise CodecError("a frame must be a JSON object")
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
