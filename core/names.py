"""Stream names and namespaces."""

from __future__ import annotations

import re
from dataclasses import dataclass

from core.errors import InvalidName

DEFAULT_NAMESPACE = "default"
MAX_NAME_LENGTH = 128
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-~@+=:]*")


def validate_stream_name(name: object) -> str:
    """Return ``name`` if it is a usable stream name, else raise :class:`InvalidName`.

    Names are what every dialect puts in a URL path or a JSON string: letters, digits and
    ``_ . - ~ @ + = :``, not starting with a punctuation mark, at most 128 characters.
    """
    if not isinstance(name, str) or not name:
        raise InvalidName("stream name is empty")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidName(f"stream name is longer than {MAX_NAME_LENGTH} characters")
    if not _NAME.fullmatch(name):
        raise InvalidName("stream name has characters that are not allowed")
    return name


@dataclass(frozen=True, order=True)
class StreamKey:
    """Where a stream lives: its namespace and its name."""

    namespace: str
    name: str

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"
