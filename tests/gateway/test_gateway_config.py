from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel

from gateway.config import (
    DEFAULT_PORTS,
    ConfigError,
    DialectModel,
    Overrides,
    Settings,
    default_text,
    disabled_dialects,
    load_raw,
    parse_env_value,
    validate,
)


class EchoSettings(BaseModel):
    greeting: str = "hello"
    max_frames: int = 100


ECHO = [DialectModel("echo", EchoSettings)]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "switchboard.toml"
    path.write_text(text)
    return path


def errors_of(raw_path: Path, **kwargs: object) -> list[str]:
    with pytest.raises(ConfigError) as info:
        validate(load_raw(raw_path, environ={}), ECHO, **kwargs)  # type: ignore[arg-type]
    return info.value.errors


def test_embedded_default_matches_the_models() -> None:
    config = validate(load_raw(environ={}))
    settings = config.settings
    assert [(x.host, x.port) for x in settings.listeners] == [("0.0.0.0", p) for p in DEFAULT_PORTS]
    defaults = Settings()
    for section in ("log", "media", "limits"):
        assert getattr(settings, section) == getattr(defaults, section)
    assert settings.gateway.shutdown_timeout == defaults.gateway.shutdown_timeout
    assert settings.limits.max_message_bytes == 1024 * 1024
    assert settings.media.ice_servers == []  # nothing reaches the internet by default
    # The embedded file names every section of the model.
    assert set(tomllib.loads(default_text())) == set(Settings.model_fields) - {"dialects"}


def test_node_id_is_random_by_default() -> None:
    a = validate(load_raw(environ={})).settings.gateway.node_id
    b = validate(load_raw(environ={})).settings.gateway.node_id
    assert a and b and a != b


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [[listeners]]
        host = "127.0.0.1"
        port = 7000

        [log]
        format = "console"
        level = "info"

        [limits]
        max_streams = 5
        """,
    )
    environ = {
        "SWITCHBOARD__LOG__FORMAT": "json",
        "SWITCHBOARD__LOG__LEVEL": "debug",
        "SWITCHBOARD__LISTENERS__0__PORT": "7001",
        "SWITCHBOARD__LIMITS__MAX_SESSIONS": "3",
        "SWITCHBOARD__GATEWAY__PUBLIC_HOST": "media.example.test",
        "OTHER__LOG__LEVEL": "error",
    }
    settings = validate(load_raw(path, environ=environ)).settings
    assert (settings.log.format, settings.log.level) == ("json", "debug")
    assert [(x.host, x.port) for x in settings.listeners] == [("127.0.0.1", 7001)]
    assert (settings.limits.max_streams, settings.limits.max_sessions) == (5, 3)
    assert settings.gateway.public_host == "media.example.test"

    flags = Overrides(listen=["127.0.0.1:7100", "[::1]:7101", ":7102"], log_format="console")
    settings = validate(load_raw(path, environ=environ, overrides=flags)).settings
    assert settings.log.format == "console"  # the flag wins
    assert settings.log.level == "debug"  # the environment still applies
    assert [(x.host, x.port) for x in settings.listeners] == [
        ("127.0.0.1", 7100),
        ("::1", 7101),
        ("0.0.0.0", 7102),
    ]


def test_environment_appends_a_listener_and_sets_dialect_sections() -> None:
    environ = {
        "SWITCHBOARD__LISTENERS__3__PORT": "9000",
        "SWITCHBOARD__LISTENERS__3__HOST": "127.0.0.1",
        "SWITCHBOARD__DIALECTS__ECHO__GREETING": "hi there",
        "SWITCHBOARD__MEDIA__HOST_ADDRESSES": '["127.0.0.1"]',
    }
    config = validate(load_raw(environ=environ), ECHO)
    assert config.settings.listeners[3].port == 9000
    assert config.settings.media.host_addresses == ["127.0.0.1"]
    echo = config.dialects["echo"]
    assert isinstance(echo, EchoSettings)
    assert echo.greeting == "hi there"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("false", False),
        ("8080", 8080),
        ("1.5", 1.5),
        ("json", "json"),
        ("0.0.0.0", "0.0.0.0"),
        ('["a", "b"]', ["a", "b"]),
        ('"quoted"', "quoted"),
        ("", ""),
    ],
)
def test_environment_values_parse_as_toml_when_they_can(text: str, value: object) -> None:
    assert parse_env_value(text) == value


def test_environment_faults_are_reported_with_the_variable() -> None:
    environ = {"SWITCHBOARD__LISTENERS__X__PORT": "1", "SWITCHBOARD__LISTENERS__9__PORT": "1"}
    with pytest.raises(ConfigError) as info:
        validate(load_raw(environ=environ))
    text = "\n".join(info.value.errors)
    assert "SWITCHBOARD__LISTENERS__X__PORT" in text
    assert "SWITCHBOARD__LISTENERS__9__PORT" in text


def test_every_error_is_reported_with_its_dotted_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        colour = "blue"

        [[listeners]]
        port = "eighty"

        [[listeners]]
        port = 70000
        tls_cert = "missing.pem"

        [log]
        format = "xml"

        [limits]
        max_message_bytes = 0

        [media]
        ice_servers = [{ username = "u" }]

        [dialects.echo]
        max_frames = "many"
        colour = "red"

        [dialects.nosuch]
        """,
    )
    errors = errors_of(path)
    keys = {e.split(":", 1)[0] for e in errors}
    assert {
        "colour",
        "listeners.0.port",
        "listeners.1.port",
        "listeners.1.tls_cert",
        "log.format",
        "limits.max_message_bytes",
        "media.ice_servers.0.urls",
        "dialects.echo.max_frames",
        "dialects.echo.colour",
        "dialects.nosuch",
    } <= keys
    assert "listeners.0.port: Input should be a valid integer" in "\n".join(errors)
    assert any(e.startswith("colour: Extra inputs are not permitted") for e in errors)


