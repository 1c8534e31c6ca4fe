"""The ``[dialects.rtm]`` section."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field


class RtmSettings(BaseModel):
    """The RTM dialect (stream-recording service messaging). Every field has a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The WebSocket endpoint; ``<ws_path>`` and ``<ws_path>/<session_id>`` both answer.
    ws_path: str = "/api/v2/io"
    #: The supervisors' WebSocket endpoint as the REST API hands it out.
    supervisor_ws_path: str = "/api/v2/supervisor_io"
    #: Master key that ``POST /auth_v2/client`` and ``/auth_v2/supervisor`` check and that
    #: signs the issued JWTs (HS256). Empty: authentication is off and the WebSocket and
    #: REST endpoints take anyone.
    master_key: str = ""
    #: Lifetime of issued tokens when the request names none (seconds).
    token_ttl: Annotated[int, Field(gt=0)] = 3600
    #: A session whose publisher sent no packet for this long ends with
    #: ``NO_PACKET_RECEIVED`` (seconds).
    no_packet_timeout: Annotated[float, Field(gt=0)] = 10.0
    #: A session ends with ``MAX_DURATION_REACHED`` after this long ACTIVE (seconds; 0: never).
    max_duration: Annotated[float, Field(ge=0)] = 4 * 3600.0
    #: A session that is not ACTIVE by then ends with ``PEERCONN_FAILED`` (seconds).
    connect_timeout: Annotated[float, Field(gt=0)] = 20.0
    #: Supervisors one client session may have.
    max_supervisors: Annotated[int, Field(ge=1)] = 3
    #: Stream name of a client's session in the core (``{client_id}`` is replaced); the
    #: other dialects play it under this name.
    stream_name: str = "{client_id}"
    #: Where recordings are written while they run and wait for their upload.
    recordings_dir: str = "recordings/rtm"
    #: Where a recording started without ``upload_url`` is delivered (a local directory).
    local_delivery_dir: str = "recordings/rtm/done"
    #: Application-level keepalive: a connection that sent no frame (``msg ping`` included)
    #: for this long is closed with ``CONN_ERROR`` (seconds; 0: never — WebSocket heartbeats
    #: still detect a dead peer).
    idle_timeout: Annotated[float, Field(ge=0)] = 0.0
