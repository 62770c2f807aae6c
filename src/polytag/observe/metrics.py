"""The Prometheus metrics of one app: a registry of its own (several apps in one process never
clash), requests and latencies by front end and route, store errors, and the membership index
cache and the apps resident within the memory budget (read from the core's plain counters at
scrape time, so the core pays one `+= 1`)."""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterator
from itertools import accumulate
from typing import Any, Protocol

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

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


class ResidentCounters(Protocol):
    """What the core's memory budget reports (polytag.core.resident.Resident)."""

    budget: int | None
    loads: int
    evictions: int

    def resident_bytes(self) -> int: ...
    def resident_apps(self) -> int: ...


class ResidentApps(Collector):
    """The apps whose index and subject directory this process holds: their estimated bytes,
    how many, the budget, and how many were loaded and dropped for it."""

    def __init__(self, resident: ResidentCounters) -> None:
        self.resident = resident

    def collect(self) -> Iterator[Metric]:
        r = self.resident
        yield GaugeMetricFamily("polytag_index_resident_bytes", "Estimated bytes of the membership "
                                "indexes and subject directories held in memory", value=r.resident_bytes())
        yield GaugeMetricFamily("polytag_index_resident_apps", "Apps whose index or directory is held "
                                "in memory", value=r.resident_apps())
        yield GaugeMetricFamily("polytag_index_budget_bytes", "The budget for them (--index-memory; "
                                "0: none)", value=r.budget or 0)
        yield CounterMetricFamily("polytag_index_app_loads", "Apps that became resident (first use, or "
                                  "use after an eviction)", value=r.loads)
        yield CounterMetricFamily("polytag_index_evictions", "Apps dropped from memory to stay within "
                                  "the budget (reloaded from the database on next use)", value=r.evictions)


class RequestCounts(Collector):
    """Requests by (front end, route, code, status) and their latency by (front end, route),
    counted in plain dicts and turned into Prometheus families at scrape time: a request pays
    a few dict operations, not a labelled child's locks. `record` runs on the server's event
    loop thread (every front end reports from there), so nothing else writes the dicts."""

    REQUESTS = ("polytag_requests", "Requests answered, by front end, route, code (vendor code, 0 = "
                "success; native and control: 0 below HTTP 400, else the status) and HTTP status")
    LATENCY = ("polytag_request_duration_seconds", "Time to answer a request, by front end and route")

    def __init__(self) -> None:
        self._counts: dict[tuple[str, str, Any, int], int] = {}
        # (front end, route) -> per-bucket counts (the last one is +Inf), then the sum of seconds
        self._latency: dict[tuple[str, str], list[float]] = {}
        self._bounds = [floatToGoString(b) for b in BUCKETS]

    def record(self, dialect: str, path: str, code: Any, status: int, seconds: float) -> None:
        key = (dialect, path, code, status)
        counts = self._counts
        counts[key] = counts.get(key, 0) + 1
        hist = self._latency.get((dialect, path))
        if hist is None:
            hist = self._latency[(dialect, path)] = [0.0] * (len(BUCKETS) + 2)
        hist[bisect_left(BUCKETS, seconds)] += 1
        hist[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(*self.REQUESTS, labels=["dialect", "path", "code", "status"])
        for (dialect, path, code, status), n in list(self._counts.items()):
            requests.add_metric([dialect, path, str(code), str(status)], n)
        yield requests
        latency = HistogramMetricFamily(*self.LATENCY, labels=["dialect", "path"])
        for labels, hist in list(self._latency.items()):
            cumulative = list(accumulate(hist[:-1]))
            buckets = [*zip(self._bounds, cumulative, strict=False), ("+Inf", cumulative[-1])]
            latency.add_metric(list(labels), buckets, sum_value=hist[-1])
        yield latency


class Metrics:
    """The families of one app's registry."""

    def __init__(self, index: IndexCounters | None = None, resident: ResidentCounters | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.requests = RequestCounts()
        self.registry.register(self.requests)
        self.errors = Counter(
            "polytag_store_errors", "Requests that failed in the store (unavailable) or unexpectedly "
            "(unexpected): answered with the vendor's system error, or a 5xx", ("dialect", "kind"),
            registry=self.registry)
        if index is not None:
            self.registry.register(IndexCache(index))
        if resident is not None:
            self.registry.register(ResidentApps(resident))

    def record(self, dialect: str, path: str, code: Any, status: int, seconds: float) -> None:
        """Count one answer and its latency."""
        self.requests.record(dialect, path, code, status, seconds)

    def error(self, dialect: str, kind: str) -> None:
        self.errors.labels(dialect, kind).inc()

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
