"""The Flashphoner Web Call Server "Raw WebSocket API": wire text ⇄ typed messages, nothing else.

Every frame is one JSON object ``{"message": <name>, "data": [...]}``. The WebSDK always sends
``data`` as a one-element list (``[obj]``, or ``[null]`` for a pong); a server frame must always
carry a ``data`` list, because the SDK reads ``data[0]`` before it looks at the name. Most
messages carry one object; ``setRemoteSDP`` and ``notifyAudioCodec`` are positional.

:func:`decode_client` reads what the ``@flashphoner/websdk`` SDK sends, :func:`decode_server`
what a server sends (for test clients and recorded frames); :func:`encode` writes either back.
A frame that cannot be read raises a :class:`DecodeError` subclass; the connection answers it
in WCS's own words (a stream ``FAILED`` when the frame names a ``mediaSessionId``, else a
``fail`` message).

Fields are declared once, on the message classes, with their wire name and wire type. Fields a
message does not declare are kept, in order, in ``extra`` and written back as they came: the
SDK sends many (``localMediaInfo``, ``constraints``, ``clientInfo`` ...) that the server only
echoes or ignores, and ``getUserData`` must echo the client's ``connection`` object whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

# -- decode errors -----------------------------------------------------------------------------


class DecodeError(Exception):
    """A frame that is not a message this dialect knows how to read."""

    def __init__(
        self, text: str, *, message: str | None = None, media_session_id: str | None = None
    ) -> None:
        super().__init__(text)
        self.message = message
        self.media_session_id = media_session_id


class MalformedJson(DecodeError):
    """The frame is not a JSON object."""


class UnknownMessage(DecodeError):
    """``message`` is missing or names no message of the protocol."""


class MissingField(DecodeError):
    """A mandatory field (or the ``data`` list itself) is absent or ``null``."""

    def __init__(self, wire_name: str, *, message: str | None, media_session_id: str | None = None):
        super().__init__(
            f"{message}: {wire_name} is missing", message=message, media_session_id=media_session_id
        )
        self.field = wire_name


class WrongType(DecodeError):
    """A field has a JSON type the protocol does not allow there."""

    def __init__(self, wire_name: str, *, message: str | None, media_session_id: str | None = None):
        super().__init__(
            f"{message}: {wire_name} has the wrong type",
            message=message,
            media_session_id=media_session_id,
        )
        self.field = wire_name


# -- field declarations ------------------------------------------------------------------------

Checker = Callable[[Any], Any]  # returns the Python value, raises TypeError when it does not fit


def _str(v: Any) -> str:
    if isinstance(v, str):
        return v
    raise TypeError


def _bool(v: Any) -> bool:
    if isinstance(v, bool):
        return v
    if v in ("true", "false"):
        return bool(v == "true")
    raise TypeError


def _int(v: Any) -> int:
    if isinstance(v, bool):
        raise TypeError
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise TypeError


def _str_list(v: Any) -> tuple[str, ...]:
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    raise TypeError


def _object(v: Any) -> Mapping[str, Any]:
    if isinstance(v, dict):
        return dict(v)
    raise TypeError


def _any(v: Any) -> Any:
    return v


def _wire(
    name: str,
    check: Checker,
    *,
    required: bool = False,
    default: Any = None,
    keep_null: bool = False,
) -> Any:
    """A dataclass field read from and written to the JSON key ``name``."""
    meta = {"wire": name, "check": check, "required": required, "keep_null": keep_null}
    if required:
        return field(metadata=meta)
    return field(default=default, metadata=meta)


_EXTRA = {"extra": True}


def _fields_to_wire(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(obj):
        if f.metadata.get("extra"):
            out.update(getattr(obj, f.name))
            continue
        wire = f.metadata.get("wire")
        if wire is None:
            continue
        value = getattr(obj, f.name)
        if value is None and not f.metadata["keep_null"]:
            continue
        if isinstance(value, tuple):
            value = list(value)
        elif isinstance(value, Mapping):
            value = dict(value)
        out[wire] = value
    return out


P = TypeVar("P")


def _fields_from_wire(cls: type[P], obj: Mapping[str, Any], *, message: str | None) -> P:
    msid = obj.get("mediaSessionId")
    media_session_id = msid if isinstance(msid, str) else None
    kwargs: dict[str, Any] = {}
    known: set[str] = set()
    extra_name: str | None = None
    for f in fields(cls):  # type: ignore[arg-type]
        if f.metadata.get("extra"):
            extra_name = f.name
            continue
        wire = f.metadata.get("wire")
        if wire is None:
            continue
        known.add(wire)
        if wire not in obj:
            if f.metadata["required"]:
                raise MissingField(wire, message=message, media_session_id=media_session_id)
            continue
        raw = obj[wire]
        if raw is None:
            if f.metadata["required"]:
                raise MissingField(wire, message=message, media_session_id=media_session_id)
            # A null the field would not write back stays verbatim in ``extra``.
            known.discard(wire)
            continue
        try:
            kwargs[f.name] = f.metadata["check"](raw)
        except (TypeError, ValueError) as exc:
            raise WrongType(wire, message=message, media_session_id=media_session_id) from exc
    if extra_name is not None:
        kwargs[extra_name] = {k: v for k, v in obj.items() if k not in known}
    return cls(**kwargs)


# -- messages ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Message:
    """Base of every message. ``name`` is the wire ``message``; most carry one object."""

    name: ClassVar[str] = ""

    def data(self) -> list[Any]:
        return [_fields_to_wire(self)]

    def to_wire(self) -> dict[str, Any]:
        return {"message": self.name, "data": self.data()}

    @classmethod
    def from_data(cls: type[M], data: list[Any]) -> M:
        obj = data[0] if data else None
        if not isinstance(obj, dict):
            raise WrongType("data[0]", message=cls.name)
        return _fields_from_wire(cls, obj, message=cls.name)


M = TypeVar("M", bound=Message)


@dataclass(frozen=True, kw_only=True)
class _NoArgument(Message):
    """A message whose ``data`` carries nothing the receiver reads (``[null]`` or ``[]``)."""

    raw_data: tuple[Any, ...] = (None,)

    def data(self) -> list[Any]:
        return list(self.raw_data)

    @classmethod
    def from_data(cls: type[M], data: list[Any]) -> M:
        return cls(raw_data=tuple(data))  # type: ignore[call-arg]


# -- client → server ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Connection(Message):
    """The first frame after the socket opens; ``extra`` holds everything else the SDK sends."""

    name: ClassVar[str] = "connection"
    app_key: str | None = _wire("appKey", _str)
    media_providers: tuple[str, ...] | None = _wire("mediaProviders", _str_list)
    auth_token: str | None = _wire("authToken", _str)
    custom: Mapping[str, Any] | None = _wire("custom", _object)
    keep_alive: bool | None = _wire("keepAlive", _bool)
    extra: dict[str, Any] = field(default_factory=dict, metadata=_EXTRA)


@dataclass(frozen=True, kw_only=True)
class StreamMessage(Message):
    """The stream object the SDK sends with ``publishStream``, ``playStream`` and the stops."""

    media_session_id: str = _wire("mediaSessionId", _str, required=True)
    stream_name: str = _wire("name", _str, required=True)
    published: bool | None = _wire("published", _bool)
    has_video: bool | None = _wire("hasVideo", _bool)
    has_audio: bool | None = _wire("hasAudio", _bool)
    status: str | None = _wire("status", _str)
    record: bool | None = _wire("record", _bool)
    media_provider: str | None = _wire("mediaProvider", _str)
    sdp: str | None = _wire("sdp", _str)
    custom: Mapping[str, Any] | None = _wire("custom", _object)
    extra: dict[str, Any] = field(default_factory=dict, metadata=_EXTRA)


@dataclass(frozen=True, kw_only=True)
class PublishStream(StreamMessage):
    name: ClassVar[str] = "publishStream"


@dataclass(frozen=True, kw_only=True)
class PlayStream(StreamMessage):
    name: ClassVar[str] = "playStream"


@dataclass(frozen=True, kw_only=True)
class UnPublishStream(StreamMessage):
    name: ClassVar[str] = "unPublishStream"


@dataclass(frozen=True, kw_only=True)
class StopStream(StreamMessage):
    name: ClassVar[str] = "stopStream"


@dataclass(frozen=True, kw_only=True)
class AvailableStream(Message):
    """Client: is ``name`` published? (The answer is :class:`AvailableStreamStatus`.)"""

    name: ClassVar[str] = "availableStream"
    media_session_id: str = _wire("mediaSessionId", _str, required=True)
    stream_name: str = _wire("name", _str, required=True)
    extra: dict[str, Any] = field(default_factory=dict, metadata=_EXTRA)


@dataclass(frozen=True, kw_only=True)
class SendStreamEvent(Message):
    """A publisher's mute/unmute or data event, relayed to its players."""

    name: ClassVar[str] = "sendStreamEvent"
    media_session_id: str = _wire("mediaSessionId", _str, required=True)
    type: str = _wire("type", _str, required=True)
    payload: Any = _wire("payload", _any)  # noqa: RUF009
    extra: dict[str, Any] = field(default_factory=dict, metadata=_EXTRA)


