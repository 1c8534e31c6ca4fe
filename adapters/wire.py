"""Typed JSON object fields: a frozen dataclass declares, per field, its JSON key and its type.

A codec declares its messages once, with :func:`key` for every field it reads and writes,
and reads and writes them with :func:`from_object` and :func:`to_object`. Nothing here knows a
dialect: each codec keeps its own message classes, its own envelope and its own error words,
and turns :class:`FieldError` and :class:`NotAnObject` into them.

An absent field and a ``null`` one both read as the default (a required one is missing) and a
``None`` value is left out when written, unless the field keeps nulls. A field declared with
:data:`EXTRA` collects, in order, every key the class does not declare, and writes them back.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

T = TypeVar("T")

Checker = Callable[[Any], Any]
"""Turns a JSON value into the field's Python value; raises ``TypeError`` when it does not fit."""


class FieldError(Exception):
    """A declared field could not be read. Not a ``TypeError`` or ``ValueError``, so an error in
    a nested object read by a checker is not mistaken for a wrong type of the outer field."""

    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field = field


class MissingField(FieldError):
    """A required field is absent or ``null``."""

    def __init__(self, field: str) -> None:
        super().__init__(field, f"{field} is missing")


class WrongType(FieldError):
    """A field's JSON value does not fit its checker."""

    def __init__(self, field: str) -> None:
        super().__init__(field, f"{field} has the wrong type")


class NotAnObject(Exception):
    """The text is not one JSON object: not JSON, nested too deeply to read, or another value."""


# -- checkers ------------------------------------------------------------------------------------


def string(v: Any) -> str:
    if isinstance(v, str):
        return v
    raise TypeError


def boolean(v: Any) -> bool:
    """A JSON boolean, or the strings ``"true"`` and ``"false"`` that some SDKs send."""
    if isinstance(v, bool):
        return v
    if v in ("true", "false"):
        return bool(v == "true")
    raise TypeError


def integer(v: Any) -> int:
    """A JSON number with no fraction (``3.0`` reads as ``3``); never a boolean."""
    if isinstance(v, bool):
        raise TypeError
    if isinstance(v, int):
        return v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    raise TypeError


def string_list(v: Any) -> tuple[str, ...]:
    if isinstance(v, list) and all(isinstance(x, str) for x in v):
        return tuple(v)
    raise TypeError


def json_object(v: Any) -> Mapping[str, Any]:
    if isinstance(v, dict):
        return dict(v)
    raise TypeError


def anything(v: Any) -> Any:
    return v


# -- declarations --------------------------------------------------------------------------------


def key(
    name: str,
    check: Checker,
    *,
    required: bool = False,
    default: Any = None,
    keep_null: bool = False,
) -> Any:
    """A dataclass field read from and written to the JSON key ``name``."""
    meta = {"wire": name, "check": check, "required": required, "keep_null": keep_null}
    if required:
        return dataclasses.field(metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


EXTRA: Mapping[str, Any] = MappingProxyType({"extra": True})
"""The metadata of a ``dict`` field that holds the keys the class does not declare:
``extra: dict[str, Any] = field(default_factory=dict, metadata=wire.EXTRA)``."""


# -- reading and writing -------------------------------------------------------------------------


def parse_object(text: str | bytes) -> dict[str, Any]:
    """The JSON object in ``text``; raises :class:`NotAnObject`, with the reason as its text."""
    try:
        obj = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise NotAnObject(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise NotAnObject("not a JSON object")
    return obj


def from_object(cls: type[T], obj: Mapping[str, Any]) -> T:
    """Build ``cls`` from the declared fields of ``obj``; raises :class:`FieldError`."""
    kwargs: dict[str, Any] = {}
    known: set[str] = set()
    extra_name: str | None = None
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if f.metadata.get("extra"):
            extra_name = f.name
            continue
        name = f.metadata.get("wire")
        if name is None:
            continue
        raw = obj.get(name)
        if raw is None:
            if f.metadata["required"]:
                raise MissingField(name)
            continue  # a null the field would not write back stays verbatim in ``extra``
        known.add(name)
        try:
            kwargs[f.name] = f.metadata["check"](raw)
        except (TypeError, ValueError) as exc:
            raise WrongType(name) from exc
    if extra_name is not None:
        kwargs[extra_name] = {k: v for k, v in obj.items() if k not in known}
    return cls(**kwargs)


def to_object(obj: Any) -> dict[str, Any]:
    """The JSON object of a dataclass instance's declared (and extra) fields, in order."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        if f.metadata.get("extra"):
            out.update(getattr(obj, f.name))
            continue
        name = f.metadata.get("wire")
        if name is None:
            continue
        value = getattr(obj, f.name)
        if value is None and not f.metadata["keep_null"]:
            continue
        out[name] = _plain(value)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return dict(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_object(value)
    return value
