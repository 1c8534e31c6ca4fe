"""The contract between the gateway and the dialect adapters.

A dialect is a pluggy plugin: a module (or object) registered under the ``switchboard.dialects``
entry-point group whose functions are marked with :data:`hookimpl`. The gateway loads every
entry point, blocks the dialects disabled by configuration, validates each dialect's config
section with the model the dialect declares, and asks each one for a :class:`Dialect` runtime
whose routes it mounts on every listener.

The contract is versioned by :data:`CONTRACT_VERSION`; a change that breaks existing dialects
bumps it. Every hook here has a docstring (a test checks it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import pluggy
from aiohttp import web
from pydantic import BaseModel

from core.hub import Hub

CONTRACT_VERSION = 1
PROJECT = "switchboard"
ENTRY_POINT_GROUP = "switchboard.dialects"

hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """One HTTP or WebSocket route. A WebSocket route is a ``GET`` whose handler upgrades."""

    method: str
    path: str
    handler: Handler
    name: str | None = None


@dataclass(frozen=True)
class ConfigSection:
    """A dialect's config section: ``[dialects.<name>]`` in the TOML file, validated by
    ``model`` (a pydantic model whose every field has a default)."""

    name: str
    model: type[BaseModel]
    title: str = ""


@dataclass
class GatewayContext:
    """What the gateway hands to a dialect when it is created.

    ``settings`` is the dialect's own validated config section; ``hub`` the neutral core;
    ``services`` optional gateway-wide services by name (webhook dispatcher, recorder, ...)
    that a dialect may use when present.
    """

    name: str
    settings: BaseModel
    hub: Hub
    public_host: str | None = None
    services: Mapping[str, Any] = field(default_factory=dict)


@runtime_checkable
class Dialect(Protocol):
    """A running dialect: its routes, and its part in startup and graceful shutdown."""

    name: str

    def routes(self) -> Sequence[Route]:
        """The dialect's routes; mounted on every listener."""
        ...

    async def start(self) -> None:
        """Called once the gateway is about to accept connections."""
        ...

    async def stop(self, *, graceful: bool) -> None:
        """Tell every client of this dialect that the server stops (in the dialect's own
        words when ``graceful``), then close its sessions. Must return within a few seconds."""
        ...


class DialectSpec:
    """The hooks a dialect plugin implements."""

    @hookspec
    def switchboard_config_section(self) -> ConfigSection:  # type: ignore[empty-body]
        """Declare the dialect's name and the model of its config section.

        The section is read from ``[dialects.<name>]``; ``enabled = false`` there (or the
        ``--disable`` flag) keeps the dialect from being loaded at all.
        """

    @hookspec
    def switchboard_create_dialect(self, ctx: GatewayContext) -> Dialect | None:
        """Create the dialect's runtime for ``ctx`` (one gateway process).

        The gateway calls each plugin's implementation alone, with the context built from the
        section that plugin declared; ``None`` means the plugin has nothing to run.
        """


def all_hook_names() -> Sequence[str]:
    """Names of every hook in the contract (used by the documentation test)."""
    return sorted(n for n in vars(DialectSpec) if n.startswith("switchboard_"))
