"""Broadcasts registered through Ant Media's REST API, per application.

Ant Media keeps a Broadcast record for every stream it knows: the ones created through
``POST /broadcasts/create`` before anybody publishes (``status: created``) and the live ones.
The registry holds the first kind; live streams come from the hub, and the REST layer merges
the two. An application configured with ``accept_only_registered_streams`` refuses to publish
an id that is not registered here (``not_allowed_unregistered_streams``).
"""

from __future__ import annotations

import builtins
import secrets
import string
import time
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.errors import LimitReached, NameInUse
from core.names import validate_stream_name

STATUS_CREATED = "created"
STATUS_PREPARING = "preparing"
STATUS_BROADCASTING = "broadcasting"
STATUS_FINISHED = "finished"

_ID_ALPHABET = string.ascii_letters + string.digits


class Broadcast(BaseModel):
    """Ant Media's Broadcast object with the fields its REST API returns (wire names)."""

    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    streamId: str
    status: str = STATUS_CREATED
    playListStatus: str | None = None
    type: str = "liveStream"
    publishType: str | None = "WebRTC"
    name: str | None = None
    description: str | None = None
    publish: bool = True
    date: int = 0
    plannedStartDate: int = 0
    plannedEndDate: int = 0
    duration: int = 0
    endPointList: list[dict[str, Any]] = Field(default_factory=list)
    playListItemList: list[dict[str, Any]] = Field(default_factory=list)
    publicStream: bool = True
    is360: bool = False
    listenerHookURL: str | None = None
    category: str | None = None
    ipAddr: str | None = None
    username: str | None = None
    password: str | None = None
    quality: str | None = None
    speed: float = 0.0
    streamUrl: str | None = None
    originAdress: str | None = None
    mp4Enabled: int = 0
    webMEnabled: int = 0
    expireDurationMS: int = 0
    rtmpURL: str | None = None
    zombi: bool = False
    pendingPacketSize: int = 0
    hlsViewerCount: int = 0
    dashViewerCount: int = 0
    webRTCViewerCount: int = 0
    rtmpViewerCount: int = 0
    startTime: int = 0
    receivedBytes: int = 0
    bitrate: int = 0
    width: int = 0
    height: int = 0
    userAgent: str = "N/A"
    latitude: str | None = None
    longitude: str | None = None
    altitude: str | None = None
    mainTrackStreamId: str | None = None
    subTrackStreamIds: list[str] = Field(default_factory=list)
    absoluteStartTimeMs: int = 0
    webRTCViewerLimit: int = -1
    hlsViewerLimit: int = -1
    dashViewerLimit: int = -1
    subFolder: str | None = None
    currentPlayIndex: int = 0
    metaData: str | None = None
    playlistLoopEnabled: bool = True
    updateTime: int = 0
    role: str = ""
    autoStartStopEnabled: bool = False
    virtual: bool = False


#: Fields a REST client may not set: the server owns them.
SERVER_FIELDS = frozenset(
    {
        "streamId",
        "status",
        "date",
        "updateTime",
        "startTime",
        "duration",
        "hlsViewerCount",
        "dashViewerCount",
        "webRTCViewerCount",
        "rtmpViewerCount",
        "receivedBytes",
        "bitrate",
        "absoluteStartTimeMs",
        "pendingPacketSize",
        "width",
        "height",
    }
)


def new_stream_id() -> str:
    """An id for a broadcast created without one (12 letters and digits, then the time in
    milliseconds, as Ant Media builds them)."""
    return "".join(secrets.choice(_ID_ALPHABET) for _ in range(12)) + str(int(time.time() * 1000))


class BroadcastRegistry:
    """The broadcasts created through REST, per application (in memory)."""

    def __init__(self, *, max_per_app: int = 10_000) -> None:
        self._max_per_app = max_per_app
        self._apps: dict[str, dict[str, Broadcast]] = {}

    def create(
        self, app: str, *, stream_id: str | None, name: str | None, **fields: Any
    ) -> Broadcast:
        """Register a broadcast; a missing ``stream_id`` is generated.

        Raises :class:`core.errors.InvalidName` for an id the core would refuse,
        :class:`core.errors.NameInUse` for one already registered, :class:`LimitReached`
        when the application holds its maximum of broadcasts.
        """
        broadcasts = self._apps.setdefault(app, {})
        stream_id = validate_stream_name(stream_id) if stream_id else new_stream_id()
        if stream_id in broadcasts:
            raise NameInUse(f"stream id {stream_id!r} is already registered", key=stream_id)
        if len(broadcasts) >= self._max_per_app:
            raise LimitReached(f"at most {self._max_per_app} broadcasts may be registered")
        now_ms = int(time.time() * 1000)
        settable = {k: v for k, v in fields.items() if k not in SERVER_FIELDS}
        broadcast = Broadcast.model_validate(
            {
                **settable,
                "streamId": stream_id,
                "name": name,
                "status": STATUS_CREATED,
                "date": now_ms,
                "updateTime": now_ms,
            }
        )
        broadcasts[stream_id] = broadcast
        return broadcast

    def get(self, app: str, stream_id: str) -> Broadcast | None:
        return self._apps.get(app, {}).get(stream_id)

    def delete(self, app: str, stream_id: str) -> bool:
        return self._apps.get(app, {}).pop(stream_id, None) is not None

    def list(self, app: str) -> builtins.list[Broadcast]:
        """The application's broadcasts in the order they were created."""
        return builtins.list(self._apps.get(app, {}).values())

    def is_registered(self, app: str, stream_id: str) -> bool:
        return stream_id in self._apps.get(app, {})
