from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.media import MediaConfig, MediaEngine, Publisher, Subscriber
from tests.core.media.clients import ClientPublisher, ClientSubscriber

LOOPBACK_CONFIG = MediaConfig(host_addresses=("127.0.0.1",))


@pytest.fixture
async def engine() -> AsyncIterator[MediaEngine]:
    engine = MediaEngine(LOOPBACK_CONFIG)
    yield engine
    await engine.close()


async def publish(engine: MediaEngine, client: ClientPublisher) -> Publisher:
    publisher = engine.publisher(name="pub")
    await client.accept_answer(await publisher.accept_offer(await client.offer()))
    return publisher


async def subscribe_server_offer(
    engine: MediaEngine, publisher: Publisher, client: ClientSubscriber
) -> Subscriber:
    subscriber = engine.subscriber(name="sub")
    subscriber.attach(publisher)
    await subscriber.accept_answer(await client.answer(await subscriber.create_offer()))
    return subscriber


async def subscribe_client_offer(
    engine: MediaEngine, publisher: Publisher, client: ClientSubscriber, **offer: object
) -> Subscriber:
    subscriber = engine.subscriber(name="sub")
    subscriber.attach(publisher)
    await client.accept_answer(await subscriber.accept_offer(await client.offer(**offer)))  # type: ignore[arg-type]
    return subscriber