def test_a_disabled_dialect_section_is_not_read(tmp_path: Path) -> None:
    path = write(tmp_path, '[dialects.echo]\nenabled = false\nmax_frames = "many"\n')
    raw = load_raw(path, environ={})
    disabled = disabled_dialects(raw)
    assert disabled == {"echo"}
    config = validate(raw, [], disabled=disabled)
    assert config.dialects == {}
    assert disabled_dialects(load_raw(environ={}), ["Echo"]) == {"echo"}
    env = {"SWITCHBOARD__DIALECTS__ECHO__ENABLED": "false"}
    assert disabled_dialects(load_raw(environ=env)) == {"echo"}


def test_dialect_sections_default_and_accept_enabled() -> None:
    config = validate(load_raw(environ={}), ECHO)
    echo = config.dialects["echo"]
    assert isinstance(echo, EchoSettings)
    assert echo.greeting == "hello"
    assert echo.enabled is True  # type: ignore[attr-defined]


def test_tls_paths_are_relative_to_the_file_and_go_in_pairs(tmp_path: Path) -> None:
    (tmp_path / "cert.pem").write_text("x")
    (tmp_path / "key.pem").write_text("x")
    path = write(
        tmp_path,
        '[[listeners]]\nport = 443\ntls_cert = "cert.pem"\ntls_key = "key.pem"\n'
        '[[listeners]]\nport = 444\ntls_cert = "cert.pem"\n',
    )
    errors = errors_of(path)
    assert len(errors) == 1 and errors[0].startswith("listeners.1: ")
    path.write_text('[[listeners]]\nport = 443\ntls_cert = "cert.pem"\ntls_key = "key.pem"\n')
    listener = validate(load_raw(path, environ={})).settings.listeners[0]
    assert listener.tls_cert == tmp_path / "cert.pem"
    assert listener.url() == "https://0.0.0.0:443"


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_raw(tmp_path / "nope.toml", environ={})
    with pytest.raises(ConfigError) as info:
        load_raw(write(tmp_path, "[log\n"), environ={})
    assert info.value.errors[0].startswith("invalid TOML")


def test_log_levels_are_case_insensitive() -> None:
    env = {"SWITCHBOARD__LOG__LEVEL": "WARNING", "SWITCHBOARD__LOG__LOGGERS__AIOHTTP": "Error"}
    log = validate(load_raw(environ=env)).settings.log
    assert log.level == "warning"
    assert log.loggers["aiohttp"] == "error"
