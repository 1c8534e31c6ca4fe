"""The domain errors of the core.

Every failure the core can report to a client is one of these. Adapters map them to their
dialect's own words (``streamIdInUse``, ``FAILED`` with ``info``, a ``termination_cause``, an
HTTP status); nothing above the core inspects messages to tell errors apart.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the core raises on purpose."""

    code = "domain_error"

    def __init__(self, message: str = "", **details: object) -> None:
        super().__init__(message or self.__class__.__doc__ or self.code)
        self.details = details


class StreamNotFound(DomainError):
    """No live stream has this name."""

    code = "stream_not_found"


class NameInUse(DomainError):
    """The stream name is already published."""

    code = "name_in_use"


class InvalidName(DomainError):
    """The name is empty, too long or has characters that are not allowed."""

    code = "invalid_name"


class AlreadyPublishing(DomainError):
    """This session already publishes this stream."""

    code = "already_publishing"


class AlreadyPlaying(DomainError):
    """This session already plays this stream."""

    code = "already_playing"


class Unauthorized(DomainError):
    """The credentials do not allow this action."""

    code = "unauthorized"


class LimitReached(DomainError):
    """A configured limit (subscribers, sessions, streams, ...) is reached."""

    code = "limit_reached"


class BadSdp(DomainError):
    """The session description cannot be parsed or applied."""

    code = "bad_sdp"


class CodecNotSupported(DomainError):
    """The peer cannot receive the codec the stream is published with."""

    code = "codec_not_supported"


class RoomNotFound(DomainError):
    """No room has this name."""

    code = "room_not_found"


class SessionClosed(DomainError):
    """The session is already closed."""

    code = "session_closed"