@dataclass(frozen=True, kw_only=True)
class Pong(_NoArgument):
    name: ClassVar[str] = "pong"


@dataclass(frozen=True, kw_only=True)
class Ping(_NoArgument):
    """Both directions: the server's keepalive, or a client's (``pingInterval`` > 0)."""

    name: ClassVar[str] = "ping"


@dataclass(frozen=True, kw_only=True)
class Unsupported(Message):
    """A message of the vendor protocol that Switchboard reads but does not implement."""

    message: str = ""
    raw_data: tuple[Any, ...] = ()

    def to_wire(self) -> dict[str, Any]:
        return {"message": self.message, "data": list(self.raw_data)}

    @property
    def media_session_id(self) -> str | None:
        obj = self.raw_data[0] if self.raw_data else None
        if isinstance(obj, dict) and isinstance(obj.get("mediaSessionId"), str):
            return str(obj["mediaSessionId"])
        return None


#: Client messages of the vendor protocol with no behaviour here (see docs/dialects/flashphoner.md).
UNSUPPORTED_MESSAGES = frozenset(
    {
        "snapshot",
        "sendData",
        "pushLogs",
        "submitBugReport",
        "sessionDebug",
        "webRTCMetricsClientDescription",
        "webRTCMetricsBatch",
        "call",
        "answer",
        "hangup",
        "hold",
        "unhold",
        "sendDtmf",
        "transfer",
        "sendMessage",
        "sendIMResult",
        "changeStreamState",
        "updateConsent",
    }
)


