"""The application in one process: the test dialect on two listeners, health, shutdown."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import aiohttp
import pluggy
import pytest
from aiohttp.test_utils import make_mocked_request
from pydantic import BaseModel

from adapters.hookspecs import ConfigSection, GatewayContext, Route, hookimpl
from gateway.app import (
    DIALECTS,
    HUB,
    READINESS,
    Phase,
    gateway_services,
    hub_limits,
    media_config,
    readyz,
)
from gateway.config import Config, DialectModel, Overrides, load_raw, validate
from gateway.plugins import PluginError, create_dialect, discover, make_plugin_manager
from gateway.server import Gateway
from tests.gateway.conftest import INSTALLED
from tests.gateway.echo_dialect import GOODBYE, EchoPlugin


def plugins(
    disabled: Sequence[str] = (), extra_plugins: Sequence[object] = ()
) -> pluggy.PluginManager:
    """A plugin manager with the installed dialects disabled."""
    return make_plugin_manager(disabled=[*INSTALLED, *disabled], extra_plugins=extra_plugins)


def configure(
    pm: pluggy.PluginManager, listen: list[str], environ: dict[str, str] | None = None
) -> Config:
    raw = load_raw(environ=environ or {}, overrides=Overrides(listen=listen))
    return validate(raw, [DialectModel(p.name, p.model) for p in discover(pm)])


@pytest.fixture
async def running() -> AsyncIterator[tuple[Gateway, EchoPlugin, list[str]]]:
    plugin = EchoPlugin()
    pm = plugins(extra_plugins=[plugin])
    config = configure(
        pm,
        ["127.0.0.1:0", "127.0.0.1:0"],
        {"SWITCHBOARD__DIALECTS__ECHO__GREETING": "welcome", "SWITCHBOARD__LOG__ACCESS_LOG": "0"},
    )
    gateway = Gateway(config, pm)
    await gateway.start()
    urls = [f"http://{host}:{port}" for host, port, *_ in gateway.addresses]
    try:
        yield gateway, plugin, urls
    finally:
        await gateway.stop()


async def test_every_listener_serves_every_route(
    running: tuple[Gateway, EchoPlugin, list[str]],
) -> None:
    gateway, plugin, urls = running
    assert len(urls) == 2 and urls[0] != urls[1]
    async with aiohttp.ClientSession() as http:
        for url in urls:
            async with http.ws_connect(f"{url}/echo") as ws:
                assert await ws.receive_str(timeout=5) == "welcome"
                await ws.send_str(f"ping {url}")
                assert await ws.receive_str(timeout=5) == f"ping {url}"
            async with http.get(f"{url}/echo/settings") as resp:
                body = await resp.json()
                assert body["greeting"] == "welcome" and body["enabled"] is True
            async with http.get(f"{url}/healthz") as resp:
                assert (resp.status, await resp.json()) == (200, {"status": "ok"})
            async with http.get(f"{url}/readyz") as resp:
                assert (resp.status, await resp.json()) == (200, {"status": "ready"})
    [dialect] = plugin.dialects
    assert dialect.started.is_set()
    assert dialect.ctx.hub is gateway.app[HUB]
    assert [d.plugin.name for d in gateway.app[DIALECTS]] == ["echo"]


async def test_stop_lets_the_dialect_say_goodbye_before_the_hub_closes(
    running: tuple[Gateway, EchoPlugin, list[str]],
) -> None:
    gateway, plugin, urls = running
    async with aiohttp.ClientSession() as http, http.ws_connect(f"{urls[1]}/echo") as ws:
        assert await ws.receive_str(timeout=5) == "welcome"
        await gateway.stop()
        assert await ws.receive_str(timeout=5) == GOODBYE
        msg = await ws.receive(timeout=5)
        assert msg.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED)
    [dialect] = plugin.dialects
    assert dialect.stop_calls == [True]  # once, gracefully, though stop() ran twice
    assert dialect.hub_closed_at_stop is False
    assert gateway.app[HUB].closed
    assert gateway.app[READINESS].phase is Phase.STOPPING


async def test_readyz_is_503_until_started_and_while_stopping() -> None:
    pm = plugins()
    gateway = Gateway(configure(pm, ["127.0.0.1:0"]), pm)
    request = make_mocked_request("GET", "/readyz", app=gateway.app)
    assert (await readyz(request)).status == 503
    gateway.app[READINESS].phase = Phase.READY
    assert (await readyz(request)).status == 200
    gateway.app[READINESS].phase = Phase.STOPPING
    assert (await readyz(request)).status == 503


async def test_a_listener_that_cannot_bind_fails_start(free_port: Callable[[], int]) -> None:
    import socket

    from gateway.server import ListenError

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        pm = plugins(extra_plugins=[EchoPlugin()])
        gateway = Gateway(configure(pm, [f"127.0.0.1:{port}"]), pm)
        with pytest.raises(ListenError, match=str(port)):
            await gateway.start()
    assert gateway.app[HUB].closed  # started contexts are torn down


def test_sections_become_core_configs() -> None:
    env = {
        "SWITCHBOARD__MEDIA__ICE_SERVERS": '[{urls = "stun:127.0.0.1:3478"}]',
        "SWITCHBOARD__MEDIA__HOST_ADDRESSES": '["127.0.0.1"]',
        "SWITCHBOARD__LIMITS__MAX_SESSIONS": "7",
    }
    settings = validate(load_raw(environ=env)).settings
    media = media_config(settings)
    assert [s.urls for s in media.ice_servers] == [("stun:127.0.0.1:3478",)]
    assert media.host_addresses == ("127.0.0.1",)
    assert hub_limits(settings).max_sessions == 7
    services = gateway_services(settings)
    assert services["ice_servers"] == media.ice_servers
    assert services["max_message_bytes"] == 1024 * 1024


class Misspelt:
    @hookimpl
    def switchboard_create_dialet(self, ctx: GatewayContext) -> None:
        return None


def test_a_misspelt_hook_fails_at_load() -> None:
    with pytest.raises(pluggy.PluginValidationError):
        plugins(extra_plugins=[Misspelt()])


def test_a_disabled_extra_plugin_is_not_registered() -> None:
    pm = plugins(disabled=["echo"], extra_plugins=[EchoPlugin()])
    assert [p.name for p in discover(pm)] == []


class Other(BaseModel):
    x: int = 1


class OtherPlugin:
    def __init__(self, name: str = "other", result: Any = None) -> None:
        self.name, self.result = name, result

    @hookimpl
    def switchboard_config_section(self) -> ConfigSection:
        return ConfigSection(name=self.name, model=Other)

    @hookimpl
    def switchboard_create_dialect(self, ctx: GatewayContext) -> Any:
        return self.result


def test_each_dialect_is_created_by_its_own_plugin_alone() -> None:
    echo = EchoPlugin()
    pm = plugins(extra_plugins=[echo, OtherPlugin()])
    found = {p.name: p for p in discover(pm)}
    assert sorted(found) == ["echo", "other"]
    assert found["echo"].title == "Echo (test dialect)"
    ctx = GatewayContext(name="other", settings=Other(), hub=None)  # type: ignore[arg-type]
    assert create_dialect(pm, found["other"], ctx) is None  # echo's hook was not called
    assert echo.dialects == []


def test_contract_violations_are_errors() -> None:
    with pytest.raises(PluginError, match="two dialect plugins"):
        plugins(extra_plugins=[OtherPlugin(), OtherPlugin()])
    pm = plugins(extra_plugins=[OtherPlugin(result="not a dialect")])
    [found] = discover(pm)
    ctx = GatewayContext(name="other", settings=Other(), hub=None)  # type: ignore[arg-type]
    with pytest.raises(PluginError, match="must return a Dialect"):
        create_dialect(pm, found, ctx)


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A throwaway certificate for 127.0.0.1."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


async def test_a_tls_listener_serves_the_same_routes(tmp_path: Path) -> None:
    cert, _ = self_signed(tmp_path)
    config_file = tmp_path / "tls.toml"
    config_file.write_text(
        '[[listeners]]\nhost = "127.0.0.1"\nport = 0\ntls_cert = "cert.pem"\ntls_key = "key.pem"\n'
        '[[listeners]]\nhost = "127.0.0.1"\nport = 0\n'
    )
    pm = plugins(extra_plugins=[EchoPlugin()])
    raw = load_raw(config_file, environ={})
    config = validate(raw, [DialectModel(p.name, p.model) for p in discover(pm)])
    gateway = Gateway(config, pm)
    await gateway.start()
    try:
        (_, tls_port, *_), (_, plain_port, *_) = gateway.addresses
        client_ssl = ssl.create_default_context(cafile=str(cert))
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(f"wss://127.0.0.1:{tls_port}/echo", ssl=client_ssl) as ws:
                assert await ws.receive_str(timeout=5) == "hello"
            async with http.get(f"http://127.0.0.1:{plain_port}/healthz") as resp:
                assert resp.status == 200
    finally:
        await gateway.stop()


class Stuck:
    """A dialect whose graceful stop never returns."""

    name = "stuck"

    def __init__(self) -> None:
        self.cancelled = asyncio.Event()

    def routes(self) -> Sequence[Route]:
        return []

    async def start(self) -> None:
        pass

    async def stop(self, *, graceful: bool) -> None:
        try:
            await asyncio.Event().wait()
        finally:
            self.cancelled.set()


class StuckPlugin:
    def __init__(self) -> None:
        self.dialect = Stuck()

    @hookimpl
    def switchboard_config_section(self) -> ConfigSection:
        return ConfigSection(name="stuck", model=Other)

    @hookimpl
    def switchboard_create_dialect(self, ctx: GatewayContext) -> Any:
        return self.dialect


async def test_a_stuck_dialect_cannot_hold_up_shutdown() -> None:
    stuck, echo = StuckPlugin(), EchoPlugin()
    pm = plugins(extra_plugins=[stuck, echo])
    env = {"SWITCHBOARD__GATEWAY__SHUTDOWN_TIMEOUT": "0.2"}
    gateway = Gateway(configure(pm, ["127.0.0.1:0"], env), pm)
    await gateway.start()
    await asyncio.wait_for(gateway.stop(), 5)
    assert stuck.dialect.cancelled.is_set()
    assert echo.dialects[0].stop_calls == [True]  # the others stop all the same
    assert gateway.app[HUB].closed
