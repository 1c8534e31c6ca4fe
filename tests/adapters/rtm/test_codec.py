"""The RTM codec, on the frames of the vendor's own documentation."""

from __future__ import annotations

import json

import pytest

from adapters.rtm import codec

SEED_FRAMES = [
    {
        "type": "session_start",
        "client_id": "client-3987830",
        "session_id": "2633650b-9e24-4872-aec5-b39cdfc65ebf",
        "data": {
            "sdp": {"type": "offer", "sdp": "..."},
            "webhook_url": "https://yourserver.com/streamrec",
        },
    },
    {
        "type": "sdp_update",
        "client_id": "client-3987830",
        "session_id": "2633650b-9e24-4872-aec5-b39cdfc65ebf",
        "data": {"sdp": {"type": "answer", "sdp": "..."}},
    },
    {
        "type": "candidate",
        "client_id": "client-3987830",
        "session_id": "2633650b-9e24-4872-aec5-b39cdfc65ebf",
        "data": {
            "candidate": {
                "candidate": "candidate:170793244 1 udp 2122194687 192.168.0.188 44360 typ host "
                "generation 0 ufrag AwAs network-id 1",
                "sdpMid": "0",
                "sdpMLineIndex": 0,
                "usernameFragment": "AwAs",
            }
        },
    },
    {
        "type": "session_state",
        "client_id": "client-3987830",
        "session_id": "2633650b-9e24-4872-aec5-b39cdfc65ebf",
        "data": {"state": "TERMINATED", "termination_cause": "TERM_BY_CLIENT"},
    },
    {"type": "msg ping", "client_id": "c-0", "session_id": "s-1", "data": {}},
    {"type": "msg pong", "client_id": "c-0", "session_id": "s-1", "data": {}},
    {
        "type": "supervisor_join_session",
        "client_id": "sup",
        "session_id": "s-2",
        "data": {"sdp": {"type": "offer", "sdp": "..."}, "session_id_to_monitor": "s-1"},
    },
    {
        "type": "recording_start",
        "client_id": "c-0",
        "session_id": "s-1",
        "data": {"upload_url": "https://x/put", "webhook_url": "https://x/hook"},
    },
    {
        "type": "recording_state",
        "client_id": "c-0",
        "session_id": "s-1",
        "data": {"recording_id": "r", "state": "STARTED"},
    },
    {"type": "recording_stop", "client_id": "c-0", "session_id": "s-1", "data": {}},
    {"type": "session_stop", "client_id": "c-0", "session_id": "s-1", "data": {}},
]


@pytest.mark.parametrize("frame", SEED_FRAMES, ids=lambda f: f["type"])
def test_round_trip(frame: dict[str, object]) -> None:
    decoded = codec.decode(json.dumps(frame))
    assert decoded.type == frame["type"]
    assert json.loads(codec.encode(decoded)) == frame


def test_typed_fields() -> None:
    start = codec.decode(json.dumps(SEED_FRAMES[0])).message
    assert isinstance(start, codec.SessionStart)
    assert start.sdp == codec.Sdp("offer", "...")
    assert start.webhook_url == "https://yourserver.com/streamrec"


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"client_id": "c"}',
        '{"type": "nonsense", "data": {}}',
        '{"type": "session_start", "data": {}}',
        '{"type": "session_start", "data": {"sdp": "v=0"}}',
        '{"type": "supervisor_join_session", "data": {"sdp": {"type": "offer", "sdp": ""}}}',
        '{"type": "candidate", "data": {"candidate": {"sdpMLineIndex": "0"}}}',
        '{"type": "session_stop", "client_id": 5}',
    ],
)
def test_malformed_frames_raise(text: str) -> None:
    with pytest.raises(codec.CodecError):
        codec.decode(text)