# -- server → client ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class GetUserData(Message):
    """Session established: the client's ``connection`` object echoed with the server's fields."""

    name: ClassVar[str] = "getUserData"
    auth_token: str | None = _wire("authToken", _str)
    status: str | None = _wire("status", _str)
    extra: dict[str, Any] = field(default_factory=dict, metadata=_EXTRA)


@dataclass(frozen=True, kw_only=True)
class GetVersion(Message):
    name: ClassVar[str] = "getVersion"
    version: str = ""

    def data(self) -> list[Any]:
        return [self.version]

    @classmethod
    def from_data(cls, data: list[Any]) -> GetVersion:
        if not data or not isinstance(data[0], str):
            raise WrongType("data[0]", message=cls.name)
        return cls(version=data[0])


@dataclass(frozen=True, kw_only=True)
class SetRemoteSdp(Message):
    """The server's answer, positional: ``[mediaSessionId, sdp, true]`` as WCS writes it."""

    name: ClassVar[str] = "setRemoteSDP"
    media_session_id: str = ""
    sdp: str = ""
    flag: bool | None = True

    def data(self) -> list[Any]:
        out: list[Any] = [self.media_session_id, self.sdp]
        if self.flag is not None:
            out.append(self.flag)
        return out

    @classmethod
    def from_data(cls, data: list[Any]) -> SetRemoteSdp:
        if len(data) < 2:
            raise MissingField("data[1]", message=cls.name)
        if not isinstance(data[0], str) or not isinstance(data[1], str):
            raise WrongType("data", message=cls.name)
        flag = data[2] if len(data) > 2 and isinstance(data[2], bool) else None
        return cls(media_session_id=data[0], sdp=data[1], flag=flag)


