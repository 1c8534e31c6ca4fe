"""Prometheus metrics of one gateway process, at ``GET /metrics``.

Every application has its own :class:`prometheus_client.CollectorRegistry`: nothing is
registered in the library's global default registry, so two gateways in one process (tests,
embedding) never share a number.

Nothing here runs per packet. What the hub holds (sessions, streams, subscribers, rooms, the
media counters of every endpoint) is read when Prometheus scrapes, by :class:`HubCollector`.
The media counters of endpoints that closed since are kept by observing the event bus: when a
stream ends or a subscription closes, its final counters are added to the totals, so the
``_total`` series only ever grow.

What happens elsewhere is counted where it happens: file deliveries and webhooks through the
observers of :class:`~core.delivery.DeliveryQueue` and
:class:`~core.webhooks.WebhookDispatcher`; recordings started from the admin API by
:meth:`Metrics.recording_finished`; cluster relays by :meth:`Metrics.set_cluster_relays`,
which the cluster code calls with its current count.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.registry import Collector

from core import events
from core.delivery import DeliveryOutcome, DeliveryQueue
from core.hub import Hub
from core.media import TrackStats
from core.stream import Stream, Subscription
from core.webhooks import WebhookDispatcher, WebhookOutcome

PREFIX = "switchboard"


@dataclass
class MediaTotals:
    """Media counters summed over endpoints, by ``(side, kind)``; ``side`` is ``publisher``
    (received from publishers) or ``subscriber`` (sent to subscribers)."""

    packets: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    bytes: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    nacks: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    plis: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))
    retransmitted: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    def add(self, side: str, stats: dict[str, TrackStats]) -> None:
        for kind, s in stats.items():
            key = (side, kind)
            self.packets[key] += s.packets
            self.bytes[key] += s.bytes
            self.nacks[key] += s.nack_count
            self.plis[key] += s.pli_count
            self.retransmitted[key] += s.retransmitted

    def plus(self, other: MediaTotals) -> MediaTotals:
        total = MediaTotals()
        for mine, theirs, out in (
            (self.packets, other.packets, total.packets),
            (self.bytes, other.bytes, total.bytes),
            (self.nacks, other.nacks, total.nacks),
            (self.plis, other.plis, total.plis),
            (self.retransmitted, other.retransmitted, total.retransmitted),
        ):
            for key in mine.keys() | theirs.keys():
                out[key] = mine.get(key, 0) + theirs.get(key, 0)
        return total


def _stats(read: Callable[[], dict[str, TrackStats]]) -> dict[str, TrackStats]:
    try:
        return read()
    except Exception:  # an endpoint torn down under us: its counters are lost, not the scrape
        return {}


class HubCollector(Collector):
    """Reads the hub when scraped. Keeps the final counters of closed endpoints (from the
    event bus) so that the media counters are monotonic."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.retired = MediaTotals()
        self._streams: dict[str, Stream] = {}  # by str(key), published and not ended
        self._subscriptions: dict[str, Subscription] = {}  # by id, not ended
        self.unsubscribe = hub.bus.subscribe(self._on_event)

    # -- the bus: remember endpoints, retire their counters when they close -------------------

    def _on_event(self, event: events.Event) -> None:
        if isinstance(event, events.StreamPublished):
            stream = self.hub.streams_by_key.get(event.key)
            if stream is not None:
                self._streams[str(event.key)] = stream
        elif isinstance(event, events.StreamEnded):
            stream = self._streams.pop(str(event.key), None)
            if stream is not None:
                self.retired.add("publisher", _stats(stream.stats))
        elif isinstance(event, events.SubscriberJoined):
            session = self.hub.sessions.get(event.session_id)
            if session is not None and event.subscription_id not in self._subscriptions:
                subscription = self._find_subscription(event)
                if subscription is not None:
                    self._subscriptions[event.subscription_id] = subscription
        elif isinstance(event, events.SubscriptionEnded):
            subscription = self._subscriptions.pop(event.subscription_id, None)
            if subscription is not None:
                self.retired.add("subscriber", _stats(subscription.endpoint.stats))

    def _find_subscription(self, event: events.SubscriberJoined) -> Subscription | None:
        stream = self.hub.streams_by_key.get(event.key)
        if stream is None:
            return None
        return next((s for s in stream.subscriptions if s.id == event.subscription_id), None)

    # -- the scrape ----------------------------------------------------------------------------

    def live_totals(self) -> MediaTotals:
        live = MediaTotals()
        for stream in self._streams.values():
            live.add("publisher", _stats(stream.stats))
        for subscription in self._subscriptions.values():
            live.add("subscriber", _stats(subscription.endpoint.stats))
        return live

    def describe(self) -> Iterable[Metric]:
        return []  # the families depend on the hub; the registry need not check names

    def collect(self) -> Iterator[Metric]:
        hub = self.hub
        sessions = GaugeMetricFamily(
            f"{PREFIX}_sessions", "Open signalling sessions, by dialect", labels=["dialect"]
        )
        by_dialect: dict[str, int] = defaultdict(int)
        for session in hub.sessions.values():
            by_dialect[session.dialect] += 1
        for dialect, count in sorted(by_dialect.items()):
            sessions.add_metric([dialect], count)
        yield sessions

        streams = GaugeMetricFamily(
            f"{PREFIX}_streams", "Published streams, by state", labels=["state"]
        )
        by_state = {"pending": 0, "live": 0}
        subscribers = 0
        for stream in hub.streams_by_key.values():
            by_state[stream.state.value] = by_state.get(stream.state.value, 0) + 1
            subscribers += len(stream.subscriptions)
        for state, count in by_state.items():
            streams.add_metric([state], count)
        yield streams
        yield GaugeMetricFamily(
            f"{PREFIX}_subscribers",
            "Subscriptions fed by a published stream (one per stream and player)",
            value=subscribers,
        )
        yield GaugeMetricFamily(f"{PREFIX}_rooms", "Open rooms", value=len(hub.rooms))
        yield GaugeMetricFamily(
            f"{PREFIX}_room_members",
            "Members of all rooms",
            value=sum(len(r.members) for r in hub.rooms.values()),
        )
        yield GaugeMetricFamily(
            f"{PREFIX}_media_endpoints", "Open peer connections", value=hub.media.endpoint_count
        )

        totals = self.retired.plus(self.live_totals())
        for name, doc, values in (
            ("media_packets", "RTP packets received from publishers or sent to subscribers",
             totals.packets),
            ("media_bytes", "RTP payload bytes received from publishers or sent to subscribers",
             totals.bytes),
            ("nack_packets", "Sequence numbers NACKed: by the gateway to publishers (side="
             "publisher), by subscribers to the gateway, each answered by an RTX "
             "retransmission when still cached (side=subscriber)", totals.nacks),
            ("pli", "Keyframe requests (PLI/FIR): sent to publishers (side=publisher), "
             "received from subscribers (side=subscriber)", totals.plis),
            ("rtx_packets", "Packets sent again to subscribers to answer their NACKs, as RTX "
             "when the subscriber negotiated it", totals.retransmitted),
        ):  # fmt: skip
            family = CounterMetricFamily(f"{PREFIX}_{name}", doc, labels=["side", "kind"])
            for (side, kind), value in sorted(values.items()):
                family.add_metric([side, kind], value)
            yield family

        yield CounterMetricFamily(
            f"{PREFIX}_event_loop_cpu_seconds",
            "CPU time of the event loop thread, where RTP is forwarded and signalling runs",
            value=time.thread_time(),
        )


