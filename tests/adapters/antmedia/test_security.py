"""Ant Media stream security: one-time tokens, JWT stream tokens, TOTP subscriber codes."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

import jwt
import pytest

from adapters.antmedia.security import (
    SecuritySettings,
    StreamSecurity,
    subscriber_secret,
    totp,
)
from core.errors import Unauthorized

NOW = 1_700_000_000.0
SECRET = "jwt-secret-of-the-application-32b"


class Clock:
    def __init__(self, now: float = NOW) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def security(clock: Clock | None = None, **settings: object) -> StreamSecurity:
    return StreamSecurity(SecuritySettings.model_validate(settings), clock=clock or Clock())


def check(
    sec: StreamSecurity,
    *,
    stream_id: str = "cam1",
    action: str = "publish",
    token: str | None = None,
    subscriber_id: str | None = None,
    subscriber_code: str | None = None,
    app: str = "LiveApp",
) -> None:
    sec.authorize(
        app=app,
        stream_id=stream_id,
        action=action,  # type: ignore[arg-type]
        token=token,
        subscriber_id=subscriber_id,
        subscriber_code=subscriber_code,
    )


def test_everything_is_allowed_by_default() -> None:
    sec = security()
    check(sec, action="publish")
    check(sec, action="play")
    assert not sec.settings_for("LiveApp").accept_only_registered_streams


def test_settings_are_per_application() -> None:
    sec = StreamSecurity(SecuritySettings(), {"LiveApp": SecuritySettings(play_token_control=True)})
    assert sec.settings_for("LiveApp").play_token_control
    assert not sec.settings_for("WebRTCAppEE").play_token_control
    check(sec, app="WebRTCAppEE", action="play")
    with pytest.raises(Unauthorized):
        check(sec, app="LiveApp", action="play")


# -- one-time tokens ---------------------------------------------------------------------------


def test_one_time_token_is_consumed_by_its_first_use() -> None:
    sec = security(publish_token_control=True)
    token = sec.issue_token(
        app="LiveApp", stream_id="cam1", action="publish", expire_date=int(NOW) + 60
    )
    assert len(token.tokenId) >= 32 and token.tokenId.isalnum()
    assert token.model_dump() == {
        "tokenId": token.tokenId,
        "streamId": "cam1",
        "expireDate": int(NOW) + 60,
        "type": "publish",
        "roomId": None,
    }
    check(sec, token=token.tokenId)
    with pytest.raises(Unauthorized):
        check(sec, token=token.tokenId)


def test_one_time_token_is_refused_without_a_token_or_with_an_unknown_one() -> None:
    sec = security(play_token_control=True)
    with pytest.raises(Unauthorized):
        check(sec, action="play", token=None)
    with pytest.raises(Unauthorized):
        check(sec, action="play", token="not-issued")
    check(sec, action="publish")  # the publish side is not controlled


def test_expired_one_time_token_is_refused() -> None:
    clock = Clock()
    sec = security(clock, play_token_control=True)
    token = sec.issue_token(
        app="LiveApp", stream_id="cam1", action="play", expire_date=int(NOW) + 10
    )
    clock.now = NOW + 10
    with pytest.raises(Unauthorized, match="expired"):
        check(sec, action="play", token=token.tokenId)


def test_one_time_token_is_bound_to_stream_action_and_application() -> None:
    sec = security(publish_token_control=True, play_token_control=True)
    token = sec.issue_token(
        app="LiveApp", stream_id="cam1", action="play", expire_date=int(NOW) + 60
    )
    with pytest.raises(Unauthorized):
        check(sec, action="publish", token=token.tokenId)
    with pytest.raises(Unauthorized):
        check(sec, action="play", stream_id="cam2", token=token.tokenId)
    with pytest.raises(Unauthorized):
        check(sec, action="play", app="WebRTCAppEE", token=token.tokenId)
    # Failed attempts do not use it up.
    check(sec, action="play", token=token.tokenId)


def test_room_token_is_valid_for_the_room() -> None:
    sec = security(play_token_control=True)
    token = sec.issue_token(
        app="LiveApp", stream_id="cam1", action="play", expire_date=int(NOW) + 60, room_id="room1"
    )
    check(sec, action="play", stream_id="room1", token=token.tokenId)


def test_tokens_are_unguessable_and_distinct() -> None:
    sec = security()
    ids = {
        sec.issue_token(app="a", stream_id="s", action="play", expire_date=int(NOW) + 5).tokenId
        for _ in range(200)
    }
    assert len(ids) == 200


def test_outstanding_tokens_are_bounded_and_expired_ones_pruned() -> None:
    clock = Clock()
    sec = security(clock, max_tokens=2)
    sec.issue_token(app="a", stream_id="s", action="play", expire_date=int(NOW) + 5)
    sec.issue_token(app="a", stream_id="s", action="play", expire_date=int(NOW) + 5)
    with pytest.raises(OverflowError):
        sec.issue_token(app="a", stream_id="s", action="play", expire_date=int(NOW) + 5)
    clock.now = NOW + 6
    sec.issue_token(app="a", stream_id="s", action="play", expire_date=int(NOW) + 60)


# -- JWT stream tokens -------------------------------------------------------------------------


def make_jwt(
    *,
    stream_id: str = "cam1",
    type_: str = "publish",
    exp: float | None = NOW + 60,
    key: str = SECRET,
) -> str:
    claims: dict[str, object] = {"streamId": stream_id, "type": type_}
    if exp is not None:
        claims["exp"] = int(exp)
    return jwt.encode(claims, key, algorithm="HS256")


def jwt_security() -> StreamSecurity:
    return security(publish_jwt_control=True, play_jwt_control=True, jwt_stream_secret=SECRET)


def test_jwt_is_accepted() -> None:
    sec = jwt_security()
    check(sec, token=make_jwt())
    check(sec, token=make_jwt())  # not one-time: valid until it expires
    check(sec, action="play", token=make_jwt(type_="play"))
    check(sec, token=make_jwt(exp=None))  # no exp: never expires


def test_expired_jwt_is_refused() -> None:
    with pytest.raises(Unauthorized, match="expired"):
        check(jwt_security(), token=make_jwt(exp=NOW - 1))


def test_jwt_with_another_secret_is_refused() -> None:
    with pytest.raises(Unauthorized):
        check(jwt_security(), token=make_jwt(key="another-secret-of-32-bytes-or-so!"))


def test_jwt_for_another_type_or_stream_is_refused() -> None:
    sec = jwt_security()
    with pytest.raises(Unauthorized):
        check(sec, action="play", token=make_jwt(type_="publish"))
    with pytest.raises(Unauthorized):
        check(sec, stream_id="cam2", token=make_jwt())


def test_jwt_with_another_algorithm_or_garbage_is_refused() -> None:
    sec = jwt_security()
    unsigned = jwt.encode({"streamId": "cam1", "type": "publish"}, None, algorithm="none")  # type: ignore[arg-type]
    for token in (unsigned, "not.a.jwt", "", None):
        with pytest.raises(Unauthorized):
            check(sec, token=token)


def test_jwt_without_a_configured_secret_refuses_everything() -> None:
    sec = security(publish_jwt_control=True)
    with pytest.raises(Unauthorized):
        check(sec, token=make_jwt())


def test_issued_jwt_is_accepted() -> None:
    sec = jwt_security()
    token = sec.issue_jwt(app="LiveApp", stream_id="cam1", action="play", expire_date=int(NOW) + 60)
    assert token.type == "play" and token.expireDate == int(NOW) + 60
    check(sec, action="play", token=token.tokenId)


# -- TOTP subscriber codes ---------------------------------------------------------------------


def test_totp_matches_rfc_6238_vectors() -> None:
    key = b"12345678901234567890"
    # RFC 6238 appendix B (SHA-1, 8 digits); the 6-digit code is its last six digits.
    for at, code in [(59, "94287082"), (1111111109, "07081804"), (2000000000, "69279037")]:
        assert totp(key, at=at, period=30, digits=8) == code
        assert totp(key, at=at, period=30) == code[-6:]


def test_subscriber_secret_is_base32_of_secret_id_stream_and_type() -> None:
    secret = subscriber_secret("appsecret", "sub1", "cam1", "play")
    assert base64.b32decode(secret) == b"appsecretsub1cam1play"


def totp_security(clock: Clock) -> StreamSecurity:
    return security(
        clock,
        enable_time_token_for_play=True,
        enable_time_token_for_publish=True,
        time_token_secret="appsecret",
    )


def test_totp_code_is_accepted_in_its_window() -> None:
    clock = Clock()
    sec = totp_security(clock)
    code = sec.totp_code(app="LiveApp", subscriber_id="sub1", stream_id="cam1")
    # Computed independently of the module under test.
    counter = struct.pack(">Q", int(NOW // 60))
    digest = hmac.new(b"appsecretsub1cam1play", counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    expected = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    assert code == f"{expected:06d}"

    check(sec, action="play", subscriber_id="sub1", subscriber_code=code)
    check(sec, action="play", subscriber_id="sub1", subscriber_code=code)  # not one-time
    clock.now = NOW + 60  # one step of drift is tolerated
    check(sec, action="play", subscriber_id="sub1", subscriber_code=code)


def test_totp_code_is_refused_outside_its_window_or_for_others() -> None:
    clock = Clock()
    sec = totp_security(clock)
    code = sec.totp_code(app="LiveApp", subscriber_id="sub1", stream_id="cam1")
    with pytest.raises(Unauthorized):
        check(sec, action="play", subscriber_id="sub2", subscriber_code=code)
    with pytest.raises(Unauthorized):
        check(sec, action="play", stream_id="cam2", subscriber_id="sub1", subscriber_code=code)
    with pytest.raises(Unauthorized):
        check(sec, action="publish", subscriber_id="sub1", subscriber_code=code)
    with pytest.raises(Unauthorized):
        check(sec, action="play", subscriber_id="sub1", subscriber_code=None)
    with pytest.raises(Unauthorized):
        check(sec, action="play", subscriber_id=None, subscriber_code=code)
    clock.now = NOW + 180
    with pytest.raises(Unauthorized):
        check(sec, action="play", subscriber_id="sub1", subscriber_code=code)


def test_totp_publish_code_uses_the_publish_type() -> None:
    sec = totp_security(Clock())
    code = sec.totp_code(app="LiveApp", subscriber_id="sub1", stream_id="cam1", action="publish")
    check(sec, action="publish", subscriber_id="sub1", subscriber_code=code)


def test_every_enabled_control_must_pass() -> None:
    clock = Clock()
    sec = security(
        clock, play_token_control=True, enable_time_token_for_play=True, time_token_secret="s"
    )
    token = sec.issue_token(
        app="LiveApp", stream_id="cam1", action="play", expire_date=int(NOW) + 60
    )
    code = sec.totp_code(app="LiveApp", subscriber_id="sub1", stream_id="cam1")
    with pytest.raises(Unauthorized):
        check(
            sec,
            action="play",
            token=token.tokenId,
            subscriber_id="sub1",
            subscriber_code="000000" if code != "000000" else "111111",
        )
    # The refused attempt did not consume the token.
    check(sec, action="play", token=token.tokenId, subscriber_id="sub1", subscriber_code=code)


# -- REST access -------------------------------------------------------------------------------


def test_rest_is_for_loopback_by_default() -> None:
    sec = security()
    sec.authorize_rest(app="LiveApp", remote="127.0.0.1", authorization=None)
    sec.authorize_rest(app="LiveApp", remote="::1", authorization=None)
    sec.authorize_rest(app="LiveApp", remote="::ffff:127.0.0.1", authorization=None)
    for remote in ("10.0.0.2", None, "garbage"):
        with pytest.raises(Unauthorized):
            sec.authorize_rest(app="LiveApp", remote=remote, authorization=None)
    open_sec = security(rest_allowed_cidrs=[])
    open_sec.authorize_rest(app="LiveApp", remote="10.0.0.2", authorization=None)


def test_rest_jwt_control() -> None:
    sec = security(rest_jwt_control=True, rest_jwt_secret=SECRET)
    good = jwt.encode({"sub": "ops"}, SECRET, algorithm="HS256")
    sec.authorize_rest(app="LiveApp", remote="127.0.0.1", authorization=good)
    sec.authorize_rest(app="LiveApp", remote="127.0.0.1", authorization=f"Bearer {good}")
    for value in (
        None,
        "x",
        jwt.encode({"sub": "ops"}, "other-secret-32-bytes-long-xxxxx", algorithm="HS256"),
    ):
        with pytest.raises(Unauthorized):
            sec.authorize_rest(app="LiveApp", remote="127.0.0.1", authorization=value)


def test_bad_cidr_is_a_configuration_error() -> None:
    with pytest.raises(ValueError):
        SecuritySettings(rest_allowed_cidrs=["not-a-network"])
