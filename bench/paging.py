"""Keyset paging over HTTP: a 10,000-member page deep in an audience vs the first page.

Builds a native app (N subjects, audience `t0 | t1` holds ~70-85 % of them),
starts `polytag serve`, then times `POST /v1/apps/bench/audiences/members` (limit 10,000)
for the first page and for a page starting at member rank min(5M, size - 10,000) (5M deep at 10M),
reaching it by the cursor of the previous page. Also times the SQL peer: the same page by
keyset (`ord > ?`) from a plain `m(tag, ord)` table in the same SQLite file joined to subjects.

    python bench/paging.py [--subjects 10000000] [--small]
"""

from __future__ import annotations

import argparse
import base64
import os
import sqlite3
import statistics
import tempfile
import time

import httpx

from audience import ensure, ext, start, stop

EXPR = "t0 | t1"


def cursor(ord_: int) -> str:
    return base64.urlsafe_b64encode(f"o{ord_}".encode()).decode().rstrip("=")


def timed_post(http: httpx.Client, body: dict[str, object], rounds: int) -> tuple[float, float, dict]:  # type: ignore[type-arg]
    times, out = [], {}
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = http.post("/v1/apps/bench/audiences/members", json=body).json()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000, statistics.median(times) * 1000, out


def timed_get(http: httpx.Client, path: str, params: dict[str, object], rounds: int) -> tuple[float, float, dict]:  # type: ignore[type-arg]
    times, out = [], {}
    for _ in range(rounds):
        t0 = time.perf_counter()
        out = http.get(path, params=params).json()
        times.append(time.perf_counter() - t0)
    return min(times) * 1000, statistics.median(times) * 1000, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=10_000_000)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--small", action="store_true", help="300k subjects")
    ap.add_argument("--db", default=None, help="reuse (or keep) a bench/audience.py database here")
    args = ap.parse_args()
    n = 300_000 if args.small else args.subjects
    with tempfile.TemporaryDirectory() as tmp:
        db = args.db or os.path.join(tmp, "bench.db")
        first3 = ensure(db, n, 3)
        t0_bm = first3[0] | first3[1]  # the audience `t0 | t1`: ~70-85 % of the subjects
        depth = min(5_000_000, len(t0_bm) - 10_000)
        deep_after = t0_bm[depth - 1]
        proc, url = start(db)
        try:
            http = httpx.Client(base_url=url, timeout=600)
            http.post("/v1/apps/bench/audiences/count", json={"expr": EXPR})  # warm
            first = timed_post(http, {"expr": EXPR, "limit": 10_000}, args.rounds)
            deep = timed_post(http, {"expr": EXPR, "limit": 10_000, "cursor": cursor(deep_after)}, args.rounds)
            assert len(first[2]["items"]) == len(deep[2]["items"]) == 10_000
            assert deep[2]["items"][0] == ext(t0_bm[depth])
            tag_bm = first3[0]  # tag t0's own members, paged the same way
            tag_depth = min(5_000_000, len(tag_bm) - 10_000)
            path = "/v1/apps/bench/tags/t0/members"
            tag_first = timed_get(http, path, {"limit": 10_000}, args.rounds)
            tag_deep = timed_get(http, path, {"limit": 10_000, "cursor": cursor(tag_bm[tag_depth - 1])},
                                 args.rounds)
            assert len(tag_first[2]["items"]) == len(tag_deep[2]["items"]) == 10_000
            assert tag_deep[2]["items"][0] == ext(tag_bm[tag_depth])
        finally:
            stop(proc)
        con = sqlite3.connect(db)
        con.execute("DROP TABLE IF EXISTS bench_m")
        con.execute("CREATE TABLE bench_m (tag INTEGER, ord INTEGER, PRIMARY KEY (tag, ord)) WITHOUT ROWID")
        con.executemany("INSERT INTO bench_m VALUES (0, ?)", ((o,) for o in t0_bm))  # the audience as rows
        con.commit()
        q = ("SELECT s.ext_id FROM bench_m m JOIN subjects s ON s.app_id = 1 AND s.ord = m.ord"
             " WHERE m.tag = 0 AND m.ord > ? ORDER BY m.ord LIMIT 10000")
        sql = []
        for after in (-1, deep_after):
            times = []
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                got = con.execute(q, (after,)).fetchall()
                times.append(time.perf_counter() - t0)
            assert len(got) == 10_000
            sql.append(statistics.median(times) * 1000)
        con.execute("DROP TABLE bench_m")
        con.commit()
        con.close()
    print(f"| 10,000-member page, audience of {len(t0_bm):,} ({n:,} subjects) | min / median |")
    print(f"| polytag HTTP, first page | {first[0]:.1f} / {first[1]:.1f} ms |")
    print(f"| polytag HTTP, page {depth:,} deep | {deep[0]:.1f} / {deep[1]:.1f} ms | deep/first {deep[1] / first[1]:.2f} |")
    print(f"| polytag HTTP, tag t0 ({len(tag_bm):,} members): first page | {tag_first[0]:.1f} / {tag_first[1]:.1f} ms |")
    print(f"| polytag HTTP, tag t0 page {tag_depth:,} deep | {tag_deep[0]:.1f} / {tag_deep[1]:.1f} ms | "
          f"deep/first {tag_deep[1] / tag_first[1]:.2f} |")
    print(f"| SQLite keyset (same file), first / deep | {sql[0]:.1f} / {sql[1]:.1f} ms | deep/first {sql[1] / sql[0]:.2f} |")


if __name__ == "__main__":
    main()
