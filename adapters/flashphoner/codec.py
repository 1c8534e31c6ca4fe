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
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

from adapters import wire
from adapters.wire import anything, boolean, integer, json_object, key, string, string_list

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


# -- field reading ----------------------------------------------------------------------------

P = TypeVar("P")


def _fields_from_wire(cls: type[P], obj: Mapping[str, Any], *, message: str | None) -> P:
    try:
        return wire.from_object(cls, obj)
    except wire.FieldError as exc:
        msid = obj.get("mediaSessionId")
        error = MissingField if isinstance(exc, wire.MissingField) else WrongType
        raise error(
            exc.field, message=message, media_session_id=msid if isinstance(msid, str) else None
        ) from exc.__cause__


# -- messages ----------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Message:
    """Base of every message. ``name`` is the wire ``message``; most carry one object."""

    name: ClassVar[str] = ""

    def data(self) -> list[Any]:
        return [wire.to_object(self)]

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
    app_key: str | None = key("appKey", string)
    media_providers: tuple[str, ...] | None = key("mediaProviders", string_list)
    auth_token: str | None = key("authToken", string)
    custom: Mapping[str, Any] | None = key("custom", json_object)
    keep_alive: bool | None = key("keepAlive", boolean)
    extra: dict[str, Any] = field(default_factory=dict, metadata=wire.EXTRA)


@dataclass(frozen=True, kw_only=True)
class StreamMessage(Message):
    """The stream object the SDK sends with ``publishStream``, ``playStream`` and the stops."""

    media_session_id: str = key("mediaSessionId", string, required=True)
    stream_name: str = key("name", string, required=True)
    published: bool | None = key("published", boolean)
    has_video: bool | None = key("hasVideo", boolean)
    has_audio: bool | None = key("hasAudio", boolean)
    status: str | None = key("status", string)
    record: bool | None = key("record", boolean)
    media_provider: str | None = key("mediaProvider", string)
    sdp: str | None = key("sdp", string)
    custom: Mapping[str, Any] | None = key("custom", json_object)
    extra: dict[str, Any] = field(default_factory=dict, metadata=wire.EXTRA)


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
    media_session_id: str = key("mediaSessionId", string, required=True)
    stream_name: str = key("name", string, required=True)
    extra: dict[str, Any] = field(default_factory=dict, metadata=wire.EXTRA)


@dataclass(frozen=True, kw_only=True)
class SendStreamEvent(Message):
    """A publisher's mute/unmute or data event, relayed to its players."""

    name: ClassVar[str] = "sendStreamEvent"
    media_session_id: str = key("mediaSessionId", string, required=True)
    type: str = key("type", string, required=True)
    payload: Any = key("payload", anything)
    extra: dict[str, Any] = field(default_factory=dict, metadata=wire.EXTRA)


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
    auth_token: str | None = key("authToken", string)
    status: str | None = key("status", string)
    extra: dict[str, Any] = field(default_factory=dict, metadata=wire.EXTRA)


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
    media_session_id: str = key("mediaSessionId", string, required=True)
    stream_name: str | None = key("name", string)
    published: bool | None = key("published", boolean)
    has_video: bool | None = key("hasVideo", boolean)
    has_audio: bool | None = key("hasAudio", boolean)
    status: str = key("status", string, required=True)
    audio_codec: str | None = key("audioCodec", string)
    video_codec: str | None = key("videoCodec", string)
    info: str | None = key("info", string)
    record: bool | None = key("record", boolean)
    record_name: str | None = key("recordName", string)
    width: int | None = key("width", integer)
    height: int | None = key("height", integer)
    bitrate: int | None = key("bitrate", integer)
    min_bitrate: int | None = key("minBitrate", integer)
    max_bitrate: int | None = key("maxBitrate", integer)
    quality: int | None = key("quality", integer)
    create_date: int | None = key("createDate", integer)
    stream_info: Mapping[str, Any] | None = key("streamInfo", json_object)
    media_provider: str | None = key("mediaProvider", string)
    extra: dict[str, Any] = field(default_factory=dict, metadata=wire.EXTRA)


