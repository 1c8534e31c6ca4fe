"""The ``[dialects.flashphoner]`` config section."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.names import DEFAULT_NAMESPACE


class RestHookApp(BaseModel):
    """REST hooks of one appKey: where WCS-shaped JSON is POSTed, and what an outage means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: ``{backend}/{method}`` receives every hook (``connect``, ``publishStream`` ...).
    backend: str
    #: What a permitting hook does when the backend cannot be reached (or times out).
    on_unreachable: Literal["deny", "allow"] = "deny"
    timeout: float = Field(default=3.0, gt=0)
    #: Hooks to call; empty means every hook WCS calls.
    methods: list[str] = Field(default_factory=list)


class FlashphonerSettings(BaseModel):
    """Everything the Flashphoner dialect reads from its config section."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The version reported in ``getVersion``.
    server_version: str = "5.2.0-switchboard"
    #: Server ``ping`` interval in seconds; 0 turns the keepalive off. A client that sends
    #: nothing for three intervals is disconnected.
    ping_interval: float = Field(default=5.0, ge=0)
    #: How often ``inboundVideoRate`` / ``outboundVideoRate`` are sent (seconds; 0 = never).
    video_rate_interval: float = Field(default=2.0, ge=0)
    #: A publisher or player whose media does not start within this many seconds FAILs.
    media_timeout: float = Field(default=20.0, gt=0)
    #: How long PUBLISHING waits for the picture size once media flows (seconds).
    size_wait: float = Field(default=1.0, ge=0)
    #: Largest accepted WebSocket frame (an offer with every codec is ~10 kB).
    max_msg_size: int = Field(default=1 << 20, ge=4096)
    #: Namespace every appKey maps to; with ``namespace_per_app_key`` each appKey is its own.
    namespace: str = DEFAULT_NAMESPACE
    namespace_per_app_key: bool = False
    #: Where ``record: true`` and ``/rest-api/stream/startRecording`` write their files.
    recording_directory: str = "recordings"
    #: Republishing (``/rest-api/pull/*``): how long connecting and negotiating with the remote
    #: server may take, and how long to wait before reconnecting after the remote dropped a
    #: republished stream (0: never reconnect).
    republish_timeout: float = Field(default=10.0, gt=0)
    republish_retry_interval: float = Field(default=5.0, ge=0)
    #: WCS's ``wcs_agent_ssl``: republish over ``wss://`` (a bare ``host:port`` URI, or a
    #: ``ws://`` one, is then reached with TLS).
    agent_ssl: bool = False
    #: REST hooks by appKey (``[dialects.flashphoner.rest_hooks.defaultApp]``).
    rest_hooks: dict[str, RestHookApp] = Field(default_factory=dict)
