"""The ``[dialects.antmedia]`` section."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from adapters.antmedia.security import SecuritySettings
from adapters.antmedia.webhooks import WebhookSettings
from core.names import DEFAULT_NAMESPACE


class AntMediaIceServer(BaseModel):
    """The STUN or TURN server ``iceServerConfig`` announces (the SDK takes one)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str
    username: str = ""
    credential: str = ""


class AntMediaSettings(BaseModel):
    """Ant Media Server WebSocket messaging, REST and webhooks. Every field has a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Application name (``/{app}/websocket``) → core namespace. Applications not listed use
    #: ``default_namespace``, so that by default every application shares one namespace with
    #: every other dialect.
    namespaces: dict[str, str] = Field(default_factory=dict)
    default_namespace: str = DEFAULT_NAMESPACE
    #: The application webhooks name for streams of the default namespace published through
    #: another dialect.
    default_app: str = "WebRTCAppEE"
    #: Ant Media's ``settings.webrtc.client.start.timeoutMs``: a publisher whose media has not
    #: flowed this long after ``start`` gets ``publishTimeoutError`` and is stopped. 0: never.
    publish_timeout_ms: Annotated[int, Field(ge=0)] = 5000
    #: Viewers of one stream beyond which ``play`` gets ``viewerLimitReached``. 0: no limit.
    max_viewers_per_stream: Annotated[int, Field(ge=0)] = 0
    #: Ant Media's ``server.cpu_limit`` (percent): above it ``publish`` and ``play`` get
    #: ``highResourceUsage``. 0: not checked (Ant Media's own default is 85).
    cpu_limit_percent: Annotated[float, Field(ge=0, le=100)] = 0
    #: Ant Media's ``server.min_free_ram`` (MB): below it ``publish`` and ``play`` get
    #: ``highResourceUsage``. 0: not checked (Ant Media's own default is 10).
    min_free_ram_mb: Annotated[int, Field(ge=0)] = 0
    #: Seconds between two ``bitrateMeasurement`` notifications to a player. 0: none.
    bitrate_measurement_interval_s: Annotated[float, Field(ge=0)] = 5.0
    #: WebSocket ping interval (seconds) that drops dead clients; 0: none.
    heartbeat_s: Annotated[float, Field(ge=0)] = 30.0
    #: Largest WebSocket message accepted; 0: the gateway's ``max_message_bytes``.
    max_message_bytes: Annotated[int, Field(ge=0)] = 0
    #: Messages queued to one client beyond which it is considered stuck and disconnected.
    send_queue_size: Annotated[int, Field(ge=1)] = 1000
    #: The server announced by ``iceServerConfig``; none: the gateway's first ICE server, if
    #: any, else empty strings (the SDK keeps its own configuration).
    ice_server: AntMediaIceServer | None = None
    #: Stream security of every application, unless ``apps`` has a section for it.
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    #: Stream security per application name.
    apps: dict[str, SecuritySettings] = Field(default_factory=dict)
    #: Ant Media's webhooks (``liveStreamStarted``, ``liveStreamEnded``, ``vodReady``).
    webhooks: WebhookSettings = Field(default_factory=WebhookSettings)
    #: Ant Media's ``mp4MuxingEnabled``: record every H.264 stream published here to MP4.
    mp4_muxing_enabled: bool = False
    #: Ant Media's ``webMMuxingEnabled``: record every VP8 stream published here to WebM.
    webm_muxing_enabled: bool = False
    #: Where finished recordings are delivered, one directory per application
    #: (``{recordings_dir}/{app}/{streamId}.webm``), through the gateway's ``deliveries``.
    recordings_dir: str = "var/recordings/antmedia"
    #: Where recordings are written while they run (``{recording_work_dir}/{app}``); they
    #: stay there when the gateway has no ``deliveries`` service.
    recording_work_dir: str = "var/recordings/antmedia/.recording"
    #: How long stopping the dialect waits for the recordings to finish their files.
    recording_stop_timeout_s: Annotated[float, Field(ge=0)] = 10.0

    def namespace_of(self, app: str) -> str:
        return self.namespaces.get(app, self.default_namespace)