@dataclass(frozen=True, kw_only=True)
class NotifyAudioCodec(Message):
    """Positional ``[mediaSessionId, {name}]``: the audio codec a player will receive."""

    name: ClassVar[str] = "notifyAudioCodec"
    media_session_id: str = ""
    codec: str = ""

    def data(self) -> list[Any]:
        return [self.media_session_id, {"name": self.codec}]

    @classmethod
    def from_data(cls, data: list[Any]) -> NotifyAudioCodec:
        if len(data) < 2 or not isinstance(data[0], str) or not isinstance(data[1], dict):
            raise WrongType("data", message=cls.name)
        codec = data[1].get("name")
        if not isinstance(codec, str):
            raise WrongType("data[1].name", message=cls.name)
        return cls(media_session_id=data[0], codec=codec)


@dataclass(frozen=True, kw_only=True)
class StreamStatus(Message):
    """The stream object WCS sends in ``notifyStreamStatusEvent`` (and ``notifyVideoFormat``)."""

    name: ClassVar[str] = "notifyStreamStatusEvent"
    media_session_id: str = _wire("mediaSessionId", _str, required=True)
    stream_name: str | None = _wire("name", _str)
    published: bool | None = _wire("published", _bool)
    has_video: bool | None = _wire("hasVideo", _bool)
    has_audio: bool | None = _wire("hasAudio", _bool)
    status: str = _wire("status", _str, required=True)
    audio_codec: str | None = _wire("audioCodec", _str)
    video_codec: str | None = _wire("videoCodec", _str)
    info: str | None = _wire("info", _str)
    record: bool | None = _wire("record", _bool)
    record_name: str | None = _wire("recordName", _str)
    width: int | None = _wire("width", _int)
    height: int | None = _wire("height", _int)
    bitrate: int | None = _wire("bitrate", _int)
    min_bitrate: int | None = _wire("minBitrate", _int)
    max_bitrate: int | None = _wire("maxBitrate", _int)
    quality: int | None = _wire("quality", _int)
    create_date: int | None = _wire("createDate", _int)
    stream_info: Mapping[str, Any] | None = _wire("streamInfo", _object)
    media_provider: str | None = _wire("mediaProvider", _str)
    extra: dict[str, Any] = field(default_factory=dict, metadata=_EXTRA)


@dataclass(frozen=True, kw_only=True)
class NotifyVideoFormat(Message):
    """The publisher's picture size; must carry the stream's current ``status``."""

    name: ClassVar[str] = "notifyVideoFormat"
    media_session_id: str = _wire("mediaSessionId", _str, required=True)
    status: str = _wire("status", _str, required=True)
    streamer_video_width: int | None = _wire("streamerVideoWidth", _int)
    streamer_video_height: int | None = _wire("streamerVideoHeight", _int)
    extra: dict[str, Any] = field(default_factory=dict, metadata=_EXTRA)


