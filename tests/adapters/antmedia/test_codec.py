"""The Ant Media codec against frames recorded from the real ``@antmedia/webrtc_adaptor``
(``frames/``, written by ``tests/e2e/record_antmedia_frames.py``)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.antmedia import codec

FRAMES = Path(__file__).parent / "frames"
CLIENT: dict[str, dict[str, Any]] = json.loads((FRAMES / "client.json").read_text())
SERVER: dict[str, dict[str, Any]] = json.loads((FRAMES / "server.json").read_text())


@pytest.mark.parametrize("name", sorted(CLIENT))
def test_recorded_client_frame_round_trips(name: str) -> None:
    frame = CLIENT[name]
    message = codec.decode_client(json.dumps(frame))
    assert message.command == frame["command"]
    assert json.loads(codec.encode(message)) == frame


@pytest.mark.parametrize("name", sorted(SERVER))
def test_recorded_server_frame_round_trips(name: str) -> None:
    frame = SERVER[name]
    assert json.loads(codec.encode(codec.decode_server(json.dumps(frame)))) == frame


def test_publish_reads_every_field_and_tolerates_missing_token() -> None:
    message = codec.decode_client(json.dumps(CLIENT["publish"]))
    assert message == codec.Publish(
        stream_id="rec1",
        token=None,
        subscriber_id="",
        subscriber_code="",
        stream_name="rec1 name",
        main_track="",
        video=True,
        audio=True,
        meta_data="",
        role="",
    )
    null_token = codec.decode_client('{"command":"publish","streamId":"a","token":null}')
    assert isinstance(null_token, codec.Publish) and null_token.token is None


def test_play_reads_track_list_and_object_form() -> None:
    play = codec.decode_client(json.dumps(CLIENT["play"]))
    assert isinstance(play, codec.Play)
    assert play.track_list == ("!rec1",) and play.user_publish_id == "rec1"
    stream = codec.decode_client(json.dumps(CLIENT["playStream"]))
    assert isinstance(stream, codec.Play)
    assert stream.subscriber_name == "viewer" and stream.disable_tracks_by_default is True


def test_candidate_label_is_a_number_both_ways() -> None:
    cand = codec.decode_client(json.dumps(CLIENT["takeCandidate"]))
    assert isinstance(cand, codec.TakeCandidate) and cand.label == 0 and cand.id == "0"
    quoted = codec.decode_client(
        '{"command":"takeCandidate","streamId":"s","label":"1","id":"1","candidate":"c"}'
    )
    assert isinstance(quoted, codec.TakeCandidate) and quoted.label == 1
    out = json.loads(
        codec.encode(codec.TakeCandidate("s", "candidate:1 1 udp 1 h 9 typ host", 2, "2"))
    )
    assert out["label"] == 2


def test_munged_opus_fmtp_survives() -> None:
    answer = codec.decode_client(json.dumps(CLIENT["takeConfiguration_answer"]))
    assert isinstance(answer, codec.TakeConfiguration) and answer.type == "answer"
    assert "useinbandfec=1; stereo=1" in answer.sdp


def test_server_messages_round_trip() -> None:
    messages: list[codec.Message] = [
        codec.Start("s"),
        codec.Pong(),
        codec.TakeConfiguration("s", "offer", "v=0\r\n", {"0": "a", "1": "a"}),
        codec.TakeConfiguration("s", "answer", "v=0\r\n"),
        codec.TakeCandidate("s", "candidate:1 1 udp 1 10.0.0.1 9 typ host", 0, "0"),
        codec.PublishStarted("s"),
        codec.PublishFinished("s"),
        codec.PlayStarted("s"),
        codec.PlayFinished("s"),
        codec.JoinedTheRoom("me", "r", "r", ("a",), (codec.RoomStream("a", "A"),)),
        codec.LeavedFromRoom("r", "r"),
        codec.StreamJoined("a", "r"),
        codec.StreamLeaved("a", "r"),
        codec.RoomInformation("r", ("a", "b"), (codec.RoomStream("a"), codec.RoomStream("b"))),
        codec.StreamInformation("s", (codec.StreamInfo(640, 480, 900000, 32000, "VP8"),)),
        codec.BitrateMeasurement("s", 1000000, 900000, 32000),
        codec.TrackList("r", ("a", "b")),
        codec.IceServerConfig("stun:127.0.0.1:3478", "", ""),
        codec.ServerWillStop(),
        codec.Joined("p"),
        codec.Leaved("p"),
        codec.Stop("p"),
        codec.ConnectWithNewId("p"),
        codec.BroadcastObject("s", '{"streamId":"s"}'),
        codec.SubscriberCount("s", 3),
        codec.Error("no_stream_exist", stream_id="s", error_code="404"),
        codec.Error("highResourceUsage"),
    ]
    for message in messages:
        assert codec.decode_server(codec.encode(message)) == message


def test_notification_wire_shape() -> None:
    wire = json.loads(codec.encode(codec.JoinedTheRoom("me", "r", "r", ("a",), ())))
    assert wire == {
        "command": "notification",
        "definition": "joinedTheRoom",
        "streamId": "me",
        "room": "r",
        "ATTR_ROOM_NAME": "r",
        "streams": ["a"],
        "streamList": [],
    }
    ice = json.loads(codec.encode(codec.IceServerConfig()))
    assert ice == {
        "command": "iceServerConfig",
        "stunServerUri": "",
        "turnServerUsername": "",
        "turnServerCredential": "",
    }


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("not json", codec.MalformedJson),
        ("[1, 2]", codec.MalformedJson),
        ('{"streamId": "a"}', codec.UnknownCommand),
        ('{"command": "fly", "streamId": "a"}', codec.UnknownCommand),
        ('{"command": "publish"}', codec.MissingField),
        ('{"command": "publish", "streamId": null}', codec.MissingField),
        ('{"command": "joinRoom", "streamId": "a"}', codec.MissingField),
        ('{"command": "publish", "streamId": 5}', codec.WrongType),
        ('{"command": "play", "streamId": "a", "trackList": "x"}', codec.WrongType),
        (
            '{"command": "takeCandidate", "streamId": "a", "candidate": "c", "label": "x"}',
            codec.WrongType,
        ),
        (
            '{"command": "enableTrack", "streamId": "a", "trackId": "t", "enabled": 1}',
            codec.WrongType,
        ),
    ],
)
def test_bad_frames_raise_typed_errors(text: str, error: type[codec.DecodeError]) -> None:
    with pytest.raises(error) as info:
        codec.decode_client(text)
    if isinstance(info.value, codec.MissingField):
        assert info.value.field in ("streamId", "room")


def test_errors_carry_the_command_and_stream() -> None:
    with pytest.raises(codec.WrongType) as info:
        codec.decode_client('{"command": "play", "streamId": "a", "trackList": 3}')
    assert info.value.command == "play" and info.value.stream_id == "a"
    assert info.value.field == "trackList"


def test_known_but_unimplemented_commands_are_read() -> None:
    message = codec.decode_client('{"command": "getSubtracks", "streamId": "r", "offset": 0}')
    assert message == codec.Unsupported(name="getSubtracks", stream_id="r")


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


@given(
    command=st.sampled_from([*codec._CLIENT, "x", ""]),
    body=st.dictionaries(
        st.sampled_from(
            [
                "streamId",
                "room",
                "trackList",
                "label",
                "candidate",
                "enabled",
                "trackId",
                "sdp",
                "type",
                "token",
            ]
        ),
        _json,
        max_size=6,
    ),
)
def test_any_json_object_decodes_or_raises_a_decode_error(
    command: str, body: dict[str, Any]
) -> None:
    try:
        message = codec.decode_client(json.dumps({"command": command, **body}))
    except codec.DecodeError:
        return
    assert codec.decode_client(codec.encode(message)) == message