class Metrics:
    """The metrics of one application. Reach it with ``app[METRICS]`` (or the ``metrics``
    service of ``GatewayContext.services``)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        ProcessCollector(registry=self.registry)
        self.hub_collector: HubCollector | None = None
        self.deliveries = Counter(
            f"{PREFIX}_deliveries",
            "Attempts at delivering a finished file (target dir: moved to a local directory, "
            "which is how local recordings are stored; put: an HTTP upload), by outcome",
            ["target", "outcome"],
            registry=self.registry,
        )
        self.webhooks = Counter(
            f"{PREFIX}_webhooks",
            "Attempts at posting a webhook, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.recordings = Counter(
            f"{PREFIX}_recordings",
            "Recordings started from the admin API that finished, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.recordings_active = Gauge(
            f"{PREFIX}_recordings_active",
            "Recordings started from the admin API that are running",
            registry=self.registry,
        )
        self.cluster_relays = Gauge(
            f"{PREFIX}_cluster_relays",
            "Streams relayed between cluster nodes, by direction (in: pulled from a peer, "
            "out: pushed to a peer)",
            ["direction"],
            registry=self.registry,
        )
        self._unobserve: list[Callable[[], None]] = []

    # -- wiring --------------------------------------------------------------------------------

    def watch_hub(self, hub: Hub) -> None:
        """Read ``hub`` at every scrape."""
        self.hub_collector = HubCollector(hub)
        self.registry.register(self.hub_collector)
        self._unobserve.append(self.hub_collector.unsubscribe)

    def watch_deliveries(self, queue: DeliveryQueue) -> None:
        self._unobserve.append(queue.observe(self.delivery_attempted))

    def watch_webhooks(self, dispatcher: WebhookDispatcher) -> None:
        self._unobserve.append(dispatcher.observe(self.webhook_attempted))

    def close(self) -> None:
        """Stop observing (idempotent)."""
        for stop in self._unobserve:
            stop()
        self._unobserve = []
        if self.hub_collector is not None:
            self.registry.unregister(self.hub_collector)
            self.hub_collector = None

    # -- what others report ----------------------------------------------------------------

    def delivery_attempted(self, outcome: DeliveryOutcome) -> None:
        self.deliveries.labels(outcome.target, _outcome(outcome.ok, outcome.will_retry)).inc()

    def webhook_attempted(self, outcome: WebhookOutcome) -> None:
        self.webhooks.labels(_outcome(outcome.ok, outcome.will_retry)).inc()

    def recording_finished(self, outcome: str) -> None:
        """``outcome``: ``finished``, ``empty`` or ``failed``."""
        self.recordings.labels(outcome).inc()

    def set_cluster_relays(self, count: int, *, direction: str = "out") -> None:
        """The number of streams this node relays to (``out``) or from (``in``) its peers."""
        self.cluster_relays.labels(direction).set(count)

    def exposition(self) -> bytes:
        """The text exposition format of every metric. Runs on the event loop thread, so
        that ``switchboard_event_loop_cpu_seconds`` measures that thread."""
        return generate_latest(self.registry)


def _outcome(ok: bool, will_retry: bool) -> str:
    if ok:
        return "delivered"
    return "failed_will_retry" if will_retry else "abandoned"


METRICS = web.AppKey("metrics", Metrics)


async def metrics_handler(request: web.Request) -> web.Response:
    """``GET /metrics``: the Prometheus text format."""
    body = request.app[METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
