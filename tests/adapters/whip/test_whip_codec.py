"""The pure codec: sdpfrag, Link headers, problem documents, entity tags, offers."""

from __future__ import annotations

import pytest

from adapters.whip.codec import (
    CodecError,
    IceServerLink,
    IfMatch,
    OfferSummary,
    Problem,
    SdpFrag,
    bearer_token,
    etag,
    media_type,
    www_authenticate,
)

# RFC 8840 section 4.4, and what Chromium's WHIP clients send (candidates on the first mid).
RFC_FRAG = (
    "a=ice-ufrag:EsAw\r\n"
    "a=ice-pwd:P2uYro0UCOQ4zxjKXaWCBui1\r\n"
    "m=audio 9 RTP/AVP 0\r\n"
    "a=mid:0\r\n"
    "a=candidate:1387637174 1 udp 2122260223 192.0.2.1 61764 typ host generation 0\r\n"
    "a=candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0\r\n"
    "a=end-of-candidates\r\n"
)

OFFER = """v=0
o=- 1 2 IN IP4 127.0.0.1
s=-
t=0 0
a=group:BUNDLE 0 1
m=audio 9 UDP/TLS/RTP/SAVPF 111
c=IN IP4 0.0.0.0
a=ice-ufrag:abcd
a=ice-pwd:0123456789012345678901
a=mid:0
a=sendonly
m=video 9 UDP/TLS/RTP/SAVPF 96
a=mid:1
a=sendonly
"""


def test_sdpfrag_round_trip() -> None:
    frag = SdpFrag.parse(RFC_FRAG)
    assert frag.ice_ufrag == "EsAw"
    assert frag.ice_pwd == "P2uYro0UCOQ4zxjKXaWCBui1"
    assert [m.mid for m in frag.media] == ["0"]
    assert frag.media[0].end_of_candidates
    assert frag.candidates()[1] == (
        "0",
        "candidate:3471623853 1 udp 2122194687 198.51.100.2 61765 typ host generation 0",
    )
    assert str(frag) == RFC_FRAG
    assert SdpFrag.parse(str(frag)) == frag


def test_sdpfrag_refuses_what_it_cannot_read() -> None:
    for text in (
        "a=candidate:1 1 udp 1 192.0.2.1 1 typ host\r\n",  # before any m= line
        "m=audio 9 RTP/AVP 0\r\na=candidate:1 1 udp\r\n",
        "v=0\r\n",
        "garbage",
        "a=ice-ufrag:x\r\n",  # without its password
    ):
        with pytest.raises(CodecError):
            SdpFrag.parse(text)


def test_ice_server_links() -> None:
    links = IceServerLink.for_servers(
        [
            (["stun:stun.example.net"], "ignored", "ignored"),
            (["turn:turn.example.net?transport=udp", "turns:t.example.net"], 'us"er', "pw"),
        ]
    )
    assert str(links[0]) == '<stun:stun.example.net>; rel="ice-server"'
    assert str(links[1]) == (
        '<turn:turn.example.net?transport=udp>; rel="ice-server"; username="us\\"er"; '
        'credential="pw"; credential-type="password"'
    )
    assert IceServerLink.parse_all(", ".join(str(link) for link in links)) == links
    assert IceServerLink.parse_all('<http://x/>; rel="next"') == []


def test_problem_document() -> None:
    problem = Problem(status=409, detail="not live yet", code="stream_not_found")
    assert problem.to_dict() == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "not live yet",
        "code": "stream_not_found",
    }
    assert Problem.parse(bytes(problem)).to_dict() == problem.to_dict()
    with pytest.raises(CodecError):
        Problem.parse(b"[]")


def test_headers() -> None:
    assert etag("abc") == '"abc"'
    assert IfMatch.parse("*").any
    assert IfMatch.parse('"a", W/"b"').tags == ("a", "b")
    assert IfMatch.parse('"a"').matches("a") and not IfMatch.parse('"a"').matches("b")
    with pytest.raises(CodecError):
        IfMatch.parse("abc")
    assert bearer_token("Bearer  tok ") == "tok"
    assert bearer_token("Basic dXNlcg==") is None and bearer_token(None) is None
    assert www_authenticate("r", "invalid_token") == 'Bearer realm="r", error="invalid_token"'
    assert media_type("Application/SDP; charset=utf-8") == "application/sdp"


def test_offer_summary() -> None:
    offer = OfferSummary.parse(OFFER)
    assert offer.mids == ["0", "1"]
    assert offer.ice_ufrag == "abcd"
    assert offer.kind_counts() == {"audio": 1, "video": 1}
    assert offer.track_problem(sending=True) is None
    assert "sendonly" in (offer.track_problem(sending=False) or "")
    two_videos = OFFER + "m=video 9 UDP/TLS/RTP/SAVPF 96\na=mid:2\na=sendonly\n"
    assert "one video" in (OfferSummary.parse(two_videos).track_problem(sending=True) or "")
    rejected = OFFER + "m=video 0 UDP/TLS/RTP/SAVPF 96\na=mid:2\n"
    assert OfferSummary.parse(rejected).track_problem(sending=True) is None
    data = OFFER + "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\na=mid:2\n"
    assert "application" in (OfferSummary.parse(data).track_problem(sending=True) or "")
    for text in ("", "hello", "v=0\r\ns=-\r\n", "v=0\r\nm=video x\r\n"):
        with pytest.raises(CodecError):
            OfferSummary.parse(text)
