"""The WebSDK's page is served by the shared harness at ``/flashphoner/pages/``."""

from __future__ import annotations

from tests.e2e.harness import NODE_MODULES, page_server

FLASHPHONER_SDK = NODE_MODULES / "@flashphoner" / "websdk" / "flashphoner.js"

#: ``/flashphoner/pages/...`` and ``/node_modules/...`` on 127.0.0.1; yields the base URL.
serve_pages = page_server
