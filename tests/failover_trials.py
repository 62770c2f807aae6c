"""Failover trials (issue 17, item 4): SIGKILL the PostgreSQL primary under write load, promote the standby.

One trial: a primary and a synchronous standby of our own (`tests.store.pg_cluster`), one
`polytag serve` given both through libpq's multi-host URL, K client threads sending the crash
driver's disjoint batches (WeChat `batchtagging`, IM `im_add_tag`). After a random delay the
primary's whole process group gets SIGKILL; `--promote-after` seconds later (what a failover
manager would take to decide) the standby is promoted. The clients keep going throughout, and
the same server, never restarted, must resume by itself. Every answer is judged:

* errcode 0 / ErrorCode 0: acknowledged, so every pair must be there after the failover;
* the vendor's "system busy" (WeChat -1, IM 91000, on HTTP 200): refused, outcome unknown (a
  COMMIT whose answer was lost may have reached the standby), so all pairs or none;
* anything else (another code, a non-200 status, a server log line "unexpected error"): an error.

Then every batch is read back twice: through the same server (its in-memory index, a cache
stamped with the log sequence, must have followed the failover) and through a fresh server on
the new primary (the database's truth, loaded anew); the two reads must be identical, and the
crash checker (`tests.crash_check.verify`) judges lost, half-applied and phantom pairs.

Downtime: from the kill to the first acknowledgement of a request sent after the kill.
No pytest imports here: `bench/failover.py` (any size) and `tests/store/test_failover.py` (small).
"""

from __future__ import annotations

import json
import random
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.crash_check import read_im, read_wechat, verify
from tests.crash_driver import (
    IM_BATCH,
    IM_CALLS_PER_CHUNK,
    WX_TAGS,
    Plan,
    Server,
    TrialResult,
    im_query,
    seed_doc,
    wx_token,
)
from tests.store.pg_cluster import PgCluster

BUSY = {"wechat": -1, "im": 91000}  # each vendor's "system error, retry" for the push family
REFUSED_PAUSE = 0.05  # a client that was told "busy" waits this long, as a polite SDK would


@dataclass
class Clock:
    """What the clients saw, on one monotonic clock."""

    kill: float = 0.0
    promote: float = 0.0
    first_ack_after_kill: float = 0.0  # answer time of the first ack of a request sent after the kill
    refused: int = 0
    timeouts: int = 0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def acked(self, sent_at: float, now: float) -> None:
        with self.lock:
            if self.kill and sent_at >= self.kill and not self.first_ack_after_kill:
                self.first_ack_after_kill = now


@dataclass
class FailoverResult:
    check: TrialResult = field(default_factory=TrialResult)  # judged on the new primary, fresh server
    refused: int = 0
    timeouts: int = 0
    downtime: float = -1.0       # kill -> first success; -1: never resumed
    after_promote: float = -1.0  # promote -> first success
    index_mismatch: int = 0      # batches read differently through the failed-over server's index
    unexpected: int = 0          # "unexpected error" lines in the server's log, non-busy answers
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        c = self.check
        return (c.lost == 0 and c.half == 0 and c.phantom == 0 and self.index_mismatch == 0
                and self.unexpected == 0 and self.downtime >= 0)

    def line(self) -> str:
        c = self.check
        return (f"acknowledged {c.acked} (wechat {c.acked_wechat}, im {c.acked_im}), refused {self.refused} "
                f"(found applied {c.unacked_present}), "
                f"timeouts {self.timeouts}, lost {c.lost}, half-applied {c.half}, phantom {c.phantom}, "
                f"index mismatches {self.index_mismatch}, unexpected {self.unexpected}, "
                f"downtime {self.downtime:.2f}s (after promote {self.after_promote:.2f}s)")


