"""A real gateway with the WHIP/WHEP dialect for the operator's surface tests (metrics, admin
API, dashboard), and aiortc peers that publish and play through it on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiortc import RTCPeerConnection

from gateway.app import HUB
from gateway.config import DialectModel, RawConfig, validate
from gateway.plugins import discover, entry_point_names, make_plugin_manager
from gateway.server import Gateway
from tests.adapters.whip.clients import (
    Player,
    accept,
    loopback_pc,
    player_offer,
    post_offer,
    publisher_offer,
)

TOKEN = "operator-secret-0123456789"


@dataclass
class Operated:
    """A running gateway and what the test opened on it."""

    gateway: Gateway
    base: str
    peers: list[RTCPeerConnection] = field(default_factory=list)
    players: list[Player] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.base + path

    async def publish(self, http: aiohttp.ClientSession, stream: str) -> RTCPeerConnection:
        """Publish ``stream`` over WHIP and wait until the hub says it is live."""
        pc = loopback_pc()
        self.peers.append(pc)
        created = await post_offer(http, self.url(f"/whip/{stream}"), await publisher_offer(pc))
        await accept(pc, created.answer)
        hub = self.gateway.app[HUB]
        for _ in range(200):
            if any(s.name == stream and s.live for s in hub.streams_by_key.values()):
                return pc
            await asyncio.sleep(0.05)
        raise AssertionError(f"{stream} never went live")

    async def play(self, http: aiohttp.ClientSession, stream: str) -> Player:
        """Play ``stream`` over WHEP and wait for decoded frames."""
        player = Player()
        self.players.append(player)
        created = await post_offer(http, self.url(f"/whep/{stream}"), await player_offer(player.pc))
        await accept(player.pc, created.answer)
        await asyncio.wait_for(player.enough.wait(), 20)
        return player

    async def close_peers(self) -> None:
        for player in self.players:
            await player.close()
        for pc in self.peers:
            await pc.close()
        self.players, self.peers = [], []


def config_data(state_dir: Path, **sections: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "listeners": [{"host": "127.0.0.1", "port": 0}],
        "log": {"access_log": False},
        "media": {"host_addresses": ["127.0.0.1"]},
        "storage": {"state_dir": str(state_dir)},
        "dialects": {"whip": {}},
    }
    data.update(sections)
    return data


async def start_gateway(state_dir: Path, **sections: Any) -> Operated:
    """A gateway on 127.0.0.1 with the whip dialect alone; ``sections`` replace the defaults
    (``admin={...}``, ``metrics={...}``, ``media={...}``)."""
    pm = make_plugin_manager(disabled=entry_point_names() - {"whip"})
    raw = RawConfig(data=config_data(state_dir, **sections))
    config = validate(raw, [DialectModel(p.name, p.model) for p in discover(pm)])
    gateway = Gateway(config, pm)
    await gateway.start()
    host, port = gateway.addresses[0][:2]
    return Operated(gateway, f"http://{host}:{port}")


async def operated(state_dir: Path, **sections: Any) -> AsyncIterator[Operated]:
    """For fixtures: start, yield, close every peer, stop."""
    running = await start_gateway(state_dir, **sections)
    try:
        yield running
    finally:
        await running.close_peers()
        await running.gateway.stop()
