"""The WHIP / WHEP wire formats: HTTP bodies and headers ⇄ typed values, and nothing else.

* :class:`SdpFrag` -- ``application/trickle-ice-sdpfrag`` bodies (RFC 8840) of ``PATCH``.
* :class:`OfferSummary` -- what the dialect needs to know of an SDP offer before handing it to
  the media plane (media kinds, mids, ICE credentials), and the offer's sanity checks.
* :class:`IceServerLink` -- ``Link: <turn:...>; rel="ice-server"`` header values (RFC 9725).
* :class:`Problem` -- ``application/problem+json`` bodies (RFC 9457).
* Entity tags (``ETag`` / ``If-Match``), ``Authorization: Bearer`` and the ``Retry-After``
  value.

No I/O happens here; every parse error is a :class:`CodecError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

SDP = "application/sdp"
SDPFRAG = "application/trickle-ice-sdpfrag"
PROBLEM_JSON = "application/problem+json"


class CodecError(ValueError):
    """A body or header that cannot be read."""


# -- SDP helpers ---------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.replace("\r\n", "\n").split("\n") if line.strip()]


def _check_line(line: str) -> tuple[str, str]:
    if len(line) < 2 or line[1] != "=" or not line[0].isalpha():
        raise CodecError(f"not an SDP line: {line[:40]!r}")
    return line[0], line[2:]


def _attribute(value: str) -> tuple[str, str | None]:
    name, sep, rest = value.partition(":")
    return name, rest if sep else None


@dataclass(frozen=True)
class MediaSection:
    """One ``m=`` section of an offer: its kind, its mid and its direction."""

    kind: str
    mid: str | None
    direction: str
    port: int


@dataclass(frozen=True)
class OfferSummary:
    """The parts of an SDP offer the dialect reads; the offer itself goes to the media plane
    untouched."""

    media: tuple[MediaSection, ...]
    ice_ufrag: str | None = None
    ice_pwd: str | None = None

    @classmethod
    def parse(cls, text: str) -> OfferSummary:
        lines = _lines(text)
        if not lines or lines[0] != "v=0":
            raise CodecError("an SDP description starts with v=0")
        session_ufrag: str | None = None
        session_pwd: str | None = None
        sections: list[dict[str, Any]] = []
        for line in lines:
            kind, value = _check_line(line)
            if kind == "m":
                parts = value.split()
                if len(parts) < 4:
                    raise CodecError(f"malformed m= line: {value[:40]!r}")
                try:
                    port = int(parts[1].split("/")[0])
                except ValueError as exc:
                    raise CodecError(f"malformed m= port: {parts[1][:20]!r}") from exc
                sections.append(
                    {"kind": parts[0], "mid": None, "direction": "sendrecv", "port": port}
                )
                continue
            if kind != "a":
                continue
            name, rest = _attribute(value)
            target = sections[-1] if sections else None
            if name == "mid" and target is not None:
                target["mid"] = rest
            elif name in ("sendrecv", "sendonly", "recvonly", "inactive") and target is not None:
                target["direction"] = name
            elif name == "ice-ufrag":
                if target is None:
                    session_ufrag = rest
                else:
                    target.setdefault("ufrag", rest)
            elif name == "ice-pwd":
                if target is None:
                    session_pwd = rest
                else:
                    target.setdefault("pwd", rest)
        if not sections:
            raise CodecError("the offer has no media section")
        first = sections[0]
        return cls(
            media=tuple(
                MediaSection(kind=s["kind"], mid=s["mid"], direction=s["direction"], port=s["port"])
                for s in sections
            ),
            ice_ufrag=session_ufrag or first.get("ufrag"),
            ice_pwd=session_pwd or first.get("pwd"),
        )

    @property
    def mids(self) -> list[str | None]:
        return [m.mid for m in self.media]

    def active(self) -> list[MediaSection]:
        """Sections that are not rejected (port 0) nor inactive."""
        return [m for m in self.media if m.port != 0 and m.direction != "inactive"]

    def kind_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for section in self.active():
            counts[section.kind] = counts.get(section.kind, 0) + 1
        return counts

    def track_problem(self, *, sending: bool) -> str | None:
        """Why the offer breaks the WHIP/WHEP track rules (at most one audio and one video
        track, nothing but audio and video), or ``None`` when it does not. ``sending``: the
        offerer sends media (WHIP), else it receives (WHEP)."""
        for section in self.active():
            if section.kind not in ("audio", "video"):
                return f"{section.kind} media sections are not supported"
            wrong = "recvonly" if sending else "sendonly"
            if section.direction == wrong:
                return f"a {wrong} {section.kind} section is not allowed here"
        counts = self.kind_counts()
        if not counts:
            return "the offer has no active audio or video section"
        for kind, count in counts.items():
            if count > 1:
                return f"at most one {kind} track is supported, the offer has {count}"
        return None


# -- trickle ICE fragments (RFC 8840) ------------------------------------------------------------


@dataclass(frozen=True)
class FragMedia:
    """One media description of a fragment: its mid and its candidates (each without the
    ``a=`` prefix, e.g. ``candidate:1 1 udp 2122260223 192.0.2.1 61764 typ host``)."""

    mid: str | None
    candidates: tuple[str, ...] = ()
    end_of_candidates: bool = False
    m_line: str = "audio 9 RTP/AVP 0"


@dataclass(frozen=True)
class SdpFrag:
    """An ``application/trickle-ice-sdpfrag`` body."""

    ice_ufrag: str | None = None
    ice_pwd: str | None = None
    media: tuple[FragMedia, ...] = ()
    ice_options: str | None = None

    @classmethod
    def parse(cls, text: str) -> SdpFrag:
        ufrag = pwd = options = None
        media: list[dict[str, Any]] = []
        for line in _lines(text):
            kind, value = _check_line(line)
            if kind == "m":
                media.append({"mid": None, "candidates": [], "end": False, "m_line": value})
                continue
            if kind != "a":
                raise CodecError(f"an sdpfrag holds only a= and m= lines, not {kind}=")
            name, rest = _attribute(value)
            target = media[-1] if media else None
            if name == "ice-ufrag":
                ufrag = rest
            elif name == "ice-pwd":
                pwd = rest
            elif name == "ice-options":
                options = rest
            elif name == "mid":
                if target is None:
                    raise CodecError("a=mid before any m= line")
                target["mid"] = rest
            elif name == "candidate":
                if not rest or len(rest.split()) < 8:
                    raise CodecError(f"malformed candidate: {value[:60]!r}")
                if target is None:
                    raise CodecError("a=candidate before any m= line")
                target["candidates"].append(value)
            elif name == "end-of-candidates":
                if target is None:  # session level: ends every section
                    for m in media:
                        m["end"] = True
                else:
                    target["end"] = True
        if (ufrag is None) != (pwd is None):
            raise CodecError("a=ice-ufrag and a=ice-pwd go together")
        return cls(
            ice_ufrag=ufrag,
            ice_pwd=pwd,
            ice_options=options,
            media=tuple(
                FragMedia(
                    mid=m["mid"],
                    candidates=tuple(m["candidates"]),
                    end_of_candidates=m["end"],
                    m_line=m["m_line"],
                )
                for m in media
            ),
        )

    def __str__(self) -> str:
        lines: list[str] = []
        if self.ice_options is not None:
            lines.append(f"a=ice-options:{self.ice_options}")
        if self.ice_ufrag is not None:
            lines.append(f"a=ice-ufrag:{self.ice_ufrag}")
        if self.ice_pwd is not None:
            lines.append(f"a=ice-pwd:{self.ice_pwd}")
        for m in self.media:
            lines.append(f"m={m.m_line}")
            if m.mid is not None:
                lines.append(f"a=mid:{m.mid}")
            lines += [f"a={c}" for c in m.candidates]
            if m.end_of_candidates:
                lines.append("a=end-of-candidates")
        return "".join(line + "\r\n" for line in lines)

    def candidates(self) -> list[tuple[str | None, str]]:
        """Every ``(mid, candidate)`` pair in order."""
        return [(m.mid, c) for m in self.media for c in m.candidates]


# -- ICE servers as Link headers (RFC 9725 section 4.6) ------------------------------------------


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@dataclass(frozen=True)
class IceServerLink:
    """One STUN or TURN URL as a ``Link`` header value."""

    url: str
    username: str | None = None
    credential: str | None = None

    def __str__(self) -> str:
        if any(c in self.url for c in "<>\r\n"):
            raise CodecError("an ICE server URL cannot hold <, > or a line break")
        value = f'<{self.url}>; rel="ice-server"'
        if self.username is not None and self.credential is not None:
            value += (
                f"; username={_quoted(self.username)}; credential={_quoted(self.credential)}"
                '; credential-type="password"'
            )
        return value

    @classmethod
    def for_servers(
        cls, servers: Iterable[tuple[Sequence[str], str | None, str | None]]
    ) -> list[IceServerLink]:
        """One link per URL of each ``(urls, username, credential)``; credentials go only
        with ``turn:``/``turns:`` URLs."""
        links: list[IceServerLink] = []
        for urls, username, credential in servers:
            for url in urls:
                turn = url.lower().startswith(("turn:", "turns:"))
                links.append(cls(url, username if turn else None, credential if turn else None))
        return links

    _LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[\w-]+\s*=\s*(?:\"(?:[^\"\\]|\\.)*\"|[^;,]*))*)")
    _PARAM = re.compile(r";\s*([\w-]+)\s*=\s*(\"(?:[^\"\\]|\\.)*\"|[^;,]*)")

    @classmethod
    def parse_all(cls, header: str) -> list[IceServerLink]:
        """Every ``rel="ice-server"`` link in a (possibly comma-joined) ``Link`` value."""
        links: list[IceServerLink] = []
        for match in cls._LINK.finditer(header):
            params: dict[str, str] = {}
            for name, raw in cls._PARAM.findall(match.group(2)):
                if raw.startswith('"'):
                    raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
                params[name.lower()] = raw.strip()
            if params.get("rel") == "ice-server":
                links.append(cls(match.group(1), params.get("username"), params.get("credential")))
        return links


# -- problem details (RFC 9457) ------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """An ``application/problem+json`` body. ``code`` is an extension member naming the
    domain error (``stream_not_found``, ``bad_sdp``, ...)."""

    status: int
    detail: str = ""
    code: str | None = None
    type: str = "about:blank"
    title: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        title = self.title
        if title is None:
            try:
                title = HTTPStatus(self.status).phrase
            except ValueError:
                title = "Error"
        body: dict[str, Any] = {"type": self.type, "title": title, "status": self.status}
        if self.detail:
            body["detail"] = self.detail
        if self.code is not None:
            body["code"] = self.code
        body.update(self.extra)
        return body

    def __bytes__(self) -> bytes:
        return json.dumps(self.to_dict(), separators=(",", ":")).encode()

    @classmethod
    def parse(cls, data: bytes | str) -> Problem:
        try:
            body = json.loads(data)
        except (ValueError, RecursionError) as exc:
            raise CodecError("not a JSON problem document") from exc
        if not isinstance(body, dict) or not isinstance(body.get("status"), int):
            raise CodecError("a problem document is an object with an integer status")
        known = {"type", "title", "status", "detail", "code"}
        return cls(
            status=body["status"],
            detail=str(body.get("detail", "")),
            code=body.get("code"),
            type=str(body.get("type", "about:blank")),
            title=body.get("title"),
            extra={k: v for k, v in body.items() if k not in known},
        )


# -- headers -------------------------------------------------------------------------------------


def etag(tag: str) -> str:
    """A strong entity tag as written in ``ETag``."""
    if '"' in tag or not tag:
        raise CodecError("an entity tag is a non-empty string without quotes")
    return f'"{tag}"'


@dataclass(frozen=True)
class IfMatch:
    """An ``If-Match`` header: ``*`` (any: an ICE restart in WHIP) or a list of tags."""

    any: bool
    tags: tuple[str, ...] = ()

    @classmethod
    def parse(cls, header: str) -> IfMatch:
        value = header.strip()
        if value == "*":
            return cls(any=True)
        tags = []
        for part in value.split(","):
            part = part.strip()
            if part.startswith("W/"):
                part = part[2:]
            if len(part) < 2 or not (part.startswith('"') and part.endswith('"')):
                raise CodecError(f"malformed entity tag: {part[:40]!r}")
            tags.append(part[1:-1])
        if not tags:
            raise CodecError("empty If-Match")
        return cls(any=False, tags=tuple(tags))

    def matches(self, tag: str) -> bool:
        return self.any or tag in self.tags


def bearer_token(header: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or ``None``."""
    if not header:
        return None
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def www_authenticate(realm: str, error: str | None = None) -> str:
    value = f"Bearer realm={_quoted(realm)}"
    if error is not None:
        value += f", error={_quoted(error)}"
    return value


def retry_after(seconds: float) -> str:
    return str(max(1, round(seconds)))


def media_type(content_type: str | None) -> str:
    """The media type of a ``Content-Type`` value, lowercased, without parameters."""
    return (content_type or "").split(";", 1)[0].strip().lower()
