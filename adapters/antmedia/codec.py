"""The Ant Media WebSocket messaging format: wire text ⇄ typed messages, and nothing else.

Every frame is one JSON object with a ``command``. :func:`decode_client` reads what the
``@antmedia/webrtc_adaptor`` SDK sends, :func:`decode_server` what a server sends (for test
clients and recorded frames); :func:`encode` writes either kind back. A frame that cannot be
read raises a :class:`DecodeError` subclass that the connection turns into an ``error``
message with the vendor's own definition.

Fields are declared once, on the message classes, with their wire name and their wire type.
An absent optional field and a ``null`` one both read as ``None`` and are left out when
written, as the SDK does with ``token``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, ClassVar, TypeVar

# -- decode errors -----------------------------------------------------------------------------


class DecodeError(Exception):
    """A frame that is not a message this dialect knows how to read."""

    def __init__(self, message: str, *, command: str | None = None, stream_id: str | None = None):
        super().__init__(message)
        self.command = command
        self.stream_id = stream_id


class MalformedJson(DecodeError):
    """The frame is not a JSON object."""


class UnknownCommand(DecodeError):
    """The ``command`` is missing or names no message of the protocol."""


class MissingField(DecodeError):
    """A mandatory field is absent or ``null``."""

    def __init__(self, wire_name: str, *, command: str | None, stream_id: str | None = None):
        super().__init__(f"{command}: {wire_name} is missing", command=command, stream_id=stream_id)
        self.field = wire_name


class WrongType(DecodeError):
    """A field has a JSON type the protocol does not allow there."""

    def __init__(self, wire_name: str, *, command: str | None, stream_id: str | None = None):
        super().__init__(
            f"{command}: {wire_name} has the wrong type", command=command, stream_id=stream_id
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
    if v in ("true", "false"):  # older apps send strings
        return bool(v == "true")
    raise TypeError


def _int(v: Any) -> int:
    if isinstance(v, bool):
        raise TypeError
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():  # the vendor docs quote labels
        return int(v)
    raise TypeError


def _number(v: Any) -> int | float:
    if isinstance(v, bool) or not isinstance(v, int | float):
        raise TypeError
    return v


def _int_or_str(v: Any) -> int | str:
    if isinstance(v, str):
        return v
    return _int(v)


def _str_list(v: Any) -> tuple[str, ...]:
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    raise TypeError


def _str_map(v: Any) -> Mapping[str, str]:
    if isinstance(v, dict) and all(isinstance(x, str) for x in v.values()):
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


def _unwire(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_unwire(v) for v in value]
    if hasattr(value, "to_wire"):
        return value.to_wire()
    return value


# -- messages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """Base of every message: ``command`` says which one."""

    command: ClassVar[str] = ""

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"command": self.command}
        out.update(_fields_to_wire(self))
        return out

    @classmethod
    def from_wire(cls: type[M], obj: Mapping[str, Any]) -> M:
        return _fields_from_wire(cls, obj, command=cls.command)


M = TypeVar("M", bound="Message")
P = TypeVar("P")


def _fields_to_wire(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in fields(obj):
        wire = f.metadata.get("wire")
        if wire is None:
            continue
        value = getattr(obj, f.name)
        if value is None and not f.metadata["keep_null"]:
            continue
        if isinstance(value, Mapping):
            out[wire] = dict(value)
        else:
            out[wire] = _unwire(value)
    return out


def _fields_from_wire(cls: type[P], obj: Mapping[str, Any], *, command: str | None) -> P:
    stream_id = obj.get("streamId") if isinstance(obj.get("streamId"), str) else None
    kwargs: dict[str, Any] = {}
    for f in fields(cls):  # type: ignore[arg-type]
        wire = f.metadata.get("wire")
        if wire is None:
            continue
        raw = obj.get(wire)
        if raw is None:
            if f.metadata["required"]:
                raise MissingField(wire, command=command, stream_id=stream_id)
            continue
        try:
            kwargs[f.name] = f.metadata["check"](raw)
        except (TypeError, ValueError) as exc:
            raise WrongType(wire, command=command, stream_id=stream_id) from exc
    return cls(**kwargs)


# -- client → server ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Publish(Message):
    command: ClassVar[str] = "publish"
    stream_id: str = _wire("streamId", _str, required=True)
    token: str | None = _wire("token", _str)
    subscriber_id: str | None = _wire("subscriberId", _str)
    subscriber_code: str | None = _wire("subscriberCode", _str)
    stream_name: str | None = _wire("streamName", _str)
    main_track: str | None = _wire("mainTrack", _str)
    video: bool | None = _wire("video", _bool)
    audio: bool | None = _wire("audio", _bool)
    meta_data: str | None = _wire("metaData", _str)
    role: str | None = _wire("role", _str)


@dataclass(frozen=True)
class Play(Message):
    command: ClassVar[str] = "play"
    stream_id: str = _wire("streamId", _str, required=True)
    token: str | None = _wire("token", _str)
    room: str | None = _wire("room", _str)
    track_list: tuple[str, ...] | None = _wire("trackList", _str_list)
    subscriber_id: str | None = _wire("subscriberId", _str)
    subscriber_code: str | None = _wire("subscriberCode", _str)
    subscriber_name: str | None = _wire("subscriberName", _str)
    viewer_info: str | None = _wire("viewerInfo", _str)
    role: str | None = _wire("role", _str)
    user_publish_id: str | None = _wire("userPublishId", _str)
    disable_tracks_by_default: bool | None = _wire("disableTracksByDefault", _bool)


@dataclass(frozen=True)
class TakeConfiguration(Message):
    """An SDP, in both directions; ``id_mapping`` (mid → track stream id) only from servers."""

    command: ClassVar[str] = "takeConfiguration"
    stream_id: str = _wire("streamId", _str, required=True)
    type: str = _wire("type", _str, required=True)
    sdp: str = _wire("sdp", _str, required=True)
    id_mapping: Mapping[str, str] | None = _wire("idMapping", _str_map)


@dataclass(frozen=True)
class TakeCandidate(Message):
    """One trickled ICE candidate, in both directions. ``label`` is the m-line index."""

    command: ClassVar[str] = "takeCandidate"
    stream_id: str = _wire("streamId", _str, required=True)
    candidate: str = _wire("candidate", _str, required=True)
    label: int | None = _wire("label", _int)
    id: str | None = _wire("id", _str)


@dataclass(frozen=True)
class Stop(Message):
    """Client: stop publishing or playing; server (P2P): close that peer connection."""

    command: ClassVar[str] = "stop"
    stream_id: str = _wire("streamId", _str, required=True)


@dataclass(frozen=True)
class Ping(Message):
    command: ClassVar[str] = "ping"


@dataclass(frozen=True)
class GetIceServerConfig(Message):
    command: ClassVar[str] = "getIceServerConfig"


@dataclass(frozen=True)
class JoinRoom(Message):
    command: ClassVar[str] = "joinRoom"
    room: str = _wire("room", _str, required=True)
    main_track: str | None = _wire("mainTrack", _str)
    stream_id: str | None = _wire("streamId", _str)
    mode: str | None = _wire("mode", _str)
    stream_name: str | None = _wire("streamName", _str)
    role: str | None = _wire("role", _str)
    metadata: str | None = _wire("metadata", _str)


@dataclass(frozen=True)
class LeaveFromRoom(Message):
    command: ClassVar[str] = "leaveFromRoom"
    room: str = _wire("room", _str, required=True)
    main_track: str | None = _wire("mainTrack", _str)
    stream_id: str | None = _wire("streamId", _str)


@dataclass(frozen=True)
class GetRoomInfo(Message):
    command: ClassVar[str] = "getRoomInfo"
    room: str = _wire("room", _str, required=True)
    stream_id: str | None = _wire("streamId", _str)


@dataclass(frozen=True)
class GetStreamInfo(Message):
    command: ClassVar[str] = "getStreamInfo"
    stream_id: str = _wire("streamId", _str, required=True)


@dataclass(frozen=True)
class GetTrackList(Message):
    command: ClassVar[str] = "getTrackList"
    stream_id: str = _wire("streamId", _str, required=True)
    token: str | None = _wire("token", _str)


@dataclass(frozen=True)
class EnableTrack(Message):
    command: ClassVar[str] = "enableTrack"
    stream_id: str = _wire("streamId", _str, required=True)
    track_id: str = _wire("trackId", _str, required=True)
    enabled: bool = _wire("enabled", _bool, required=True)


@dataclass(frozen=True)
class ToggleVideo(Message):
    command: ClassVar[str] = "toggleVideo"
    stream_id: str = _wire("streamId", _str, required=True)
    track_id: str | None = _wire("trackId", _str)
    enabled: bool = _wire("enabled", _bool, default=True)


@dataclass(frozen=True)
class ToggleAudio(Message):
    command: ClassVar[str] = "toggleAudio"
    stream_id: str = _wire("streamId", _str, required=True)
    track_id: str | None = _wire("trackId", _str)
    enabled: bool = _wire("enabled", _bool, default=True)


@dataclass(frozen=True)
class Join(Message):
    """Peer to peer: pair with whoever joins the same ``stream_id``."""

    command: ClassVar[str] = "join"
    stream_id: str = _wire("streamId", _str, required=True)
    multi_peer: bool | None = _wire("multiPeer", _bool)
    mode: str | None = _wire("mode", _str)


@dataclass(frozen=True)
class Leave(Message):
    command: ClassVar[str] = "leave"
    stream_id: str = _wire("streamId", _str, required=True)


@dataclass(frozen=True)
class PeerMessageCommand(Message):
    command: ClassVar[str] = "peerMessageCommand"
    stream_id: str = _wire("streamId", _str, required=True)
    definition: str | None = _wire("definition", _str)
    data: Any = _wire("data", _any)  # noqa: RUF009 (a field specifier, not a default)


@dataclass(frozen=True)
class ForceStreamQuality(Message):
    command: ClassVar[str] = "forceStreamQuality"
    stream_id: str = _wire("streamId", _str, required=True)
    stream_height: int | str | None = _wire("streamHeight", _int_or_str)


@dataclass(frozen=True)
class GetBroadcastObject(Message):
    command: ClassVar[str] = "getBroadcastObject"
    stream_id: str = _wire("streamId", _str, required=True)


@dataclass(frozen=True)
class GetSubscriberCount(Message):
    command: ClassVar[str] = "getSubscriberCount"
    stream_id: str = _wire("streamId", _str, required=True)


@dataclass(frozen=True)
class Unsupported(Message):
    """A command of the vendor protocol that Switchboard reads but does not implement."""

    name: str = ""
    stream_id: str | None = _wire("streamId", _str)

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"command": self.name}
        out.update(_fields_to_wire(self))
        return out


#: Commands of the vendor protocol with no behaviour here (see docs/dialects/antmedia.md).
UNSUPPORTED_COMMANDS = frozenset(
    {
        "getSubtracks",
        "getSubtracksCount",
        "getSubscribers",
        "updateStreamMetaData",
        "getVideoTrackAssignmentsCommand",
        "assignVideoTrackCommand",
        "updateVideoTrackAssignmentsCommand",
        "setMaxVideoTrackCountCommand",
        "getDebugInfo",
        "registerPushNotificationToken",
        "sendPushNotification",
    }
)

ClientMessage = (
    Publish
    | Play
    | TakeConfiguration
    | TakeCandidate
    | Stop
    | Ping
    | GetIceServerConfig
    | JoinRoom
    | LeaveFromRoom
    | GetRoomInfo
    | GetStreamInfo
    | GetTrackList
    | EnableTrack
    | ToggleVideo
    | ToggleAudio
    | Join
    | Leave
    | PeerMessageCommand
    | ForceStreamQuality
    | GetBroadcastObject
    | GetSubscriberCount
    | Unsupported
)

_CLIENT: dict[str, type[Message]] = {
    c.command: c
    for c in (
        Publish,
        Play,
        TakeConfiguration,
        TakeCandidate,
        Stop,
        Ping,
        GetIceServerConfig,
        JoinRoom,
        LeaveFromRoom,
        GetRoomInfo,
        GetStreamInfo,
        GetTrackList,
        EnableTrack,
        ToggleVideo,
        ToggleAudio,
        Join,
        Leave,
        PeerMessageCommand,
        ForceStreamQuality,
        GetBroadcastObject,
        GetSubscriberCount,
    )
}


# -- server → client ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Start(Message):
    """Publish (and P2P offerer): create the offer now."""

    command: ClassVar[str] = "start"
    stream_id: str = _wire("streamId", _str, required=True)


@dataclass(frozen=True)
class Pong(Message):
    command: ClassVar[str] = "pong"


@dataclass(frozen=True)
class StreamInfo:
    """One quality of a stream, as ``streamInformation`` lists it."""

    stream_width: int = _wire("streamWidth", _int, default=0)
    stream_height: int = _wire("streamHeight", _int, default=0)
    video_bitrate: int = _wire("videoBitrate", _int, default=0)
    audio_bitrate: int = _wire("audioBitrate", _int, default=0)
    video_codec: str | None = _wire("videoCodec", _str)

    def to_wire(self) -> dict[str, Any]:
        return _fields_to_wire(self)


def _stream_infos(v: Any) -> tuple[StreamInfo, ...]:
    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
        raise TypeError
    return tuple(_fields_from_wire(StreamInfo, x, command="streamInformation") for x in v)


@dataclass(frozen=True)
class StreamInformation(Message):
    command: ClassVar[str] = "streamInformation"
    stream_id: str = _wire("streamId", _str, required=True)
    stream_info: tuple[StreamInfo, ...] = _wire("streamInfo", _stream_infos, default=())


@dataclass(frozen=True)
class RoomStream:
    """A member stream in ``joinedTheRoom`` / ``roomInformation`` ``streamList``."""

    stream_id: str = _wire("streamId", _str, required=True)
    stream_name: str | None = _wire("streamName", _str)

    def to_wire(self) -> dict[str, Any]:
        return _fields_to_wire(self)


def _room_streams(v: Any) -> tuple[RoomStream, ...]:
    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
        raise TypeError
    return tuple(_fields_from_wire(RoomStream, x, command="streamList") for x in v)


@dataclass(frozen=True)
class RoomInformation(Message):
    command: ClassVar[str] = "roomInformation"
    room: str = _wire("room", _str, required=True)
    streams: tuple[str, ...] = _wire("streams", _str_list, default=())
    stream_list: tuple[RoomStream, ...] = _wire("streamList", _room_streams, default=())


@dataclass(frozen=True)
class TrackList(Message):
    command: ClassVar[str] = "trackList"
    stream_id: str = _wire("streamId", _str, required=True)
    track_list: tuple[str, ...] = _wire("trackList", _str_list, default=())


@dataclass(frozen=True)
class IceServerConfig(Message):
    command: ClassVar[str] = "iceServerConfig"
    stun_server_uri: str = _wire("stunServerUri", _str, default="", keep_null=True)
    turn_server_username: str = _wire("turnServerUsername", _str, default="", keep_null=True)
    turn_server_credential: str = _wire("turnServerCredential", _str, default="", keep_null=True)


@dataclass(frozen=True)
class ConnectWithNewId(Message):
    command: ClassVar[str] = "connectWithNewId"
    stream_id: str = _wire("streamId", _str, required=True)


@dataclass(frozen=True)
class Notification(Message):
    """``{"command": "notification", "definition": ...}``: the definition says which."""

    command: ClassVar[str] = "notification"
    definition: ClassVar[str] = ""

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"command": self.command, "definition": self.definition}
        out.update(_fields_to_wire(self))
        return out


@dataclass(frozen=True)
class PublishStarted(Notification):
    definition: ClassVar[str] = "publish_started"
    stream_id: str = _wire("streamId", _str, required=True)


@dataclass(frozen=True)
class PublishFinished(Notification):
    definition: ClassVar[str] = "publish_finished"
    stream_id: str = _wire("streamId", _str, required=True)


@dataclass(frozen=True)
class PlayStarted(Notification):
    definition: ClassVar[str] = "play_started"
    stream_id: str = _wire("streamId", _str, required=True)


@dataclass(frozen=True)
class PlayFinished(Notification):
    definition: ClassVar[str] = "play_finished"
    stream_id: str = _wire("streamId", _str, required=True)


@dataclass(frozen=True)
class JoinedTheRoom(Notification):
    definition: ClassVar[str] = "joinedTheRoom"
    stream_id: str = _wire("streamId", _str, required=True)
    room: str | None = _wire("room", _str)
    room_name: str | None = _wire("ATTR_ROOM_NAME", _str)
    streams: tuple[str, ...] = _wire("streams", _str_list, default=())
    stream_list: tuple[RoomStream, ...] = _wire("streamList", _room_streams, default=())


@dataclass(frozen=True)
class LeavedFromRoom(Notification):
    definition: ClassVar[str] = "leavedFromRoom"
    room: str | None = _wire("room", _str)
    room_name: str | None = _wire("ATTR_ROOM_NAME", _str)


@dataclass(frozen=True)
class StreamJoined(Notification):
    definition: ClassVar[str] = "streamJoined"
    stream_id: str = _wire("streamId", _str, required=True)
    room: str | None = _wire("room", _str)


@dataclass(frozen=True)
class StreamLeaved(Notification):
    definition: ClassVar[str] = "streamLeaved"
    stream_id: str = _wire("streamId", _str, required=True)
    room: str | None = _wire("room", _str)


@dataclass(frozen=True)
class BitrateMeasurement(Notification):
    definition: ClassVar[str] = "bitrateMeasurement"
    stream_id: str = _wire("streamId", _str, required=True)
    target_bitrate: int = _wire("targetBitrate", _int, default=0)
    video_bitrate: int = _wire("videoBitrate", _int, default=0)
    audio_bitrate: int = _wire("audioBitrate", _int, default=0)


@dataclass(frozen=True)
class ServerWillStop(Notification):
    definition: ClassVar[str] = "server_will_stop"


@dataclass(frozen=True)
class Joined(Notification):
    """Peer to peer: the join was accepted; the peer waits for the other one."""

    definition: ClassVar[str] = "joined"
    stream_id: str = _wire("streamId", _str, required=True)


@dataclass(frozen=True)
class Leaved(Notification):
    """Peer to peer: a peer left."""

    definition: ClassVar[str] = "leaved"
    stream_id: str = _wire("streamId", _str, required=True)


@dataclass(frozen=True)
class BroadcastObject(Notification):
    """``broadcast`` is a JSON *string* (apps ``JSON.parse`` it)."""

    definition: ClassVar[str] = "broadcastObject"
    stream_id: str = _wire("streamId", _str, required=True)
    broadcast: str = _wire("broadcast", _str, default="{}")


@dataclass(frozen=True)
class SubscriberCount(Notification):
    definition: ClassVar[str] = "subscriberCount"
    stream_id: str = _wire("streamId", _str, required=True)
    count: int = _wire("count", _int, default=0)


@dataclass(frozen=True)
class OtherNotification(Message):
    """A notification whose definition this module has no class for (read side only)."""

    command: ClassVar[str] = "notification"
    definition: str = ""
    stream_id: str | None = None

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"command": "notification", "definition": self.definition}
        if self.stream_id is not None:
            out["streamId"] = self.stream_id
        return out


@dataclass(frozen=True)
class Error(Message):
    """``{"command": "error", "definition": ...}``; ``definition`` is the vendor's error word."""

    command: ClassVar[str] = "error"
    definition: str = _wire("definition", _str, required=True)
    stream_id: str | None = _wire("streamId", _str)
    room: str | None = _wire("room", _str)
    error_code: str | None = _wire("error_code", _str)
    message: str | None = _wire("message", _str)


