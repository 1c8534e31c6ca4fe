"""The documentation covers what exists: every hook, every configuration key."""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel

from adapters import hookspecs
from gateway.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def config_keys(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Dotted keys of a model and of the models nested in it (lists included)."""
    for name, info in model.model_fields.items():
        key = f"{prefix}{name}"
        yield key
        for nested in _models(info.annotation):
            yield from config_keys(nested, f"{key}.")


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    elif get_origin(annotation) is not None or get_args(annotation):
        for arg in get_args(annotation):
            yield from _models(arg)


def test_every_hook_has_a_docstring() -> None:
    names = hookspecs.all_hook_names()
    assert names, "the contract has hooks"
    for name in names:
        doc = inspect.getdoc(getattr(hookspecs.DialectSpec, name))
        assert doc and len(doc) > 20, f"{name} has no docstring"


def test_every_hook_is_described_in_the_architecture() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    for name in hookspecs.all_hook_names():
        assert f"`{name}" in text, name


def test_every_config_key_is_in_the_reference() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text()
    documented = set(re.findall(r"`([a-z_][a-z0-9_.<>]*)`", text))
    keys = [k for k in config_keys(Settings) if k != "dialects"]
    assert len(keys) > 15
    missing = [k for k in keys if k not in documented and f"[{k}]" not in text]
    missing = [k for k in missing if f"[[{k}]]" not in text]
    assert missing == []
    assert "`dialects.<name>.enabled`" in text


def test_the_readme_names_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    assert "make run" in text and "make test" in text