def send(http: httpx.Client, token: str, query: dict[str, str], plan: Plan, kind: str, i: int) -> tuple[int, Any]:
    """One batch; (HTTP status, the vendor's code)."""
    if kind == "wechat":
        tag_id, openids = plan.wx_batch(i)
        r = http.post("/cgi-bin/tags/members/batchtagging", params={"access_token": token},
                      content=json.dumps({"openid_list": openids, "tagid": tag_id}))
        return r.status_code, r.json().get("errcode")
    tags, accounts = plan.im_batch(i)
    body = {"UserTags": [{"To_Account": a, "Tags": tags} for a in accounts]}
    r = http.post("/v4/all_member_push/im_add_tag", params=query, content=json.dumps(body))
    return r.status_code, r.json().get("ErrorCode")


def client_loop(url: str, token: str, plan: Plan, first: str, stop: threading.Event, clock: Clock) -> None:
    """Alternate WeChat and IM batches until `stop` or the plan runs out; the server stays up."""
    kinds = [first, "im" if first == "wechat" else "wechat"]
    query = im_query()
    n = 0
    with httpx.Client(base_url=url, timeout=30) as http:
        while not stop.is_set():
            kind = kinds[n % 2]
            n += 1
            i = plan.take(kind)
            if i is None:
                return
            sent_at = time.monotonic()
            try:
                status, code = send(http, token, query, plan, kind, i)
            except httpx.TimeoutException:
                with clock.lock:
                    clock.timeouts += 1
                continue  # stays "sent": outcome unknown
            if status == 200 and code == 0:
                plan.mark(kind, i, "acked")
                clock.acked(sent_at, time.monotonic())
            elif status == 200 and code == BUSY[kind]:
                with clock.lock:  # stays "sent": a refused COMMIT may still have reached the standby
                    clock.refused += 1
                time.sleep(REFUSED_PAUSE)
            else:
                plan.mark(kind, i, "rejected")
                with clock.lock:
                    clock.errors.append(f"{kind} batch {i}: HTTP {status} code {code}")


