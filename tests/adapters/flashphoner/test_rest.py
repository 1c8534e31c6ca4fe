"""The WCS REST API over real HTTP, with a real aiortc publisher and player behind it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from tests.core.media.clients import ClientSubscriber

from .conftest import Gateway, WcsClient
from .test_flows import msid, publish, small_publisher, stream_object


async def post(url: str, body: Any = None, *, raw: str | None = None) -> tuple[int, Any]:
    async with aiohttp.ClientSession() as http:
        data = raw if raw is not None else (None if body is None else aiohttp.JsonPayload(body))
        async with http.post(url, data=data) as response:
            text = await response.text()
            try:
                return response.status, await response.json(content_type=None)
            except ValueError:
                return response.status, text


async def test_rest_api_on_an_idle_server(gateway: Gateway) -> None:
    assert (await post(gateway.url("/rest-api/stream/find_all")))[0] == 404
    assert (await post(gateway.url("/rest-api/connection/find_all"), {}))[0] == 404
    assert (await post(gateway.url("/rest-api/stream/find"), {"name": "x"}))[0] == 404
    assert (await post(gateway.url("/rest-api/stream/find"), raw="{nope"))[0] == 400
    assert (await post(gateway.url("/rest-api/stream/find"), [1]))[0] == 400
    assert (await post(gateway.url("/rest-api/stream/find"), {"name": 5}))[0] == 400
    assert (await post(gateway.url("/rest-api/stream/terminate"), {}))[0] == 400
    assert (await post(gateway.url("/rest-api/stream/terminate"), {"name": "x"}))[0] == 404
    async with aiohttp.ClientSession() as http, http.get(gateway.url("/")) as response:
        assert response.status == 400  # a plain GET on the WebSocket path


async def test_find_record_and_terminate(
    gateway: Gateway, clients: Callable[[], Any], tmp_path: Path
) -> None:
    pub: WcsClient = await clients()
    player: WcsClient = await clients()
    await pub.connect(custom={"user": "bob"})
    await player.connect()
    pub_id, pub_peer, _ = await publish(pub, "cam1")
    sub_peer = ClientSubscriber()
    play_id = msid()
    await player.send(
        "playStream", stream_object(play_id, "cam1", await sub_peer.offer(), published=False)
    )
    await sub_peer.accept_answer((await player.expect("setRemoteSDP"))["data"][1])
    await player.status(play_id, "PLAYING")

    status, found = await post(gateway.url("/rest-api/stream/find_all"))
    assert status == 200
    assert {(s["mediaSessionId"], s["published"]) for s in found} == {
        (pub_id, True),
        (play_id, False),
    }
    status, found = await post(
        gateway.url("/rest-api/stream/find"), {"name": "cam1", "published": True}
    )
    assert status == 200 and [s["mediaSessionId"] for s in found] == [pub_id]
    assert found[0]["status"] == "PUBLISHING" and found[0]["videoCodec"] == "VP8"

    status, conns = await post(gateway.url("/rest-api/connection/find_all"))
    assert status == 200 and len(conns) == 2
    assert {"user": "bob"} in [c.get("custom") for c in conns]

    status, started = await post(
        gateway.url("/rest-api/stream/startRecording"), {"mediaSessionId": pub_id}
    )
    assert status == 200 and started["fileName"].startswith(f"cam1-{pub_id}")
    await sub_peer.wait_frames("video", 15)
    status, stopped = await post(
        gateway.url("/rest-api/stream/stopRecording"), {"mediaSessionId": pub_id}
    )
    assert status == 200 and stopped["fileName"] == started["fileName"]
    recorded = Path(gateway.dialect.settings.recording_directory) / stopped["fileName"]
    assert recorded.stat().st_size > 1000
    assert (await post(gateway.url("/rest-api/stream/stopRecording"), {"mediaSessionId": pub_id}))[
        0
    ] == 404

    status, _ = await post(gateway.url("/rest-api/stream/terminate"), {"mediaSessionId": pub_id})
    assert status == 200
    assert (await pub.status(pub_id, "UNPUBLISHED"))["info"] == "Stopped by rest /terminate"
    assert (await player.status(play_id, "STOPPED"))["info"] == "Stopped by publisher stop"
    assert (await post(gateway.url("/rest-api/stream/find"), {"name": "cam1"}))[0] == 404
    await pub_peer.close()
    await sub_peer.close()


async def test_record_on_publish_reports_the_file(
    gateway: Gateway, clients: Callable[[], Any]
) -> None:
    pub: WcsClient = await clients()
    await pub.connect()
    peer = small_publisher()
    mid = msid()
    request = stream_object(mid, "rec1", await peer.offer(), published=True)
    request["record"] = True
    await pub.send("publishStream", request)
    await peer.accept_answer((await pub.expect("setRemoteSDP"))["data"][1])
    publishing = await pub.status(mid, "PUBLISHING")
    assert publishing["record"] is True
    assert publishing["recordName"] == f"rec1-{mid}.webm"
    await pub.expect("inboundVideoRate", lambda f: f["data"][0]["videoRate"] > 0)
    await pub.send("unPublishStream", {"mediaSessionId": mid, "name": "rec1"})
    unpublished = await pub.status(mid, "UNPUBLISHED")
    assert unpublished["recordName"] == publishing["recordName"]
    recorded = Path(gateway.dialect.settings.recording_directory) / unpublished["recordName"]
    assert recorded.stat().st_size > 1000
    await peer.close()
