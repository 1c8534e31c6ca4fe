"""Ant Media stream security: one-time tokens, JWT stream tokens and TOTP subscriber codes.

Each control is optional and set per application, as in Ant Media's application settings
(``publishTokenControlEnabled``, ``playJwtControlEnabled``, ``enableTimeTokenForPlay``, ...).
Every control that is on for an action must pass; the connection maps a refusal
(:class:`core.errors.Unauthorized`) to ``unauthorized_access``.

- **One-time tokens** are issued through REST (``GET .../broadcasts/{id}/token``), kept in
  memory per application, valid for one stream (or the room in ``roomId``) and one action until
  ``expireDate`` (Unix seconds), and consumed by the first successful use.
- **JWT stream tokens** are HS256 tokens signed with the application's ``jwt_stream_secret``
  and carrying ``streamId``, ``type`` (``publish`` or ``play``) and, optionally, ``exp``.
- **TOTP subscriber codes** (RFC 6238, HMAC-SHA1, 6 digits) for subscribers that are not
  registered one by one: the key is the bytes of ``secret + subscriberId + streamId + type``,
  as Ant Media derives it for subscribers it has no record of.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import string
import struct
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from ipaddress import ip_address, ip_network
from typing import Literal

import jwt
import structlog
from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.errors import Unauthorized

log = structlog.get_logger(__name__)

Action = Literal["publish", "play"]
ACTIONS: tuple[Action, ...] = ("publish", "play")

_TOKEN_ALPHABET = string.ascii_letters + string.digits
_TOKEN_LENGTH = 48


class SecuritySettings(BaseModel):
    """Security settings of one Ant Media application; every control is off by default.

    The REST access controls follow Ant Media's defaults: the REST API answers loopback
    clients only (``remoteAllowedCIDR=127.0.0.1``) unless configured otherwise.
    """

    model_config = ConfigDict(extra="forbid")

    publish_token_control: bool = False
    play_token_control: bool = False
    publish_jwt_control: bool = False
    play_jwt_control: bool = False
    jwt_stream_secret: str = ""
    enable_time_token_for_publish: bool = False
    enable_time_token_for_play: bool = False
    time_token_secret: str = ""
    time_token_period_s: int = Field(default=60, ge=1)
    #: Steps of clock drift accepted either side of the current TOTP step.
    time_token_window: int = Field(default=1, ge=0)
    accept_only_registered_streams: bool = False
    #: Upper bound of unexpired one-time tokens kept per application.
    max_tokens: int = Field(default=100_000, ge=1)
    #: REST clients allowed by address (Ant Media's ``remoteAllowedCIDR``); empty = anyone.
    rest_allowed_cidrs: list[str] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])
    #: Require a JWT (HS256, ``rest_jwt_secret``) in the ``Authorization`` header of REST calls.
    rest_jwt_control: bool = False
    rest_jwt_secret: str = ""

    @field_validator("rest_allowed_cidrs")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for cidr in value:
            ip_network(cidr, strict=False)  # raises ValueError, which pydantic reports
        return value

    def token_control(self, action: Action) -> bool:
        return self.publish_token_control if action == "publish" else self.play_token_control

    def jwt_control(self, action: Action) -> bool:
        return self.publish_jwt_control if action == "publish" else self.play_jwt_control

    def time_token(self, action: Action) -> bool:
        if action == "publish":
            return self.enable_time_token_for_publish
        return self.enable_time_token_for_play


class Token(BaseModel):
    """Ant Media's Token object, as the REST API returns it."""

    model_config = ConfigDict(frozen=True)

    tokenId: str
    streamId: str
    expireDate: int
    type: Action
    roomId: str | None = None


@dataclass(frozen=True)
class _Key:
    app: str
    token_id: str


