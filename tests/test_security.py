"""Security properties not covered by each dialect's own refusal tests: no secret reaches
the logs at info level, session URLs and ids are unguessable, stream names are validated the
same way for every dialect."""

from __future__ import annotations

import io
import re

import aiohttp
import pytest

from core.errors import InvalidName
from core.names import validate_stream_name
from core.stream import new_id
from gateway.logging import configure_logging
from tests.adapters.whip.clients import loopback_pc, publisher_offer
from tests.fuzz.serving import serve, settled

WHIP_TOKEN = "whip-secret-token-0123456789"
RTM_TOKEN = "rtm.jwt-secret-token-0123456789"


async def test_no_token_sdp_or_ice_password_in_info_logs() -> None:
    out = io.StringIO()
    configure_logging(format="json", level="info", stream=out)
    try:
        sections = {"whip": {"whip_tokens": [WHIP_TOKEN]}, "rtm": {"master_key": "m" * 32}}
        async with (
            serve(sections=sections, access_log=True) as served,
            aiohttp.ClientSession() as http,
        ):
            pc = loopback_pc()
            offer = await publisher_offer(pc)
            headers = {"Content-Type": "application/sdp", "Authorization": f"Bearer {WHIP_TOKEN}"}
            async with http.post(served.url("/whip/cam"), data=offer, headers=headers) as r:
                assert r.status == 201
                location = r.headers["Location"]
                answer = await r.text()
            async with http.get(served.url(f"/api/v2/io?token={RTM_TOKEN}")) as r:
                assert r.status == 401
            async with http.delete(
                served.url(location), headers={"Authorization": f"Bearer {WHIP_TOKEN}"}
            ) as r:
                assert r.status == 200
            await pc.close()
            await settled(lambda: not served.hub.sessions)
    finally:
        configure_logging(level="warning")
    text = out.getvalue()
    assert "whip_session_created" in text  # the flow was logged
    secrets = [WHIP_TOKEN, RTM_TOKEN, "v=0"]
    secrets += re.findall(r"a=ice-pwd:(\S+)", offer) + re.findall(r"a=ice-pwd:(\S+)", answer)
    secrets += re.findall(r"a=fingerprint:\S+ (\S+)", offer)
    for secret in secrets:
        assert secret not in text, secret


def test_ids_are_unguessable() -> None:
    ids = {new_id() for _ in range(10_000)}
    assert len(ids) == 10_000
    assert all(len(i) >= 22 for i in ids)  # 128 random bits, URL-safe base64


@pytest.mark.parametrize(
    "name",
    ["", "../etc", "a" * 129, "a/b", "a b", "<script>", "a\x00", "-flag", "é", "a\nb"],
)
def test_stream_names_are_validated(name: str) -> None:
    with pytest.raises(InvalidName):
        validate_stream_name(name)


@pytest.mark.parametrize("name", ["..", "a%2Fb", "%00", "-x"])
async def test_whip_refuses_bad_stream_names(name: str) -> None:
    async with serve() as served, aiohttp.ClientSession() as http:
        pc = loopback_pc()
        offer = await publisher_offer(pc)
        headers = {"Content-Type": "application/sdp"}
        async with http.post(served.url(f"/whip/{name}"), data=offer, headers=headers) as r:
            assert r.status in (400, 404, 405), r.status  # ".." never reaches the dialect
        await pc.close()
        await settled(lambda: not served.hub.sessions)
        assert served.endpoint_count() == 0