_NOTIFICATIONS: dict[str, type[Notification]] = {
    c.definition: c
    for c in (
        PublishStarted,
        PublishFinished,
        PlayStarted,
        PlayFinished,
        JoinedTheRoom,
        LeavedFromRoom,
        StreamJoined,
        StreamLeaved,
        BitrateMeasurement,
        ServerWillStop,
        Joined,
        Leaved,
        BroadcastObject,
        SubscriberCount,
    )
}

_SERVER: dict[str, type[Message]] = {
    c.command: c
    for c in (
        Start,
        TakeConfiguration,
        TakeCandidate,
        Stop,
        Pong,
        StreamInformation,
        RoomInformation,
        TrackList,
        IceServerConfig,
        ConnectWithNewId,
        PeerMessageCommand,
        Error,
    )
}


# -- entry points ------------------------------------------------------------------------------


def _object(text: str | bytes) -> dict[str, Any]:
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise MalformedJson("the frame is not JSON") from exc
    if not isinstance(obj, dict):
        raise MalformedJson("the frame is not a JSON object")
    return obj


def _command(obj: Mapping[str, Any]) -> str:
    command = obj.get("command")
    if not isinstance(command, str) or not command:
        raise UnknownCommand("the frame has no command")
    return command


def decode_client(text: str | bytes) -> ClientMessage:
    """Read one frame sent by a client."""
    obj = _object(text)
    command = _command(obj)
    cls = _CLIENT.get(command)
    if cls is None:
        stream_id = obj.get("streamId") if isinstance(obj.get("streamId"), str) else None
        if command in UNSUPPORTED_COMMANDS:
            return Unsupported(name=command, stream_id=stream_id)
        raise UnknownCommand(f"unknown command {command!r}", command=command, stream_id=stream_id)
    return cls.from_wire(obj)  # type: ignore[return-value]


def decode_server(text: str | bytes) -> Message:
    """Read one frame sent by a server (test clients, recorded frames)."""
    obj = _object(text)
    command = _command(obj)
    if command == "notification":
        definition = obj.get("definition")
        if not isinstance(definition, str):
            raise MissingField("definition", command=command)
        ncls = _NOTIFICATIONS.get(definition)
        if ncls is None:
            sid = obj.get("streamId")
            return OtherNotification(definition, sid if isinstance(sid, str) else None)
        return _fields_from_wire(ncls, obj, command=f"notification {definition}")
    cls = _SERVER.get(command)
    if cls is None:
        raise UnknownCommand(f"unknown command {command!r}", command=command)
    return cls.from_wire(obj)


def encode(message: Message) -> str:
    """Write one message as a frame."""
    return json.dumps(message.to_wire(), separators=(",", ":"))
