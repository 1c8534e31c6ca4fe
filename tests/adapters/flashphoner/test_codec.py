"""The codec against frames recorded from the real WebSDK and printed by the vendor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.flashphoner import codec

FRAMES = Path(__file__).parent / "frames"
CLIENT = sorted((FRAMES / "client").glob("*.json"))
SERVER = sorted((FRAMES / "server").glob("*.json"))


def test_fixtures_exist() -> None:
    assert {p.stem for p in CLIENT} >= {
        "connection",
        "publishStream",
        "playStream",
        "unPublishStream",
        "stopStream",
        "pong",
        "availableStream",
        "sendStreamEvent",
    }
    assert len(SERVER) >= 10


@pytest.mark.parametrize("path", CLIENT, ids=lambda p: p.stem)
def test_client_frames_round_trip(path: Path) -> None:
    text = path.read_text()
    message = codec.decode_client(text)
    assert not isinstance(message, codec.Unsupported)
    assert json.loads(codec.encode(message)) == json.loads(text)


@pytest.mark.parametrize("path", SERVER, ids=lambda p: p.stem)
def test_server_frames_round_trip(path: Path) -> None:
    text = path.read_text()
    message = codec.decode_server(text)
    assert json.loads(codec.encode(message)) == json.loads(text)


def test_publish_stream_fields() -> None:
    message = codec.decode_client((FRAMES / "client" / "publishStream.json").read_text())
    assert isinstance(message, codec.PublishStream)
    assert message.stream_name == "cam1"
    assert message.sdp is not None and message.sdp.startswith("v=0")
    assert message.published is True and message.record is False
    assert "localMediaInfo" in message.extra


def test_connection_keeps_everything_for_the_echo() -> None:
    message = codec.decode_client((FRAMES / "client" / "connection.json").read_text())
    assert isinstance(message, codec.Connection)
    assert message.app_key == "defaultApp"
    assert message.custom == {"user": "alice"}
    assert "clientBrowserVersion" in message.extra


def test_server_frames_always_carry_data() -> None:
    for message in (
        codec.Ping(raw_data=()),
        codec.GetVersion(version="1"),
        codec.SetRemoteSdp(media_session_id="a", sdp="v=0"),
        codec.NotifyVideoFormat(media_session_id="a", status="PLAYING"),
    ):
        assert isinstance(json.loads(codec.encode(message))["data"], list)


def test_set_remote_sdp_is_positional() -> None:
    wire = json.loads(codec.encode(codec.SetRemoteSdp(media_session_id="id", sdp="v=0\r\n")))
    assert wire == {"message": "setRemoteSDP", "data": ["id", "v=0\r\n", True]}


def test_available_stream_status_is_a_string() -> None:
    wire = json.loads(codec.encode(codec.AvailableStreamStatus(id="x", status="true")))
    assert wire["data"][0]["status"] == "true"


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("not json", codec.MalformedJson),
        ("[1, 2]", codec.MalformedJson),
        ('{"data": []}', codec.UnknownMessage),
        ('{"message": "fly", "data": []}', codec.UnknownMessage),
        ('{"message": "publishStream", "data": {}}', codec.WrongType),
        ('{"message": "publishStream", "data": [3]}', codec.WrongType),
        ('{"message": "publishStream", "data": [{"name": "a"}]}', codec.MissingField),
        (
            '{"message": "playStream", "data": [{"mediaSessionId": "m", "name": 5}]}',
            codec.WrongType,
        ),
        ('{"message": "sendStreamEvent", "data": [{"mediaSessionId": "m"}]}', codec.MissingField),
    ],
)
def test_bad_frames_raise_typed_errors(text: str, error: type[codec.DecodeError]) -> None:
    with pytest.raises(error):
        codec.decode_client(text)


def test_decode_error_carries_the_media_session_id() -> None:
    with pytest.raises(codec.DecodeError) as info:
        codec.decode_client('{"message": "playStream", "data": [{"mediaSessionId": "m1"}]}')
    assert info.value.media_session_id == "m1"
    assert info.value.message == "playStream"


def test_known_but_unsupported_messages_decode() -> None:
    message = codec.decode_client('{"message": "snapshot", "data": [{"mediaSessionId": "m"}]}')
    assert isinstance(message, codec.Unsupported)
    assert message.message == "snapshot" and message.media_session_id == "m"


@given(st.text(max_size=200))
def test_decoding_never_raises_anything_but_decode_errors(text: str) -> None:
    try:
        codec.decode_client(text)
    except codec.DecodeError:
        pass


@given(
    st.dictionaries(
        st.sampled_from(["mediaSessionId", "name", "sdp", "record", "published", "custom"]),
        st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5), st.just({})),
    )
)
def test_stream_messages_never_raise_anything_but_decode_errors(obj: dict[str, object]) -> None:
    try:
        message = codec.decode_client(json.dumps({"message": "publishStream", "data": [obj]}))
    except codec.DecodeError:
        return
    assert json.loads(codec.encode(message))["data"][0] == obj
