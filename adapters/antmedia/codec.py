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
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from adapters import wire
from adapters.wire import anything, boolean, integer, key, string, string_list

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


# -- field types -------------------------------------------------------------------------------


def _int(v: Any) -> int:
    if isinstance(v, str) and v.strip().lstrip("-").isdigit():  # the vendor docs quote labels
        return int(v)
    return integer(v)


def _int_or_str(v: Any) -> int | str:
    if isinstance(v, str):
        return v
    return _int(v)


def _str_map(v: Any) -> Mapping[str, str]:
    if isinstance(v, dict) and all(isinstance(x, str) for x in v.values()):
        return dict(v)
    raise TypeError


# -- messages ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """Base of every message: ``command`` says which one."""

    command: ClassVar[str] = ""

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"command": self.command}
        out.update(wire.to_object(self))
        return out

    @classmethod
    def from_wire(cls: type[M], obj: Mapping[str, Any]) -> M:
        return _fields_from_wire(cls, obj, command=cls.command)


M = TypeVar("M", bound="Message")
P = TypeVar("P")


def _fields_from_wire(cls: type[P], obj: Mapping[str, Any], *, command: str | None) -> P:
    try:
        return wire.from_object(cls, obj)
    except wire.FieldError as exc:
        sid = obj.get("streamId")
        stream_id = sid if isinstance(sid, str) else None
        error = MissingField if isinstance(exc, wire.MissingField) else WrongType
        raise error(exc.field, command=command, stream_id=stream_id) from exc.__cause__


# -- client → server ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Publish(Message):
    command: ClassVar[str] = "publish"
    stream_id: str = key("streamId", string, required=True)
    token: str | None = key("token", string)
    subscriber_id: str | None = key("subscriberId", string)
    subscriber_code: str | None = key("subscriberCode", string)
    stream_name: str | None = key("streamName", string)
    main_track: str | None = key("mainTrack", string)
    video: bool | None = key("video", boolean)
    audio: bool | None = key("audio", boolean)
    meta_data: str | None = key("metaData", string)
    role: str | None = key("role", string)


@dataclass(frozen=True)
class Play(Message):
    command: ClassVar[str] = "play"
    stream_id: str = key("streamId", string, required=True)
    token: str | None = key("token", string)
    room: str | None = key("room", string)
    track_list: tuple[str, ...] | None = key("trackList", string_list)
    subscriber_id: str | None = key("subscriberId", string)
    subscriber_code: str | None = key("subscriberCode", string)
    subscriber_name: str | None = key("subscriberName", string)
    viewer_info: str | None = key("viewerInfo", string)
    role: str | None = key("role", string)
    user_publish_id: str | None = key("userPublishId", string)
    disable_tracks_by_default: bool | None = key("disableTracksByDefault", boolean)


@dataclass(frozen=True)
class TakeConfiguration(Message):
    """An SDP, in both directions; ``id_mapping`` (mid → track stream id) only from servers."""

    command: ClassVar[str] = "takeConfiguration"
    stream_id: str = key("streamId", string, required=True)
    type: str = key("type", string, required=True)
    sdp: str = key("sdp", string, required=True)
    id_mapping: Mapping[str, str] | None = key("idMapping", _str_map)


@dataclass(frozen=True)
class TakeCandidate(Message):
    """One trickled ICE candidate, in both directions. ``label`` is the m-line index."""

    command: ClassVar[str] = "takeCandidate"
    stream_id: str = key("streamId", string, required=True)
    candidate: str = key("candidate", string, required=True)
    label: int | None = key("label", _int)
    id: str | None = key("id", string)


@dataclass(frozen=True)
class Stop(Message):
    """Client: stop publishing or playing; server (P2P): close that peer connection."""

    command: ClassVar[str] = "stop"
    stream_id: str = key("streamId", string, required=True)


@dataclass(frozen=True)
class Ping(Message):
    command: ClassVar[str] = "ping"


@dataclass(frozen=True)
class GetIceServerConfig(Message):
    command: ClassVar[str] = "getIceServerConfig"


@dataclass(frozen=True)
class JoinRoom(Message):
    command: ClassVar[str] = "joinRoom"
    room: str = key("room", string, required=True)
    main_track: str | None = key("mainTrack", string)
    stream_id: str | None = key("streamId", string)
    mode: str | None = key("mode", string)
    stream_name: str | None = key("streamName", string)
    role: str | None = key("role", string)
    metadata: str | None = key("metadata", string)


@dataclass(frozen=True)
class LeaveFromRoom(Message):
    command: ClassVar[str] = "leaveFromRoom"
    room: str = key("room", string, required=True)
    main_track: str | None = key("mainTrack", string)
    stream_id: str | None = key("streamId", string)


