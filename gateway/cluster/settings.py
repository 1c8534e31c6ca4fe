"""The ``[cluster]`` config section."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ClusterSettings(BaseModel):
    """``[cluster]``: several gateway nodes sharing a Redis directory and relaying streams.

    Without ``redis_url`` the gateway runs alone with its in-memory directory.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: ``redis://host:port/db`` of the shared directory; none: no cluster.
    redis_url: str | None = None
    #: Shared by every node: a node accepts a relay request only with it.
    secret: str | None = Field(default=None, min_length=8)
    #: Where this node serves its peers (the internal relay endpoint); port 0 picks one.
    listen: str = "127.0.0.1:0"
    #: The URL peers reach ``listen`` at; by default ``http://`` plus the bound address.
    advertise_url: str | None = None
    #: A node refreshes its entry this often (seconds) and is dead once it is ``node_ttl`` old.
    heartbeat_interval: Annotated[float, Field(gt=0)] = 1.0
    node_ttl: Annotated[float, Field(gt=0)] = 3.0
    #: How long an edge waits for the origin to answer and media to flow (seconds).
    relay_timeout: Annotated[float, Field(gt=0)] = 10.0
    #: Prefix of every Redis key, so that several clusters can share one Redis.
    key_prefix: str = Field(default="switchboard", min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ClusterSettings:
        if self.heartbeat_interval >= self.node_ttl:
            raise ValueError("heartbeat_interval must be shorter than node_ttl")
        if self.redis_url is not None and self.secret is None:
            raise ValueError("a cluster (redis_url) needs a shared secret")
        return self

    @property
    def enabled(self) -> bool:
        return self.redis_url is not None