def totp(key: bytes, *, at: float, period: int = 60, digits: int = 6) -> str:
    """RFC 6238 TOTP (HMAC-SHA1) of ``key`` at Unix time ``at``."""
    counter = int(at // period)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


def subscriber_secret(secret: str, subscriber_id: str, stream_id: str, action: Action) -> str:
    """The base32 TOTP secret of a subscriber Ant Media has no record of."""
    raw = f"{secret}{subscriber_id}{stream_id}{action}".encode()
    return base64.b32encode(raw).decode("ascii")


class StreamSecurity:
    """Checks publish and play requests against an application's security settings and
    holds the one-time tokens issued through REST."""

    def __init__(
        self,
        default: SecuritySettings,
        per_app: Mapping[str, SecuritySettings] | None = None,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._default = default
        self._per_app = dict(per_app or {})
        self._clock = clock
        self._tokens: dict[_Key, Token] = {}
        # REST handlers and the WebSocket run on one loop; the lock only guards a gateway that
        # calls in from a thread.
        self._lock = threading.Lock()

    def settings_for(self, app: str) -> SecuritySettings:
        return self._per_app.get(app, self._default)

    # -- checks ------------------------------------------------------------------------------

    def authorize(
        self,
        *,
        app: str,
        stream_id: str,
        action: Action,
        token: str | None,
        subscriber_id: str | None,
        subscriber_code: str | None,
    ) -> None:
        """Raise :class:`Unauthorized` unless every control that is on for ``action`` passes.

        A one-time token is consumed only when every check passed.
        """
        settings = self.settings_for(app)
        if settings.jwt_control(action):
            self._check_jwt(settings, stream_id, action, token)
        if settings.time_token(action):
            self._check_totp(settings, stream_id, action, subscriber_id, subscriber_code)
        if settings.token_control(action):
            self._consume_token(app, stream_id, action, token)

    def _check_jwt(
        self, settings: SecuritySettings, stream_id: str, action: Action, token: str | None
    ) -> None:
        if not token:
            raise Unauthorized("a JWT stream token is required", action=action)
        if not settings.jwt_stream_secret:
            raise Unauthorized("no JWT stream secret is configured", action=action)
        try:
            # exp is checked below against the same clock as the other controls.
            claims = jwt.decode(
                token,
                settings.jwt_stream_secret,
                algorithms=["HS256"],
                options={"verify_exp": False},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"JWT stream token refused: {exc}", action=action) from None
        exp = claims.get("exp")
        if exp is not None and (not isinstance(exp, int | float) or exp <= self._clock()):
            raise Unauthorized("JWT stream token has expired", action=action)
        if claims.get("streamId") != stream_id or claims.get("type") != action:
            raise Unauthorized("JWT stream token is for another stream or action", action=action)

    def _check_totp(
        self,
        settings: SecuritySettings,
        stream_id: str,
        action: Action,
        subscriber_id: str | None,
        subscriber_code: str | None,
    ) -> None:
        if not subscriber_id or not subscriber_code:
            raise Unauthorized("subscriberId and subscriberCode are required", action=action)
        if not settings.time_token_secret:
            raise Unauthorized("no time token secret is configured", action=action)
        key = subscriber_secret(settings.time_token_secret, subscriber_id, stream_id, action)
        now = self._clock()
        period = settings.time_token_period_s
        for step in range(-settings.time_token_window, settings.time_token_window + 1):
            expected = totp(base64.b32decode(key), at=now + step * period, period=period)
            if hmac.compare_digest(expected, subscriber_code):
                return
        raise Unauthorized("subscriberCode is not valid", action=action)

    def _consume_token(self, app: str, stream_id: str, action: Action, token: str | None) -> None:
        if not token:
            raise Unauthorized("a token is required", action=action)
        key = _Key(app, token)
        with self._lock:
            issued = self._tokens.get(key)
            if issued is None:
                raise Unauthorized("token is not valid", action=action)
            if issued.expireDate <= self._clock():
                del self._tokens[key]
                raise Unauthorized("token has expired", action=action)
            if issued.type != action or stream_id not in (issued.streamId, issued.roomId):
                raise Unauthorized("token is for another stream or action", action=action)
            del self._tokens[key]

    # -- issuing -----------------------------------------------------------------------------

    def issue_token(
        self,
        *,
        app: str,
        stream_id: str,
        action: Action,
        expire_date: int,
        room_id: str | None = None,
    ) -> Token:
        """Issue a one-time token for ``action`` on ``stream_id`` valid until ``expire_date``
        (Unix seconds)."""
        if action not in ACTIONS:
            raise ValueError(f"unknown token type {action!r}")
        token = Token(
            tokenId="".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(_TOKEN_LENGTH)),
            streamId=stream_id,
            expireDate=expire_date,
            type=action,
            roomId=room_id,
        )
        limit = self.settings_for(app).max_tokens
        with self._lock:
            self._prune(app)
            if sum(1 for k in self._tokens if k.app == app) >= limit:
                raise OverflowError(f"at most {limit} unused tokens may be outstanding")
            self._tokens[_Key(app, token.tokenId)] = token
        return token

    def _prune(self, app: str) -> None:
        now = self._clock()
        for key in [k for k, t in self._tokens.items() if k.app == app and t.expireDate <= now]:
            del self._tokens[key]

    def issue_jwt(self, *, app: str, stream_id: str, action: Action, expire_date: int) -> Token:
        """A JWT stream token signed with the application's secret, in a Token object (as Ant
        Media's ``.../{id}/jwt-token`` answers). Raises :class:`ValueError` without a secret."""
        if action not in ACTIONS:
            raise ValueError(f"unknown token type {action!r}")
        secret = self.settings_for(app).jwt_stream_secret
        if not secret:
            raise ValueError("no JWT stream secret is configured")
        claims = {"streamId": stream_id, "type": action, "exp": expire_date}
        encoded = jwt.encode(claims, secret, algorithm="HS256")
        return Token(tokenId=encoded, streamId=stream_id, expireDate=expire_date, type=action)

    def totp_code(
        self,
        *,
        app: str,
        subscriber_id: str,
        stream_id: str,
        at: float | None = None,
        action: Action = "play",
    ) -> str:
        """The subscriber code a TOTP app would show for ``subscriber_id`` at ``at``."""
        settings = self.settings_for(app)
        key = subscriber_secret(settings.time_token_secret, subscriber_id, stream_id, action)
        when = self._clock() if at is None else at
        return totp(base64.b32decode(key), at=when, period=settings.time_token_period_s)

    # -- REST access -------------------------------------------------------------------------

    def authorize_rest(self, *, app: str, remote: str | None, authorization: str | None) -> None:
        """Raise :class:`Unauthorized` unless a REST call from ``remote`` may proceed."""
        settings = self.settings_for(app)
        if settings.rest_allowed_cidrs and not _allowed(remote, settings.rest_allowed_cidrs):
            raise Unauthorized(
                "this address may not use the REST API", remote=remote, reason="address"
            )
        if settings.rest_jwt_control:
            value = (authorization or "").strip()
            if value[:7].lower() == "bearer ":
                value = value[7:].strip()
            if not value or not settings.rest_jwt_secret:
                raise Unauthorized("a REST token is required", reason="token")
            try:
                jwt.decode(value, settings.rest_jwt_secret, algorithms=["HS256"])
            except jwt.PyJWTError as exc:
                raise Unauthorized(f"REST token refused: {exc}", reason="token") from None


def _allowed(remote: str | None, cidrs: list[str]) -> bool:
    if not remote:
        return False
    try:
        address = ip_address(remote)
    except ValueError:
        return False
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for cidr in cidrs:
        network = ip_network(cidr, strict=False)
        if address.version == network.version and address in network:
            return True
    return False
