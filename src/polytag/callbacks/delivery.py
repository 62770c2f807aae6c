"""Delivery as the vendors do it: asynchronous, in order per app, the vendor's timeout and number
of attempts, an acknowledgement the vendor's way; every delivery journaled; faults applied."""

from __future__ import annotations

import asyncio
import functools
import ssl
import time
from collections import deque
from dataclasses import dataclass

import httpx

from polytag.callbacks.face import CallbackFace, Event, Outgoing
from polytag.callbacks.faults import DeliveryFaults
from polytag.callbacks.hosts import HostPolicy
from polytag.callbacks.journal import BODY_KEPT, Attempt, Delivery, DeliveryJournal

FLUSH_POLL_S = 0.01
READ_MAX = 64 * 1024  # bytes of an answer read at most (BODY_KEPT of them journaled)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every client (building one costs ~100 ms: the CA bundle is read)."""
    return ssl.create_default_context()


def client() -> httpx.AsyncClient:
    """A client for the developer's server: no redirects followed, no proxy from the environment."""
    return httpx.AsyncClient(follow_redirects=False, trust_env=False, verify=_tls())


@dataclass(frozen=True)
class Answer:
    status: int | None
    body: bytes
    error: str
    ms: float


@dataclass
class Job:
    delivery: Delivery
    face: CallbackFace
    delay_s: float = 0.0


async def send(http: httpx.AsyncClient, request: Outgoing, timeout_s: float) -> Answer:
    """One attempt: the answer, or the error (a timeout, a refused connection) that stood for it."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout(timeout_s):  # the vendor's deadline covers the whole exchange
            async with http.stream(request.method, request.url, headers=dict(request.headers),
                                   content=request.body or None, timeout=timeout_s) as got:
                body, cut = await _read_at_most(got, READ_MAX)
        note = f"answer body over {READ_MAX} bytes: the rest was not read" if cut else ""
        if got.is_redirect:  # the vendors follow no redirect: the answer is what came
            note = f"a redirect to {got.headers.get('location', '')[:200]!r}, not followed"
        return Answer(got.status_code, body, note, (time.perf_counter() - started) * 1000)
    except (TimeoutError, httpx.TimeoutException):
        return Answer(None, b"", f"no answer within {timeout_s:g} s", (time.perf_counter() - started) * 1000)
    except httpx.HTTPError as exc:
        return Answer(None, b"", f"{type(exc).__name__}: {exc}"[:300], (time.perf_counter() - started) * 1000)


async def _read_at_most(got: httpx.Response, limit: int) -> tuple[bytes, bool]:
    """The answer's first `limit` bytes, and whether there were more (never read: the connection is
    closed instead, so an endless or huge body costs `limit` bytes, not the memory it asks for)."""
    body = bytearray()
    async for chunk in got.aiter_bytes():
        body += chunk
        if len(body) > limit:
            return bytes(body[:limit]), True
    return bytes(body), False


class Deliverer:
    """Per-app queues drained by one task each (so an app's events arrive in order)."""

    def __init__(self, journal: DeliveryJournal, faults: DeliveryFaults, policy: HostPolicy) -> None:
        self.journal, self.faults, self.policy = journal, faults, policy
        self.timeout_s: float | None = None  # None: the vendor's (CallbackFace.timeout_s)
        self._queues: dict[str, deque[Job]] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}

    def submit(self, app: str, face: CallbackFace, event: Event, request: Outgoing) -> list[Delivery]:
        """Queue one event (journaled at once); the injected faults decide drop, delay, duplicate."""
        fault = self.faults.fire(app, event.kind)
        first = self.journal.record(app, event, request)
        action = fault.action if fault else ""
        if fault is not None and action == "drop":
            first.settle("dropped", f"injected fault {fault.id}")
            return [first]
        jobs = [Job(first, face, fault.delay_ms / 1000 if fault and action == "delay" else 0.0)]
        if action == "duplicate":
            jobs.append(Job(self.journal.record(app, event, request, duplicate_of=first.id), face))
        self._queues.setdefault(app, deque()).extend(jobs)
        self._ensure_worker(app)
        return [j.delivery for j in jobs]

    def _ensure_worker(self, app: str) -> None:
        loop = asyncio.get_running_loop()
        task = self._workers.get(app)
        if task is None or task.done() or task.get_loop() is not loop:
            self._workers[app] = loop.create_task(self._drain(app), name=f"callbacks:{app}")

    async def _drain(self, app: str) -> None:
        queue = self._queues[app]
        while queue:  # checked again after the client closed: nothing is left behind
            async with client() as http:
                while queue:
                    await self._deliver(http, queue.popleft())

    async def _deliver(self, http: httpx.AsyncClient, job: Job) -> None:
        d, face = job.delivery, job.face
        if job.delay_s:
            await asyncio.sleep(job.delay_s)
        if not self.policy.allows(d.request.url):
            d.settle("refused", self.policy.refusal(d.request.url))
            return
        d.state = "sending"
        timeout = self.timeout_s or face.timeout_s
        for number in range(1, face.attempts + 1):
            answer = await send(http, d.request, timeout)
            d.attempts.append(Attempt(number, answer.status, answer.body[:BODY_KEPT].decode("utf-8", "replace"),
                                      answer.error, answer.ms))
            if answer.status is not None and face.acknowledged(answer.status, answer.body):
                d.settle("delivered")
                return
        d.settle("failed", f"not acknowledged after {face.attempts} attempts")

    async def flush(self, app: str | None = None, timeout_s: float = 30.0) -> bool:
        """Wait until no delivery (of `app`, or of any app) is queued or in flight; False when
        `timeout_s` passed first."""
        for name, queue in self._queues.items():
            if queue and (app is None or name == app):
                self._ensure_worker(name)  # a worker left on a loop that is gone
        deadline = time.monotonic() + timeout_s
        while self.journal.pending(app):
            if time.monotonic() >= deadline:
                return False
            await asyncio.sleep(FLUSH_POLL_S)
        return True

    def forget(self, app: str | None) -> None:
        """Drop what is queued (of `app`, or all); what is in flight finishes."""
        for name, queue in self._queues.items():
            if app is None or name == app:
                for job in queue:
                    job.delivery.settle("dropped", "app reset")
                queue.clear()