def read_all(url: str, token: str, plan: Plan) -> tuple[dict[int, set[str]], dict[str, set[str]]]:
    """Every tag's WeChat members and every touched IM account's tags, as the server answers them."""
    with httpx.Client(base_url=url, timeout=60) as http:
        wx = read_wechat(http, token, plan.tag_ids)
        chunks = sorted({i // IM_CALLS_PER_CHUNK for (kind, i) in plan.state if kind == "im"})
        accounts = [a for c in chunks for a in plan.accounts[c * IM_BATCH:(c + 1) * IM_BATCH]]
        im = read_im(http, accounts)
    return wx, im


def create_tags(url: str, token: str) -> list[int]:
    with httpx.Client(base_url=url, timeout=30) as http:
        return [int(http.post("/cgi-bin/tags/create", params={"access_token": token},
                              content=json.dumps({"tag": {"name": f"crash{j:02d}"}})).json()["tag"]["id"])
                for j in range(WX_TAGS)]


def unexpected_lines(server: Server) -> list[str]:
    return [ln for ln in server.log.read_text(errors="replace").splitlines() if "unexpected error" in ln]


def load_through_failover(cluster: PgCluster, server: Server, token: str, plan: Plan, clock: Clock, *,
                          clients: int, seconds: float, promote_after: float, after: float,
                          rng: random.Random) -> None:
    stop = threading.Event()
    threads = [threading.Thread(target=client_loop, daemon=True,
                                args=(server.url, token, plan, "wechat" if k % 2 == 0 else "im", stop, clock))
               for k in range(clients)]
    started = time.monotonic()
    for t in threads:
        t.start()
    try:
        while not plan.acked_both() and time.monotonic() < started + 30 and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        time.sleep(rng.uniform(0.3, 1.0) * seconds)
        clock.kill = time.monotonic()
        cluster.kill_primary()
        time.sleep(max(0.0, clock.kill + promote_after - time.monotonic()))
        clock.promote = time.monotonic()
        cluster.promote()
        deadline = clock.promote + 60  # bounded: a server that never resumes fails the trial
        while not clock.first_ack_after_kill and time.monotonic() < deadline and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        time.sleep(after)  # load on the new primary, so the index moves on past the failover
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=90)
    if any(t.is_alive() for t in threads):
        raise RuntimeError("a client thread did not stop")


def run_trial(workdir: Path, *, clients: int, seconds: float, followers: int, accounts: int,
              promote_after: float, after: float, rng: random.Random) -> FailoverResult:
    res = FailoverResult()
    clock = Clock()
    with PgCluster() as cluster:
        db = f"{cluster.url}&schema=polytag"
        server = Server(db, workdir, seed_doc(followers, accounts))
        try:
            with httpx.Client(base_url=server.url, timeout=30) as http:
                token = wx_token(http)
            plan = Plan(followers, accounts, create_tags(server.url, token))
            load_through_failover(cluster, server, token, plan, clock, clients=clients, seconds=seconds,
                                  promote_after=promote_after, after=after, rng=rng)
            live = read_all(server.url, token, plan)  # the failed-over server's own index
            res.unexpected = len(unexpected_lines(server))
            res.errors += unexpected_lines(server)[:3]
        finally:
            server.stop()
        fresh = Server(db, workdir)  # loads everything anew from the new primary
        try:
            truth = read_all(fresh.url, token, plan)
            verify(fresh.url, token, plan, res.check)
        finally:
            fresh.stop()
    res.index_mismatch = _mismatches(live, truth)
    res.refused, res.timeouts = clock.refused, clock.timeouts
    res.unexpected += len(clock.errors)
    res.errors += clock.errors[:5] + res.check.errors
    if clock.first_ack_after_kill:
        res.downtime = clock.first_ack_after_kill - clock.kill
        res.after_promote = clock.first_ack_after_kill - clock.promote
    return res


def _mismatches(live: tuple[dict[Any, set[str]], dict[Any, set[str]]],
                truth: tuple[dict[Any, set[str]], dict[Any, set[str]]]) -> int:
    n = 0
    for a, b in zip(live, truth, strict=True):
        n += sum(a.get(k, set()) != b.get(k, set()) for k in set(a) | set(b))
    return n


@dataclass
class Summary:
    results: list[FailoverResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.results) and all(r.ok for r in self.results)

    def figures(self) -> dict[str, Any]:
        rs = self.results
        down = [r.downtime for r in rs]
        return {
            "trials": len(rs),
            "acknowledged": sum(r.check.acked for r in rs),
            "refused": sum(r.refused for r in rs),
            "timeouts": sum(r.timeouts for r in rs),
            "lost": sum(r.check.lost for r in rs),
            "half_applied": sum(r.check.half for r in rs),
            "phantom": sum(r.check.phantom for r in rs),
            "refused_but_applied": sum(r.check.unacked_present for r in rs),
            "index_mismatches": sum(r.index_mismatch for r in rs),
            "unexpected": sum(r.unexpected for r in rs),
            "downtime_s": [round(d, 3) for d in down],
            "downtime_max_s": round(max(down), 3) if down else None,
            "after_promote_max_s": round(max(r.after_promote for r in rs), 3) if rs else None,
        }


def run(*, trials: int, clients: int, seconds: float, followers: int = 20_000, accounts: int = 20_000,
        promote_after: float = 1.0, after: float = 1.0, seed: int | None = None,
        log: Callable[[str], None] = print) -> Summary:
    rng = random.Random(seed)
    summary = Summary()
    for n in range(trials):
        with tempfile.TemporaryDirectory(prefix="polytag-failover-") as tmp:
            res = run_trial(Path(tmp), clients=clients, seconds=seconds, followers=followers,
                            accounts=accounts, promote_after=promote_after, after=after, rng=rng)
        summary.results.append(res)
        log(f"trial {n + 1}/{trials}: {res.line()}")
        for e in res.errors:
            log(f"  ! {e}")
    return summary