@dataclass(frozen=True)
class GetRoomInfo(Message):
    command: ClassVar[str] = "getRoomInfo"
    room: str = key("room", string, required=True)
    stream_id: str | None = key("streamId", string)


@dataclass(frozen=True)
class GetStreamInfo(Message):
    command: ClassVar[str] = "getStreamInfo"
    stream_id: str = key("streamId", string, required=True)


@dataclass(frozen=True)
class GetTrackList(Message):
    command: ClassVar[str] = "getTrackList"
    stream_id: str = key("streamId", string, required=True)
    token: str | None = key("token", string)


@dataclass(frozen=True)
class EnableTrack(Message):
    command: ClassVar[str] = "enableTrack"
    stream_id: str = key("streamId", string, required=True)
    track_id: str = key("trackId", string, required=True)
    enabled: bool = key("enabled", boolean, required=True)


@dataclass(frozen=True)
class ToggleVideo(Message):
    command: ClassVar[str] = "toggleVideo"
    stream_id: str = key("streamId", string, required=True)
    track_id: str | None = key("trackId", string)
    enabled: bool = key("enabled", boolean, default=True)


@dataclass(frozen=True)
class ToggleAudio(Message):
    command: ClassVar[str] = "toggleAudio"
    stream_id: str = key("streamId", string, required=True)
    track_id: str | None = key("trackId", string)
    enabled: bool = key("enabled", boolean, default=True)


@dataclass(frozen=True)
class Join(Message):
    """Peer to peer: pair with whoever joins the same ``stream_id``."""

    command: ClassVar[str] = "join"
    stream_id: str = key("streamId", string, required=True)
    multi_peer: bool | None = key("multiPeer", boolean)
    mode: str | None = key("mode", string)


@dataclass(frozen=True)
class Leave(Message):
    command: ClassVar[str] = "leave"
    stream_id: str = key("streamId", string, required=True)


@dataclass(frozen=True)
class PeerMessageCommand(Message):
    command: ClassVar[str] = "peerMessageCommand"
    stream_id: str = key("streamId", string, required=True)
    definition: str | None = key("definition", string)
    data: Any = key("data", anything)


@dataclass(frozen=True)
class ForceStreamQuality(Message):
    command: ClassVar[str] = "forceStreamQuality"
    stream_id: str = key("streamId", string, required=True)
    stream_height: int | str | None = key("streamHeight", _int_or_str)


@dataclass(frozen=True)
class GetBroadcastObject(Message):
    command: ClassVar[str] = "getBroadcastObject"
    stream_id: str = key("streamId", string, required=True)


@dataclass(frozen=True)
class GetSubscriberCount(Message):
    command: ClassVar[str] = "getSubscriberCount"
    stream_id: str = key("streamId", string, required=True)


@dataclass(frozen=True)
class Unsupported(Message):
    """A command of the vendor protocol that Switchboard reads but does not implement."""

    name: str = ""
    stream_id: str | None = key("streamId", string)

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"command": self.name}
        out.update(wire.to_object(self))
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
    stream_id: str = key("streamId", string, required=True)


@dataclass(frozen=True)
class Pong(Message):
    command: ClassVar[str] = "pong"


@dataclass(frozen=True)
class StreamInfo:
    """One quality of a stream, as ``streamInformation`` lists it."""

    stream_width: int = key("streamWidth", _int, default=0)
    stream_height: int = key("streamHeight", _int, default=0)
    video_bitrate: int = key("videoBitrate", _int, default=0)
    audio_bitrate: int = key("audioBitrate", _int, default=0)
    video_codec: str | None = key("videoCodec", string)


def _stream_infos(v: Any) -> tuple[StreamInfo, ...]:
    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
        raise TypeError
    return tuple(_fields_from_wire(StreamInfo, x, command="streamInformation") for x in v)


@dataclass(frozen=True)
class StreamInformation(Message):
    command: ClassVar[str] = "streamInformation"
    stream_id: str = key("streamId", string, required=True)
    stream_info: tuple[StreamInfo, ...] = key("streamInfo", _stream_infos, default=())


@dataclass(frozen=True)
class RoomStream:
    """A member stream in ``joinedTheRoom`` / ``roomInformation`` ``streamList``."""

    stream_id: str = key("streamId", string, required=True)
    stream_name: str | None = key("streamName", string)


def _room_streams(v: Any) -> tuple[RoomStream, ...]:
    if not isinstance(v, list) or not all(isinstance(x, dict) for x in v):
        raise TypeError
    return tuple(_fields_from_wire(RoomStream, x, command="streamList") for x in v)


@dataclass(frozen=True)
class RoomInformation(Message):
    command: ClassVar[str] = "roomInformation"
    room: str = key("room", string, required=True)
    streams: tuple[str, ...] = key("streams", string_list, default=())
    stream_list: tuple[RoomStream, ...] = key("streamList", _room_streams, default=())