@dataclass(frozen=True, kw_only=True)
class NotifyVideoFormat(Message):
    """The publisher's picture size; must carry the stream's current ``status``."""

    name: ClassVar[str] = "notifyVideoFormat"
    media_session_id: str = key("mediaSessionId", string, required=True)
    status: str = key("status", string, required=True)
    streamer_video_width: int | None = key("streamerVideoWidth", integer)
    streamer_video_height: int | None = key("streamerVideoHeight", integer)
    extra: dict[str, Any] = field(default_factory=dict, metadata=wire.EXTRA)


@dataclass(frozen=True, kw_only=True)
class NotifyStreamEvent(Message):
    name: ClassVar[str] = "notifyStreamEvent"
    media_session_id: str = key("mediaSessionId", string, required=True)
    type: str = key("type", string, required=True)
    payload: Any = key("payload", anything)
    extra: dict[str, Any] = field(default_factory=dict, metadata=wire.EXTRA)


@dataclass(frozen=True, kw_only=True)
class AvailableStreamStatus(Message):
    """The answer to ``availableStream``: ``status`` is the *string* ``"true"``/``"false"``."""

    name: ClassVar[str] = "availableStream"
    id: str = key("id", string, required=True)
    status: str = key("status", string, required=True)
    info: str | None = key("info", string)
    extra: dict[str, Any] = field(default_factory=dict, metadata=wire.EXTRA)


@dataclass(frozen=True, kw_only=True)
class VideoRate(Message):
    """A stream's current video metrics."""

    media_session_id: str = key("mediaSessionId", string, required=True)
    video_rate: int = key("videoRate", integer, default=0)
    fps: int | None = key("fps", integer)
    nack: int | None = key("nack", integer)
    pli: int | None = key("pli", integer)
    lost_packets: int | None = key("lostPackets", integer)
    width: int | None = key("width", integer)
    height: int | None = key("height", integer)
    extra: dict[str, Any] = field(default_factory=dict, metadata=wire.EXTRA)


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
    api_method: str | None = key("apiMethod", string)
    id: str | None = key("id", string)
    status: str | None = key("status", string)
    info: str | None = key("info", string)
    extra: dict[str, Any] = field(default_factory=dict, metadata=wire.EXTRA)


# -- REST API bodies ---------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class RestQuery(Message):
    """The JSON body of a ``/rest-api/stream/*`` or ``/rest-api/connection/*`` call; every
    field narrows what the call applies to."""

    media_session_id: str | None = key("mediaSessionId", string)
    stream_name: str | None = key("name", string)
    published: bool | None = key("published", boolean)
    app_key: str | None = key("appKey", string)
    session_id: str | None = key("sessionId", string)
    extra: dict[str, Any] = field(default_factory=dict, metadata=wire.EXTRA)


def decode_rest_query(text: str | bytes) -> RestQuery:
    """Read a REST body; an empty body is an empty query. Raises :class:`DecodeError`."""
    if not text or not text.strip():
        return RestQuery()
    try:
        obj = wire.parse_object(text)
    except wire.NotAnObject as exc:
        raise MalformedJson(f"the body is {exc}") from exc.__cause__
    return _fields_from_wire(RestQuery, obj, message="rest")


@dataclass(frozen=True, kw_only=True)
class PullQuery(Message):
    """The JSON body of a ``/rest-api/pull/*`` call, and the republishing object it answers
    with (``status`` only in answers)."""

    uri: str | None = key("uri", string)
    local_stream_name: str | None = key("localStreamName", string)
    remote_stream_name: str | None = key("remoteStreamName", string)
    local_media_session_id: str | None = key("localMediaSessionId", string)
    remote_media_session_id: str | None = key("remoteMediaSessionId", string)
    status: str | None = key("status", string)
    extra: dict[str, Any] = field(default_factory=dict, metadata=wire.EXTRA)


def decode_pull_query(text: str | bytes) -> PullQuery:
    """Read a ``/rest-api/pull/*`` body; an empty body is an empty query."""
    if not text or not text.strip():
        return PullQuery()
    try:
        obj = wire.parse_object(text)
    except wire.NotAnObject as exc:
        raise MalformedJson(f"the body is {exc}") from exc.__cause__
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
        obj = wire.parse_object(text)
    except wire.NotAnObject as exc:
        raise MalformedJson(f"the frame is {exc}") from exc.__cause__
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
    obj = wire.to_object(message)
    for name in without:
        obj.pop(name, None)
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
