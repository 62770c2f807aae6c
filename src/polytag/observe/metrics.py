"""The Prometheus metrics of one app: a registry of its own (several apps in one process never
clash), requests and latencies by front end and route, store errors, and the membership index
cache (read from the core's plain counters at scrape time, so the core pays one `+= 1`)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

OTHER = "other"  # the route label of a path no endpoint serves (keeps label cardinality bounded)
# vendor calls answer in well under a millisecond: the default buckets (5 ms and up) would hide them
BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class IndexCounters(Protocol):
    """What the core's membership index counts (polytag.core.memberships.Memberships)."""

    hits: int
    loads: int
    catch_ups: int


class IndexCache(Collector):
    """The per-app membership index cache: hits, and misses by why (built from scratch or caught up)."""

    def __init__(self, counters: IndexCounters) -> None:
        self.counters = counters

    def collect(self) -> Iterator[Metric]:
        c = self.counters
        hits = CounterMetricFamily("polytag_index_cache_hits", "Membership index lookups answered "
                                   "by a cached index already at the app's head")
        hits.add_metric([], c.hits)
        misses = CounterMetricFamily("polytag_index_cache_misses", "Membership index lookups that "
                                     "built the index (load) or applied newer log entries (catch_up)",
                                     labels=["reason"])
        misses.add_metric(["load"], c.loads)
        misses.add_metric(["catch_up"], c.catch_ups)
        yield hits
        yield misses


class Metrics:
    """The families, and the hot path's label children cached by their label values."""

    def __init__(self, index: IndexCounters | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = Counter(
            "polytag_requests", "Requests answered, by front end, route, code (vendor code, 0 = "
            "success; native and control: 0 below HTTP 400, else the status) and HTTP status",
            ("dialect", "path", "code", "status"), registry=self.registry)
        self.latency = Histogram(
            "polytag_request_duration_seconds", "Time to answer a request, by front end and route",
            ("dialect", "path"), buckets=BUCKETS, registry=self.registry)
        self.errors = Counter(
            "polytag_store_errors", "Requests that failed in the store (unavailable) or unexpectedly "
            "(unexpected): answered with the vendor's system error, or a 5xx", ("dialect", "kind"),
            registry=self.registry)
        if index is not None:
            self.registry.register(IndexCache(index))
        self._children: dict[tuple[str, str, Any, int], tuple[Any, Any]] = {}

    def record(self, dialect: str, path: str, code: Any, status: int, seconds: float) -> None:
        """Count one answer and its latency (labels formatted once per distinct combination)."""
        key = (dialect, path, code, status)
        pair = self._children.get(key)
        if pair is None:
            pair = self._children[key] = (self.requests.labels(dialect, path, str(code), str(status)),
                                          self.latency.labels(dialect, path))
        pair[0].inc()
        pair[1].observe(seconds)

    def error(self, dialect: str, kind: str) -> None:
        self.errors.labels(dialect, kind).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