@dataclass(frozen=True)
class TrackList(Message):
    command: ClassVar[str] = "trackList"
    stream_id: str = key("streamId", string, required=True)
    track_list: tuple[str, ...] = key("trackList", string_list, default=())


@dataclass(frozen=True)
class IceServerConfig(Message):
    command: ClassVar[str] = "iceServerConfig"
    stun_server_uri: str = key("stunServerUri", string, default="", keep_null=True)
    turn_server_username: str = key("turnServerUsername", string, default="", keep_null=True)
    turn_server_credential: str = key("turnServerCredential", string, default="", keep_null=True)


@dataclass(frozen=True)
class ConnectWithNewId(Message):
    command: ClassVar[str] = "connectWithNewId"
    stream_id: str = key("streamId", string, required=True)


@dataclass(frozen=True)
class Notification(Message):
    """``{"command": "notification", "definition": ...}``: the definition says which."""

    command: ClassVar[str] = "notification"
    definition: ClassVar[str] = ""

    def to_wire(self) -> dict[str, Any]:
        out: dict[str, Any] = {"command": self.command, "definition": self.definition}
        out.update(wire.to_object(self))
        return out


@dataclass(frozen=True)
class PublishStarted(Notification):
    definition: ClassVar[str] = "publish_started"
    stream_id: str = key("streamId", string, required=True)


@dataclass(frozen=True)
class PublishFinished(Notification):
    definition: ClassVar[str] = "publish_finished"
    stream_id: str = key("streamId", string, required=True)


@dataclass(frozen=True)
class PlayStarted(Notification):
    definition: ClassVar[str] = "play_started"
    stream_id: str = key("streamId", string, required=True)


@dataclass(frozen=True)
class PlayFinished(Notification):
    definition: ClassVar[str] = "play_finished"
    stream_id: str = key("streamId", string, required=True)


@dataclass(frozen=True)
class JoinedTheRoom(Notification):
    definition: ClassVar[str] = "joinedTheRoom"
    stream_id: str = key("streamId", string, required=True)
    room: str | None = key("room", string)
    room_name: str | None = key("ATTR_ROOM_NAME", string)
    streams: tuple[str, ...] = key("streams", string_list, default=())
    stream_list: tuple[RoomStream, ...] = key("streamList", _room_streams, default=())


@dataclass(frozen=True)
class LeavedFromRoom(Notification):
    definition: ClassVar[str] = "leavedFromRoom"
    room: str | None = key("room", string)
    room_name: str | None = key("ATTR_ROOM_NAME", string)


@dataclass(frozen=True)
class StreamJoined(Notification):
    definition: ClassVar[str] = "streamJoined"
    stream_id: str = key("streamId", string, required=True)
    room: str | None = key("room", string)


@dataclass(frozen=True)
class StreamLeaved(Notification):
    definition: ClassVar[str] = "streamLeaved"
    stream_id: str = key("streamId", string, required=True)
    room: str | None = key("room", string)


@dataclass(frozen=True)
class BitrateMeasurement(Notification):
    definition: ClassVar[str] = "bitrateMeasurement"
    stream_id: str = key("streamId", string, required=True)
    target_bitrate: int = key("targetBitrate", _int, default=0)
    video_bitrate: int = key("videoBitrate", _int, default=0)
    audio_bitrate: int = key("audioBitrate", _int, default=0)


@dataclass(frozen=True)
class ServerWillStop(Notification):
    definition: ClassVar[str] = "server_will_stop"


@dataclass(frozen=True)
class Joined(Notification):
    """Peer to peer: the join was accepted; the peer waits for the other one."""

    definition: ClassVar[str] = "joined"
    stream_id: str = key("streamId", string, required=True)


@dataclass(frozen=True)
class Leaved(Notification):
    """Peer to peer: a peer left."""

    definition: ClassVar[str] = "leaved"
    stream_id: str = key("streamId", string, required=True)


@dataclass(frozen=True)
class BroadcastObject(Notification):
    """``broadcast`` is a JSON *string* (apps ``JSON.parse`` it)."""

    definition: ClassVar[str] = "broadcastObject"
    stream_id: str = key("streamId", string, required=True)
    broadcast: str = key("broadcast", string, default="{}")


@dataclass(frozen=True)
class SubscriberCount(Notification):
    definition: ClassVar[str] = "subscriberCount"
    stream_id: str = key("streamId", string, required=True)
    count: int = key("count", _int, default=0)


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
    definition: str = key("definition", string, required=True)
    stream_id: str | None = key("streamId", string)
    room: str | None = key("room", string)
    error_code: str | None = key("error_code", string)
    message: str | None = key("message", string)


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
        return wire.parse_object(text)
    except wire.NotAnObject as exc:
        raise MalformedJson(f"the frame is {exc}") from exc.__cause__


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