@dataclass(frozen=True, kw_only=True)
class NotifyStreamEvent(Message):
    name: ClassVar[str] = "notifyStreamEvent"
    media_session_id: str = _wire("mediaSessionId", _str, required=True)
    type: str = _wire("type", _str, required=True)
    payload: Any = _wire("payload", _any)  # noqa: RUF009
    extra: dict[str, Any] = field(default_factory=dict, metadata=_EXTRA)


@dataclass(frozen=True, kw_only=True)
class AvailableStreamStatus(Message):
    """The answer to ``availableStream``: ``status`` is the *string* ``"true"``/``"false"``."""

    name: ClassVar[str] = "availableStream"
    id: str = _wire("id", _str, required=True)
    status: str = _wire("status", _str, required=True)
    info: str | None = _wire("info", _str)
    extra: dict[str, Any] = field(default_factory=dict, metadata=_EXTRA)


@dataclass(frozen=True, kw_only=True)
class VideoRate(Message):
    """A stream's current video metrics."""

    media_session_id: str = _wire("mediaSessionId", _str, required=True)
    video_rate: int = _wire("videoRate", _int, default=0)
    fps: int | None = _wire("fps", _int)
    nack: int | None = _wire("nack", _int)
    pli: int | None = _wire("pli", _int)
    lost_packets: int | None = _wire("lostPackets", _int)
    width: int | None = _wire("width", _int)
    height: int | None = _wire("height", _int)
    extra: dict[str, Any] = field(default_factory=dict, metadata=_EXTRA)


@dataclass(frozen=True, kw_only=True)
class InboundVideoRate(VideoRate):
    """What the server receives from a publisher."""

    name: ClassVar[str] = "inboundVideoRate"


@dataclass(frozen=True, kw_only=True)
class OutboundVideoRate(VideoRate):
    """What the server sends to a player."""

    name: ClassVar[str] = "outboundVideoRate"


@dataclass(frozen=True, kw_only=True)
class Fail(Message):
    """An error not tied to a stream status (any ``fail`` makes the SDK's session ``WARN``)."""

    name: ClassVar[str] = "fail"
    api_method: str | None = _wire("apiMethod", _str)
    id: str | None = _wire("id", _str)
    status: str | None = _wire("status", _str)
    info: str | None = _wire("info", _str)
    extra: dict[str, Any] = field(default_factory=dict, metadata=_EXTRA)


# -- REST API bodies ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RestQuery(Message):
    """The JSON body of a ``/rest-api/stream/*`` or ``/rest-api/connection/*`` call; every
    field narrows what the call applies to."""

    media_session_id: str | None = _wire("mediaSessionId", _str)
    stream_name: str | None = _wire("name", _str)
    published: bool | None = _wire("published", _bool)
    app_key: str | None = _wire("appKey", _str)
    session_id: str | None = _wire("sessionId", _str)
    extra: dict[str, Any] = field(default_factory=dict, metadata=_EXTRA)


