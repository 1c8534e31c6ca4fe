"""JWTs of the RTM REST API, signed with the configured master key (HS256)."""

from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

from core.errors import Unauthorized

ALGORITHM = "HS256"


@dataclass(frozen=True)
class Claims:
    """Who a token speaks for: a client, or a supervisor of ``client_to_monitor``."""

    client_id: str
    role: str  # "client" or "supervisor"
    client_to_monitor: str | None = None


def issue(master_key: str, claims: Claims, ttl: int) -> str:
    now = int(time.time())
    payload: dict[str, object] = {
        "sub": claims.client_id,
        "role": claims.role,
        "iat": now,
        "exp": now + ttl,
    }
    if claims.client_to_monitor is not None:
        payload["client_to_monitor"] = claims.client_to_monitor
    return jwt.encode(payload, master_key, algorithm=ALGORITHM)


def check(master_key: str, token: str) -> Claims:
    """The claims of a valid token, or :class:`Unauthorized`."""
    try:
        payload = jwt.decode(
            token, master_key, algorithms=[ALGORITHM], options={"require": ["exp", "sub"]}
        )
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid token: {exc}") from exc
    role = payload.get("role", "client")
    monitor = payload.get("client_to_monitor")
    return Claims(str(payload["sub"]), str(role), None if monitor is None else str(monitor))
