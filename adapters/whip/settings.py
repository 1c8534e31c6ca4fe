"""The ``[dialects.whip]`` section."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator


class IceServerEntry(BaseModel):
    """A STUN or TURN server announced to clients in ``Link`` headers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    urls: list[str] = Field(min_length=1)
    username: str | None = None
    credential: str | None = None

    @field_validator("urls", mode="before")
    @classmethod
    def _one_url(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


def _prefix(value: str) -> str:
    value = "/" + value.strip("/")
    if value == "/":
        raise ValueError("the prefix cannot be the root")
    return value


class WhipSettings(BaseModel):
    """WHIP ingest and WHEP playback. Every field has a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Path prefix of the WHIP endpoints: ``POST <whip_prefix>/<stream>``.
    whip_prefix: str = "/whip"
    #: Path prefix of the WHEP endpoints: ``POST <whep_prefix>/<stream>``.
    whep_prefix: str = "/whep"
    #: Bearer tokens that may publish; empty: publishing needs no token.
    whip_tokens: list[str] = Field(default_factory=list)
    #: Bearer tokens that may play; empty: playing needs no token.
    whep_tokens: list[str] = Field(default_factory=list)
    #: STUN/TURN servers announced in ``Link`` headers. Empty: the gateway's
    #: ``ice_servers`` service is announced when there is one, else none.
    ice_servers: list[IceServerEntry] = Field(default_factory=list)
    #: ``Access-Control-Allow-Origin`` of every response; empty: no CORS headers.
    cors_origin: str = "*"
    #: ``Retry-After`` (seconds) of a 409 for a stream not live yet and of a 503.
    retry_after: Annotated[float, Field(gt=0)] = 2.0
    #: A session whose peer connection has not connected by then is closed (seconds).
    connect_timeout: Annotated[float, Field(gt=0)] = 30.0

    @field_validator("whip_prefix", "whep_prefix", mode="after")
    @classmethod
    def _normalise(cls, value: str) -> str:
        return _prefix(value)
