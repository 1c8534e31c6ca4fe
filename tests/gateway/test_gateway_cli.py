"""The real command line, run as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.gateway.conftest import ECHO_PLUGIN, INSTALLED, ISOLATED, clean_env

Cli = Callable[..., subprocess.CompletedProcess[str]]

BAD = """
[[listeners]]
host = "127.0.0.1"
port = "abc"

[log]
format = "xml"
colour = "blue"

[dialects.echo]
max_frames = "many"
"""


def test_check_config_reports_every_error_with_its_key(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    result = cli("check-config", "--config", str(path), "--plugin", ECHO_PLUGIN)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    assert lines[0] == f"{path}: 4 configuration errors"
    assert "  listeners.0.port: Input should be a valid integer" in result.stderr
    for key in ("log.format:", "log.colour: Extra inputs", "dialects.echo.max_frames:"):
        assert any(line.strip().startswith(key) for line in lines), key


def test_check_config_accepts_the_default_and_the_environment(cli: Cli) -> None:
    result = cli("check-config", "--plugin", ECHO_PLUGIN)
    assert result.returncode == 0, result.stderr
    assert "<default>: configuration OK" in result.stdout
    assert "listener http://0.0.0.0:5080" in result.stdout
    assert "dialects: echo" in result.stdout

    env = {"SWITCHBOARD__DIALECTS__ECHO__ENABLED": "false"}
    result = cli("check-config", "--plugin", ECHO_PLUGIN, env=env)
    assert result.returncode == 0, result.stderr
    assert "dialects: none" in result.stdout

    result = cli("check-config", env={"SWITCHBOARD__LOG__LEVEL": "loud"})
    assert result.returncode == 1
    assert "log.level:" in result.stderr


def test_serve_refuses_a_bad_config(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(BAD)
    result = cli("serve", "--config", str(path), "--plugin", ECHO_PLUGIN)
    assert result.returncode == 2
    assert "listeners.0.port: Input should be a valid integer" in result.stderr
    result = cli("serve", "--config", str(tmp_path / "missing.toml"))
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_an_unknown_plugin_is_a_config_error(cli: Cli) -> None:
    result = cli("check-config", "--plugin", "no_such_module:plugin")
    assert result.returncode == 1
    assert "no_such_module" in result.stderr


def test_dialects_lists_names_titles_and_routes(cli: Cli) -> None:
    result = cli("dialects", "--plugin", ECHO_PLUGIN)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split(None, 1) == ["echo", "Echo (test dialect)"]
    assert [line.split() for line in lines[1:]] == [["GET", "/echo"], ["GET", "/echo/settings"]]

    result = cli("dialects", "--plugin", ECHO_PLUGIN, "--disable", "echo")
    assert result.returncode == 0, result.stderr
    assert "echo" not in result.stdout


def test_the_console_script_is_the_same_program(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("switchboard")
    if not script.exists():
        pytest.skip("the project is not installed here (make test installs it)")
    result = subprocess.run(
        [str(script), "check-config", *ISOLATED],
        capture_output=True,
        text=True,
        env=clean_env(),
        cwd=tmp_path,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "configuration OK" in result.stdout


def test_every_installed_dialect_loads(cli: Cli) -> None:
    result = cli("dialects", isolated=False)
    assert result.returncode == 0, result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines() if not line[:1].isspace()]
    assert names == (INSTALLED or ["no"])
