"""The HTTP client the core's delivery queue and webhook dispatcher use, on aiohttp."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import aiohttp

CHUNK = 256 * 1024


async def _chunks(path: Path) -> AsyncIterator[bytes]:
    """The file's bytes, read off the event loop."""
    handle = await asyncio.to_thread(path.open, "rb")
    try:
        while chunk := await asyncio.to_thread(handle.read, CHUNK):
            yield chunk
    finally:
        await asyncio.to_thread(handle.close)


class AiohttpClient:
    """Implements ``core.delivery.HttpClient``. One per gateway; :meth:`close` on shutdown.

    Errors without a response come out as ``OSError`` or ``TimeoutError``.
    """

    def __init__(self, *, timeout: float = 30.0, upload_timeout: float = 600.0) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._upload_timeout = aiohttp.ClientTimeout(total=upload_timeout, sock_read=timeout)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(trust_env=False)
        return self._session

    async def put(self, url: str, path: Path, headers: Mapping[str, str]) -> int:
        size = (await asyncio.to_thread(path.stat)).st_size
        all_headers = {"Content-Length": str(size)} | dict(headers)
        all_headers.setdefault("Content-Type", "application/octet-stream")
        try:
            async with self._client().put(
                url, data=_chunks(path), headers=all_headers, timeout=self._upload_timeout
            ) as response:
                await response.read()
                return response.status
        except aiohttp.ClientError as exc:
            raise OSError(str(exc) or type(exc).__name__) from exc

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> int:
        try:
            async with self._client().post(
                url, data=body, headers=dict(headers), timeout=self._timeout
            ) as response:
                await response.read()
                return response.status
        except aiohttp.ClientError as exc:
            raise OSError(str(exc) or type(exc).__name__) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