def decode_rest_query(text: str | bytes) -> RestQuery:
    """Read a REST body; an empty body is an empty query. Raises :class:`DecodeError`."""
    if not text or not text.strip():
        return RestQuery()
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedJson(f"the body is not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise MalformedJson("the body is not a JSON object")
    return _fields_from_wire(RestQuery, obj, message="rest")


@dataclass(frozen=True, kw_only=True)
class PullQuery(Message):
    """The JSON body of a ``/rest-api/pull/*`` call, and the republishing object it answers
    with (``status`` only in answers)."""

    uri: str | None = _wire("uri", _str)
    local_stream_name: str | None = _wire("localStreamName", _str)
    remote_stream_name: str | None = _wire("remoteStreamName", _str)
    local_media_session_id: str | None = _wire("localMediaSessionId", _str)
    remote_media_session_id: str | None = _wire("remoteMediaSessionId", _str)
    status: str | None = _wire("status", _str)
    extra: dict[str, Any] = field(default_factory=dict, metadata=_EXTRA)


def decode_pull_query(text: str | bytes) -> PullQuery:
    """Read a ``/rest-api/pull/*`` body; an empty body is an empty query."""
    if not text or not text.strip():
        return PullQuery()
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedJson(f"the body is not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise MalformedJson("the body is not a JSON object")
    return _fields_from_wire(PullQuery, obj, message="pull")


# -- decoding and encoding ---------------------------------------------------------------------

_CLIENT: dict[str, type[Message]] = {
    c.name: c
    for c in (
        Connection,
        PublishStream,
        PlayStream,
        UnPublishStream,
        StopStream,
        AvailableStream,
        SendStreamEvent,
        Pong,
        Ping,
    )
}

_SERVER: dict[str, type[Message]] = {
    c.name: c
    for c in (
        GetUserData,
        GetVersion,
        SetRemoteSdp,
        NotifyAudioCodec,
        StreamStatus,
        NotifyVideoFormat,
        NotifyStreamEvent,
        AvailableStreamStatus,
        InboundVideoRate,
        OutboundVideoRate,
        Fail,
        Ping,
    )
}


def _envelope(text: str | bytes) -> tuple[str, list[Any]]:
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedJson(f"the frame is not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise MalformedJson("the frame is not a JSON object")
    name = obj.get("message")
    if not isinstance(name, str) or not name:
        raise UnknownMessage("the frame has no message name")
    data = obj.get("data")
    if data is None:
        data = []
    if not isinstance(data, list):
        raise WrongType("data", message=name)
    return name, data


def _msid_of(data: list[Any]) -> str | None:
    obj = data[0] if data else None
    if isinstance(obj, dict) and isinstance(obj.get("mediaSessionId"), str):
        return str(obj["mediaSessionId"])
    return None


def decode_client(text: str | bytes) -> Message:
    """Read one frame a client sent."""
    name, data = _envelope(text)
    cls = _CLIENT.get(name)
    if cls is None:
        if name in UNSUPPORTED_MESSAGES:
            return Unsupported(message=name, raw_data=tuple(data))
        raise UnknownMessage(f"unknown message {name!r}", message=name)
    try:
        return cls.from_data(data)
    except DecodeError as exc:
        exc.media_session_id = exc.media_session_id or _msid_of(data)
        raise


def decode_server(text: str | bytes) -> Message:
    """Read one frame a server sent."""
    name, data = _envelope(text)
    cls = _SERVER.get(name)
    if cls is None:
        raise UnknownMessage(f"unknown message {name!r}", message=name)
    return cls.from_data(data)


def encode_object(message: Message, *, without: tuple[str, ...] = ()) -> dict[str, Any]:
    """The wire object of a one-object message (REST hook bodies, REST answers)."""
    obj = _fields_to_wire(message)
    for key in without:
        obj.pop(key, None)
    return obj


def encode(message: Message) -> str:
    """Write one message as a frame."""
    return json.dumps(message.to_wire(), separators=(",", ":"))


__all__ = [
    "AvailableStream",
    "AvailableStreamStatus",
    "Connection",
    "DecodeError",
    "Fail",
    "GetUserData",
    "GetVersion",
    "InboundVideoRate",
    "MalformedJson",
    "Message",
    "MissingField",
    "NotifyAudioCodec",
    "NotifyStreamEvent",
    "NotifyVideoFormat",
    "OutboundVideoRate",
    "Ping",
    "PlayStream",
    "Pong",
    "PublishStream",
    "PullQuery",
    "RestQuery",
    "SendStreamEvent",
    "SetRemoteSdp",
    "StopStream",
    "StreamMessage",
    "StreamStatus",
    "UnPublishStream",
    "UnknownMessage",
    "Unsupported",
    "VideoRate",
    "WrongType",
    "decode_client",
    "decode_pull_query",
    "decode_rest_query",
    "decode_server",
    "encode",
    "encode_object",
]
