"""Fails, naming the member, when an aiortc or aioice upgrade moves a private member we use."""

from __future__ import annotations

from core.media import _aiortc


async def test_private_members_exist() -> None:
    missing = await _aiortc.missing_members()
    assert not missing, (
        "aiortc/aioice no longer has these private members used by core/media/_aiortc.py: "
        + ", ".join(missing)
    )


def test_get_host_addresses_still_exists() -> None:
    addresses = _aiortc.default_host_addresses()
    assert "127.0.0.1" in addresses
