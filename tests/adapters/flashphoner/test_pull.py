"""Republishing between two gateways over real HTTP, WebSocket and WebRTC on 127.0.0.1:
``/rest-api/pull/push`` and ``/rest-api/pull/pull``, with frames decoded on the far side."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from adapters.flashphoner.client import websocket_url
from adapters.flashphoner.settings import FlashphonerSettings
from core.names import DEFAULT_NAMESPACE, StreamKey
from tests.core.media.clients import ClientSubscriber

from .conftest import Gateway, WcsClient, start_gateway, stop_gateway
from .test_flows import msid, publish, stream_object


@pytest.fixture
async def far(settings: FlashphonerSettings) -> AsyncIterator[Gateway]:
    gw = await start_gateway(settings)
    yield gw
    await stop_gateway(gw)


async def rest(gw: Gateway, method: str, body: dict[str, Any]) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        async with http.post(gw.url(f"/rest-api/pull/{method}"), json=body) as resp:
            if resp.content_type != "application/json":
                return resp.status, await resp.text()
            return resp.status, await resp.json()


async def play(gw: Gateway, name: str) -> tuple[WcsClient, ClientSubscriber, str]:
    client = await WcsClient.open(gw.ws_url)
    await client.connect()
    peer = ClientSubscriber()
    play_id = msid()
    await client.send(
        "playStream", stream_object(play_id, name, await peer.offer(), published=False)
    )
    await peer.accept_answer((await client.expect("setRemoteSDP"))["data"][1])
    await client.status(play_id, "PLAYING")
    return client, peer, play_id


async def test_push_sends_a_local_stream_to_another_gateway(gateway: Gateway, far: Gateway) -> None:
    publisher = await WcsClient.open(gateway.ws_url)
    await publisher.connect()
    pub_id, pub_peer, _ = await publish(publisher, "cam1")
    status, body = await rest(
        gateway,
        "push",
        {"uri": far.ws_url, "localStreamName": "cam1", "remoteStreamName": "far1"},
    )
    assert status == 200, body
    assert body["status"] == "PUBLISHING"
    assert body["localStreamName"] == "cam1" and body["remoteStreamName"] == "far1"
    assert body["localMediaSessionId"] and body["remoteMediaSessionId"]

    player, sub_peer, play_id = await play(far, "far1")
    await sub_peer.wait_frames("video", 10)
    assert sub_peer.video_sizes[-1] == (320, 240)

    status, _again = await rest(
        gateway, "push", {"uri": far.ws_url, "localStreamName": "cam1", "remoteStreamName": "far1"}
    )
    assert status == 409
    status, found = await rest(gateway, "find", {"localStreamName": "cam1"})
    assert status == 200 and found[0]["localMediaSessionId"] == body["localMediaSessionId"]

    # The local stream ends: the push ends, and the far player hears STOPPED.
    await publisher.send("unPublishStream", {"mediaSessionId": pub_id, "name": "cam1"})
    await player.status(play_id, "STOPPED")
    for _ in range(100):
        status, found = await rest(gateway, "find_all", {})
        if found and found[0]["status"] == "STOPPED":
            break
        await asyncio.sleep(0.05)
    assert found[0]["status"] == "STOPPED"
    status, _ = await rest(gateway, "terminate", {"localStreamName": "cam1"})
    assert status == 200
    assert (await rest(gateway, "find_all", {}))[0] == 404
    for closable in (player, publisher):
        await closable.close()
    await sub_peer.close()
    await pub_peer.close()


async def test_pull_plays_a_remote_stream_and_publishes_it_here(
    gateway: Gateway, far: Gateway
) -> None:
    publisher = await WcsClient.open(far.ws_url)
    await publisher.connect()
    _, pub_peer, _ = await publish(publisher, "remote1")
    status, body = await rest(
        gateway,
        "pull",
        {"uri": far.ws_url, "localStreamName": "local1", "remoteStreamName": "remote1"},
    )
    assert status == 200, body
    assert body["status"] == "PLAYING"

    player, sub_peer, play_id = await play(gateway, "local1")
    await sub_peer.wait_frames("video", 10)

    # The name is now taken here: a second pull under it conflicts.
    status, _ = await rest(
        gateway, "pull", {"uri": far.ws_url, "localStreamName": "local1", "remoteStreamName": "x"}
    )
    assert status == 409

    status, _ = await rest(
        gateway, "terminate", {"localMediaSessionId": body["localMediaSessionId"]}
    )
    assert status == 200
    stopped = await player.status(play_id, "STOPPED")
    assert stopped["info"]
    await player.close()
    await publisher.close()
    await sub_peer.close()
    await pub_peer.close()


async def test_pull_reconnects_after_the_remote_drops(settings: FlashphonerSettings) -> None:
    near = await start_gateway(settings.model_copy(update={"republish_retry_interval": 0.2}))
    far = await start_gateway(settings)
    publisher = await WcsClient.open(far.ws_url)
    try:
        await publisher.connect()
        pub_id, pub_peer, _ = await publish(publisher, "r1")
        status, _body = await rest(near, "pull", {"uri": far.ws_url, "localStreamName": "r1"})
        assert status == 200
        # The far publisher leaves: the pull fails and says so, then retries until it is back.
        await publisher.send("unPublishStream", {"mediaSessionId": pub_id, "name": "r1"})
        for _ in range(100):
            status, found = await rest(near, "find", {"localStreamName": "r1"})
            if found[0]["status"] == "FAILED":
                break
            await asyncio.sleep(0.05)
        assert found[0]["status"] == "FAILED" and found[0]["info"]
        await pub_peer.close()
        _, pub_peer, _ = await publish(publisher, "r1")
        for _ in range(200):
            status, found = await rest(near, "find", {"localStreamName": "r1"})
            if found[0]["status"] == "PLAYING":
                break
            await asyncio.sleep(0.05)
        assert found[0]["status"] == "PLAYING" and found[0]["attempts"] > 1
        await pub_peer.close()
    finally:
        await publisher.close()
        await stop_gateway(near)
        await stop_gateway(far)


async def test_republishing_errors(gateway: Gateway, far: Gateway) -> None:
    status, _ = await rest(gateway, "push", {"uri": far.ws_url, "localStreamName": "nothing"})
    assert status == 404
    status, body = await rest(
        gateway, "pull", {"uri": far.ws_url, "localStreamName": "n1", "remoteStreamName": "none"}
    )
    assert status == 500 and "Stream not found" in body["message"]
    status, _ = await rest(gateway, "pull", {"uri": "ws://127.0.0.1:9/", "localStreamName": "n2"})
    assert status == 500
    status, _ = await rest(gateway, "push", {"localStreamName": "n3"})
    assert status == 400
    assert (await rest(gateway, "find", {"localStreamName": "n1"}))[0] == 404
    assert (await rest(gateway, "terminate", {"localStreamName": "n1"}))[0] == 404
    assert gateway.hub.find_stream(_key("n1")) is None


def _key(name: str) -> StreamKey:
    return StreamKey(DEFAULT_NAMESPACE, name)


def test_websocket_url() -> None:
    assert websocket_url("127.0.0.1:8080", secure=False) == "ws://127.0.0.1:8080/"
    assert websocket_url("127.0.0.1:8080", secure=True) == "wss://127.0.0.1:8080/"
    assert websocket_url("wss://demo:8443", secure=False) == "wss://demo:8443/"
    assert websocket_url("ws://demo:8080", secure=True) == "wss://demo:8080/"
    assert websocket_url("http://demo:8080/x", secure=False) == "ws://demo:8080/x"
    with pytest.raises(ValueError):
        websocket_url("ftp://demo", secure=False)
