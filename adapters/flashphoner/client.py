"""A client of a remote Web Call Server's Raw WebSocket API (another Switchboard, or a WCS).

Republishing (:mod:`adapters.flashphoner.pull`) uses it to publish a local stream on a remote
server or to play a remote stream. It speaks exactly what the WebSDK speaks: ``connection``,
then ``publishStream`` / ``playStream`` with an SDP offer holding every candidate; the server
answers with ``setRemoteSDP`` and reports statuses with ``notifyStreamStatusEvent``. The media
itself is a core endpoint of the caller's; this module never touches it.

One reader task per socket reads every frame, answers the server's ``ping`` and resolves the
waiters; :meth:`WcsAgent.close` ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import structlog

from adapters.flashphoner import codec

log = structlog.get_logger(__name__)

#: Statuses after which a remote stream is gone.
FINAL = frozenset({"FAILED", "STOPPED", "UNPUBLISHED"})


class RemoteError(Exception):
    """The remote server cannot be reached, refused, or dropped the stream."""


def websocket_url(uri: str, *, secure: bool) -> str:
    """The WebSocket URL for a republishing ``uri``.

    A ``ws://`` or ``wss://`` URI is used as given, ``http(s)://`` becomes ``ws(s)://``; a bare
    ``host:port`` gets ``wss://`` when ``secure`` (WCS's ``wcs_agent_ssl``) and ``ws://``
    otherwise; ``secure`` also upgrades an explicit ``ws://``.
    """
    text = uri.strip()
    if "://" not in text:
        text = f"ws://{text}"
    parts = urlsplit(text)
    scheme = {"http": "ws", "https": "wss"}.get(parts.scheme, parts.scheme)
    if scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"not a WebSocket URI: {uri!r}")
    if secure:
        scheme = "wss"
    return urlunsplit((scheme, parts.netloc, parts.path or "/", parts.query, ""))


class WcsAgent:
    """One WebSocket connection to a remote server, carrying any number of streams."""

    def __init__(
        self,
        url: str,
        *,
        app_key: str = "defaultApp",
        timeout: float = 10.0,
        max_msg_size: int = 1 << 20,
    ) -> None:
        self.url = url
        self.app_key = app_key
        self.timeout = timeout
        self.max_msg_size = max_msg_size
        self.closed = asyncio.Event()
        self.close_reason: str | None = None
        self._http: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._reader: asyncio.Task[None] | None = None
        self._established: asyncio.Future[codec.GetUserData] | None = None
        self._answers: dict[str, asyncio.Future[str]] = {}
        self._statuses: dict[str, str] = {}
        self._status_waiters: dict[str, list[tuple[frozenset[str], asyncio.Future[str]]]] = {}
        self._watchers: list[Callable[[codec.StreamStatus], None]] = []
        self.log = log.bind(remote=url)

    # -- connection -----------------------------------------------------------------------

    async def connect(self) -> None:
        """Open the socket and establish the session; raises :class:`RemoteError`."""
        loop = asyncio.get_running_loop()
        self._established = loop.create_future()
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        try:
            async with asyncio.timeout(self.timeout):
                self._ws = await self._http.ws_connect(
                    self.url, heartbeat=None, max_msg_size=self.max_msg_size
                )
                self._reader = loop.create_task(self._read(), name=f"wcs-agent:{self.url}")
                await self._send(
                    codec.Connection(
                        app_key=self.app_key,
                        media_providers=("WebRTC",),
                        keep_alive=False,
                        extra={"urlServer": self.url, "clientVersion": "switchboard"},
                    )
                )
                user_data = await self._established
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            await self.close("connect_failed")
            raise RemoteError(f"cannot connect to {self.url}: {exc or type(exc).__name__}") from exc
        except RemoteError:
            await self.close("connect_failed")
            raise
        if user_data.status not in (None, "ESTABLISHED"):
            await self.close("refused")
            raise RemoteError(f"{self.url} refused the connection ({user_data.status})")

    async def close(self, reason: str = "closed") -> None:
        """Close the socket and end the reader (idempotent)."""
        if self.close_reason is None:
            self.close_reason = reason
        if self._ws is not None and not self._ws.closed:
            with contextlib.suppress(Exception):
                await self._ws.close()
        if self._reader is not None and self._reader is not asyncio.current_task():
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        if self._http is not None:
            await self._http.close()
        self._gone(RemoteError(f"the connection to {self.url} is closed ({reason})"))

    def _gone(self, error: RemoteError) -> None:
        if self._established is not None and not self._established.done():
            self._established.set_exception(error)
            self._established.exception()  # retrieved: nobody may be waiting any more
        for future in self._answers.values():
            if not future.done():
                future.set_exception(error)
                future.exception()
        for waiters in self._status_waiters.values():
            for _, future in waiters:
                if not future.done():
                    future.set_exception(error)
                    future.exception()
        self._answers.clear()
        self._status_waiters.clear()
        self.closed.set()

    async def _send(self, message: codec.Message) -> None:
        if self._ws is None or self._ws.closed:
            raise RemoteError(f"the connection to {self.url} is closed")
        try:
            await self._ws.send_str(codec.encode(message))
        except (ConnectionError, RuntimeError) as exc:
            raise RemoteError(f"cannot send to {self.url}: {exc}") from exc

    async def _read(self) -> None:
        assert self._ws is not None
        reason = "remote_closed"
        try:
            async for frame in self._ws:
                if frame.type is not aiohttp.WSMsgType.TEXT:
                    if frame.type is aiohttp.WSMsgType.ERROR:
                        reason = "socket_error"
                        break
                    continue
                try:
                    message = codec.decode_server(frame.data)
                except codec.DecodeError as exc:
                    self.log.debug("remote_frame_ignored", error=str(exc))
                    continue
                await self._handle(message)
        finally:
            if self.close_reason is None:
                self.close_reason = reason
            self.log.info("remote_connection_closed", reason=self.close_reason)
            self._gone(RemoteError(f"{self.url} closed the connection"))

    async def _handle(self, message: codec.Message) -> None:
        if isinstance(message, codec.Ping):
            with contextlib.suppress(RemoteError):
                await self._send(codec.Pong(raw_data=(None,)))
        elif isinstance(message, codec.GetUserData):
            if self._established is not None and not self._established.done():
                self._established.set_result(message)
        elif isinstance(message, codec.Fail) and message.api_method == "ConnectionStatusEvent":
            if self._established is not None and not self._established.done():
                self._established.set_exception(
                    RemoteError(f"{self.url} refused the connection: {message.info}")
                )
        elif isinstance(message, codec.SetRemoteSdp):
            future = self._answers.pop(message.media_session_id, None)
            if future is not None and not future.done():
                future.set_result(message.sdp)
        elif isinstance(message, codec.StreamStatus):
            self._on_status(message)

    def _on_status(self, message: codec.StreamStatus) -> None:
        msid = message.media_session_id
        self._statuses[msid] = message.status
        final = message.status in FINAL
        if final:
            answer = self._answers.pop(msid, None)
            if answer is not None and not answer.done():
                answer.set_exception(RemoteError(_words(message)))
                answer.exception()
        for wanted, future in self._status_waiters.pop(msid, []):
            if future.done():
                continue
            if message.status in wanted:
                future.set_result(message.status)
            elif final:
                future.set_exception(RemoteError(_words(message)))
                future.exception()
            else:
                self._status_waiters.setdefault(msid, []).append((wanted, future))
        for watcher in tuple(self._watchers):
            watcher(message)

    # -- streams --------------------------------------------------------------------------

    def on_status(self, watcher: Callable[[codec.StreamStatus], None]) -> None:
        """Call ``watcher`` with every ``notifyStreamStatusEvent`` the server sends."""
        self._watchers.append(watcher)

    async def publish(
        self, msid: str, name: str, offer: str, *, has_audio: bool, has_video: bool
    ) -> str:
        """Ask the server to receive ``name``; returns its answer."""
        return await self._negotiate(
            codec.PublishStream(
                media_session_id=msid,
                stream_name=name,
                published=True,
                has_audio=has_audio,
                has_video=has_video,
                status="PENDING",
                record=False,
                media_provider="WebRTC",
                sdp=offer,
            )
        )

    async def play(self, msid: str, name: str, offer: str) -> str:
        """Ask the server to send ``name``; returns its answer."""
        return await self._negotiate(
            codec.PlayStream(
                media_session_id=msid,
                stream_name=name,
                published=False,
                has_audio=True,
                has_video=True,
                status="PENDING",
                record=False,
                media_provider="WebRTC",
                sdp=offer,
            )
        )

    async def _negotiate(self, message: codec.StreamMessage) -> str:
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._answers[message.media_session_id] = future
        await self._send(message)
        try:
            async with asyncio.timeout(self.timeout):
                return await future
        except TimeoutError as exc:
            raise RemoteError(f"{self.url} sent no answer for {message.stream_name!r}") from exc
        finally:
            self._answers.pop(message.media_session_id, None)

    async def wait_status(self, msid: str, *wanted: str, within: float | None = None) -> str:
        """Wait until the stream reaches one of ``wanted``; a final status that is not wanted
        (or the socket closing) raises :class:`RemoteError`."""
        if self._statuses.get(msid) in wanted:
            return wanted[0] if len(wanted) == 1 else str(self._statuses[msid])
        if self.closed.is_set():
            raise RemoteError(f"the connection to {self.url} is closed")
        future: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._status_waiters.setdefault(msid, []).append((frozenset(wanted), future))
        try:
            async with asyncio.timeout(within if within is not None else self.timeout):
                return await future
        except TimeoutError as exc:
            raise RemoteError(f"{self.url} did not report {'/'.join(wanted)}") from exc

    def status(self, msid: str) -> str | None:
        return self._statuses.get(msid)

    async def stop(self, msid: str, name: str, *, published: bool) -> None:
        """Stop one stream (``unPublishStream`` or ``stopStream``); errors are ignored."""
        cls: type[codec.StreamMessage] = codec.UnPublishStream if published else codec.StopStream
        with contextlib.suppress(RemoteError):
            await self._send(cls(media_session_id=msid, stream_name=name))


def _words(message: codec.StreamStatus) -> str:
    return f"{message.status}: {message.info}" if message.info else message.status
