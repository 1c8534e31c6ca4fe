"""Typed JSON object fields, on a small message that uses every kind of declaration."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from adapters import wire
from adapters.wire import key


@dataclass(frozen=True)
class Point:
    x: int = key("x", wire.integer, required=True)
    y: int = key("y", wire.integer, default=0)


def _points(v: Any) -> tuple[Point, ...]:
    if not isinstance(v, list):
        raise TypeError
    return tuple(wire.from_object(Point, p) for p in v)


@dataclass(frozen=True)
class Shape:
    name: str = key("name", wire.string, required=True)
    tags: tuple[str, ...] = key("tags", wire.string_list, default=())
    closed: bool | None = key("closed", wire.boolean)
    style: Mapping[str, Any] | None = key("style", wire.json_object)
    label: str | None = key("label", wire.string, keep_null=True)
    data: Any = key("data", wire.anything)
    points: tuple[Point, ...] = key("points", _points, default=())
    local: str = "not on the wire"


@dataclass(frozen=True)
class Open:
    id: str = key("id", wire.string, required=True)
    note: str | None = key("note", wire.string)
    extra: dict[str, Any] = field(default_factory=dict, metadata=wire.EXTRA)


def test_round_trip_in_declaration_order() -> None:
    obj = {
        "name": "tri",
        "tags": ["a", "b"],
        "closed": True,
        "style": {"fill": "red"},
        "label": "T",
        "data": [1, {"k": None}],
        "points": [{"x": 1, "y": 2}, {"x": 3, "y": 0}],
    }
    shape = wire.from_object(Shape, obj)
    assert shape.tags == ("a", "b")
    assert shape.points == (Point(1, 2), Point(3))
    assert shape.local == "not on the wire"
    out = wire.to_object(shape)
    assert out == obj
    assert list(out) == list(obj)


def test_absent_and_null_read_as_the_default_and_none_is_left_out_unless_kept() -> None:
    shape = wire.from_object(Shape, {"name": "n", "closed": None, "points": None})
    assert (shape.closed, shape.points, shape.label, shape.data) == (None, (), None, None)
    assert wire.to_object(shape) == {"name": "n", "tags": [], "label": None, "points": []}


def test_undeclared_keys_are_ignored_without_an_extra_field() -> None:
    assert wire.from_object(Point, {"x": 1, "z": 9}) == Point(1)


@pytest.mark.parametrize("obj", [{}, {"name": None}])
def test_a_required_field_absent_or_null_is_missing(obj: dict[str, Any]) -> None:
    with pytest.raises(wire.MissingField) as caught:
        wire.from_object(Shape, obj)
    assert caught.value.field == "name"
    assert str(caught.value) == "name is missing"


@pytest.mark.parametrize(
    ("obj", "bad"),
    [
        ({"name": 1}, "name"),
        ({"name": "n", "tags": ["a", 2]}, "tags"),
        ({"name": "n", "closed": "yes"}, "closed"),
        ({"name": "n", "style": []}, "style"),
    ],
)
def test_a_value_the_checker_refuses_is_a_wrong_type(obj: dict[str, Any], bad: str) -> None:
    with pytest.raises(wire.WrongType) as caught:
        wire.from_object(Shape, obj)
    assert caught.value.field == bad
    assert isinstance(caught.value.__cause__, TypeError)


def test_an_error_in_a_nested_object_is_not_taken_for_a_wrong_type_of_the_outer_field() -> None:
    with pytest.raises(wire.MissingField) as caught:
        wire.from_object(Shape, {"name": "n", "points": [{"y": 1}]})
    assert caught.value.field == "x"
    assert not isinstance(caught.value, TypeError | ValueError)


def test_extra_keeps_undeclared_keys_and_unwritten_nulls_in_order() -> None:
    obj = {"a": 1, "id": "i", "note": None, "b": {"c": [1]}}
    message = wire.from_object(Open, obj)
    assert message.note is None
    assert message.extra == {"a": 1, "note": None, "b": {"c": [1]}}
    assert wire.to_object(message) == {"id": "i", "a": 1, "note": None, "b": {"c": [1]}}


@pytest.mark.parametrize(
    ("value", "read"),
    [(True, True), (False, False), ("true", True), ("false", False)],
)
def test_boolean_takes_json_booleans_and_their_strings(value: Any, read: bool) -> None:
    assert wire.boolean(value) is read


@pytest.mark.parametrize("value", ["yes", 1, 0, None, []])
def test_boolean_refuses_anything_else(value: Any) -> None:
    with pytest.raises(TypeError):
        wire.boolean(value)


def test_integer_takes_whole_numbers_only() -> None:
    assert wire.integer(3) == 3
    assert wire.integer(3.0) == 3
    assert isinstance(wire.integer(3.0), int)
    for value in (True, 3.5, "3", None):
        with pytest.raises(TypeError):
            wire.integer(value)


def test_string_checkers() -> None:
    assert wire.string("s") == "s"
    assert wire.string_list(["a"]) == ("a",)
    assert wire.json_object({"a": 1}) == {"a": 1}
    assert wire.anything(None) is None
    for check, value in ((wire.string, b"s"), (wire.string_list, "a"), (wire.json_object, [])):
        with pytest.raises(TypeError):
            check(value)


def test_parse_object_reads_one_json_object() -> None:
    assert wire.parse_object('{"a": [1]}') == {"a": [1]}
    assert wire.parse_object(b'{"a": 1}') == {"a": 1}


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "not JSON: "),
        (b"\xff\xfe{", "not JSON: "),
        ("[" * 100_000 + "]" * 100_000, "not JSON: "),
        ("[1]", "not a JSON object"),
        ('"text"', "not a JSON object"),
        ("null", "not a JSON object"),
    ],
    ids=["garbage", "bad-utf8", "deep", "array", "string", "null"],
)
def test_parse_object_refuses_anything_else(text: str | bytes, reason: str) -> None:
    with pytest.raises(wire.NotAnObject) as caught:
        wire.parse_object(text)
    assert str(caught.value).startswith(reason)


def test_a_parsed_object_encodes_back_to_the_same_json() -> None:
    text = '{"id":"i","note":"n","x":[1,2]}'  # declared fields first, then the rest
    message = wire.from_object(Open, wire.parse_object(text))
    assert json.dumps(wire.to_object(message), separators=(",", ":")) == text
