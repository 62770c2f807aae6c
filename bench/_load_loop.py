"""The open loop of `bench/load.py`: requests at fixed instants, latency from the scheduled instant.

Each worker (the main process, or one of `--workers` forked processes, interleaved) sends request
i at `start + offset + i * interval` whether or not earlier ones have returned, so a slow server
shows up as latency (queueing counted) rather than as a lower offered rate. A worker that cannot
send on time records how late it was (`send_lag`), which tells a client limit from a server limit.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from _load_mix import Mix, good


@dataclass
class Part:
    """One worker's measured results (requests scheduled in the measured window only)."""

    latencies: dict[str, list[float]] = field(default_factory=dict)  # kind -> seconds from the instant
    errors: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)
    send_lags: list[float] = field(default_factory=list)  # seconds a send started after its instant
    last_done: float = 0.0  # wall clock of the last measured completion
    dropped: int = 0  # not sent: `max_inflight` requests were already waiting (the server fell behind)

    def merge(self, other: Part) -> None:
        for kind, got in other.latencies.items():
            self.latencies.setdefault(kind, []).extend(got)
        self.dropped += other.dropped
        self.errors.update(other.errors)
        self.examples += other.examples[: max(0, 10 - len(self.examples))]
        self.send_lags += other.send_lags
        self.last_done = max(self.last_done, other.last_done)


@dataclass(frozen=True)
class Plan:
    url: str
    rate: float
    start_at: float  # wall clock of instant 0
    warmup: float
    seconds: float
    workers: int
    pool: int
    seed: int
    max_inflight: int


async def drive(plan: Plan, mix: Mix, worker: int) -> Part:
    part, rng = Part(), random.Random(plan.seed * 7919 + worker)
    interval, offset = plan.workers / plan.rate, worker / plan.rate
    total = int((plan.warmup + plan.seconds) * plan.rate / plan.workers)
    loop = asyncio.get_running_loop()
    zero = loop.time() + (plan.start_at - time.time())
    # idle connections retire before uvicorn's 5 s keep-alive timeout closes them under a request
    limits = httpx.Limits(max_connections=plan.pool, max_keepalive_connections=plan.pool, keepalive_expiry=2.0)
    async with httpx.AsyncClient(base_url=plan.url, timeout=60, limits=limits) as http:

        async def one(at: float, measured: bool, req: tuple[str, str, str, dict[str, Any], Any, str]) -> None:
            kind, method, path, params, body, key = req
            try:
                r = await http.request(method, path, params=params, json=body)
                ok, detail = good(r.status_code, r.json(), key), f"HTTP {r.status_code} {r.text[:200]}"
            except (httpx.HTTPError, ValueError) as exc:
                ok, detail = False, repr(exc)
            if measured:
                part.latencies.setdefault(kind, []).append(loop.time() - at)
                part.last_done = max(part.last_done, time.time())
                if not ok:
                    part.errors[kind] += 1
                    if len(part.examples) < 10:
                        part.examples.append(f"{kind}: {detail}")

        tasks: set[asyncio.Task[None]] = set()
        for i in range(total):
            at = zero + offset + i * interval
            delay = at - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            measured = at - zero >= plan.warmup
            if len(tasks) >= plan.max_inflight:  # bounded: a server far behind ends the run on time
                part.dropped += measured
                continue
            if measured:
                part.send_lags.append(max(0.0, loop.time() - at))
            task = asyncio.create_task(one(at, measured, mix.request(rng)))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        await asyncio.gather(*tasks)
    return part


def _worker(args: tuple[Plan, Mix, int]) -> Part:
    plan, mix, worker = args
    return asyncio.run(drive(plan, mix, worker))


def run(plan: Plan, mix: Mix, started: Callable[[], None]) -> Part:
    """All workers to the end; with several, forked processes. `started()` runs once the workers
    exist (so a thread it starts is never forked)."""
    if plan.workers == 1:
        started()
        return _worker((plan, mix, 0))
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(plan.workers) as pool:
        started()
        parts = pool.map(_worker, [(plan, mix, w) for w in range(plan.workers)])
    total = Part()
    for p in parts:
        total.merge(p)
    return total


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of `pid` so far (/proc/PID/stat), in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of `pid` (VmRSS in /proc/PID/status), in MB."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


class Sampler(threading.Thread):
    """VmRSS of the server: once at `first_at` (wall clock: the end of the warm-up), then every
    `every` seconds until stopped, then once more."""

    def __init__(self, pid: int, first_at: float, every: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.first_at, self.every = pid, first_at, every
        self.samples: list[tuple[float, float]] = []  # (seconds after the warm-up, MB)
        self.cpu: list[float] = []  # the server's CPU seconds at the first and the last sample
        self.done = threading.Event()

    def run(self) -> None:
        time.sleep(max(0.0, self.first_at - time.time()))
        self.cpu.append(cpu_seconds(self.pid))
        while True:
            self.samples.append((round(time.time() - self.first_at, 1), round(rss_mb(self.pid), 1)))
            if self.done.wait(self.every):
                break
        self.samples.append((round(time.time() - self.first_at, 1), round(rss_mb(self.pid), 1)))
        self.cpu.append(cpu_seconds(self.pid))

    def cpu_percent(self) -> float:
        """The server's CPU use between the first and the last sample, in % of one core."""
        span = self.samples[-1][0] - self.samples[0][0] if len(self.samples) > 1 else 0.0
        return round(100 * (self.cpu[-1] - self.cpu[0]) / span, 1) if span > 0 and len(self.cpu) > 1 else 0.0
