"""Bulk import side by side: `polytag import`'s streamed path vs Redis pipelined SADD of the same pairs.

Writes a CSV of `subject,tag` rows (N subjects x T tags, random 30-60 % density), then times
`bulk.import_rows` over the streamed file (what `polytag import FILE --create-subjects
--create-tags` runs, minus the progress bar) into a fresh SQLite database, and redis-py
pipelines (1000 members a SADD, 10 SADDs a pipeline) loading the same pairs. Prints
memberships/s for each and the ratio; the Redis keys are removed afterwards.

    python bench/import_bulk.py [--subjects 1000000] [--tags 10] [--small]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid

import numpy as np

from polytag import bulk, dialects
from polytag.core import native
from polytag.core.service import Service
from polytag.store import open_store


def write_csv(path: str, n: int, tags: int, seed: int = 11) -> int:
    """Rows grouped by subject (as an export would write them); returns the row count."""
    rng = np.random.default_rng(seed)
    has = np.stack([rng.random(n) < (0.3 + 0.3 * rng.random()) for _ in range(tags)], axis=1)
    rows = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write("subject,tag\n")
        for start in range(0, n, 100_000):
            block = has[start:start + 100_000]
            lines = [f"u{start + i},t{t}\n" for i, row in enumerate(block) for t in np.flatnonzero(row)]
            rows += len(lines)
            f.write("".join(lines))
    return rows


def polytag_side(csv_path: str, db: str, create_subjects: bool,
                 existing: tuple[int, int] | None = None) -> tuple[float, bulk.Report]:
    """Import the file into a fresh app; `existing` = (subjects, tags) made first, untimed
    (the users and tags already exist, only the memberships are new: what SADD does)."""
    svc = Service(open_store(f"sqlite:///{db}"), dialects.presets(dialects.discover()))
    try:
        app = svc.write_sync(native.create_app(svc, "bench"))[0]
        if existing:
            n, tags = existing
            for start in range(0, n, 100_000):
                ids = [f"u{i}" for i in range(start, min(n, start + 100_000))]
                svc.write_sync(lambda tx, ids=ids: svc.subjects.create(tx, app, ids, 0))
            svc.write_sync(lambda tx: [svc.tags.create(tx, app, f"t{t}") for t in range(tags)])
        t0 = time.perf_counter()
        with open(csv_path, encoding="utf-8", newline="") as f:
            report = bulk.Report()
            bulk.import_rows(svc, app, bulk.read_rows(f, "csv", report.errors), create_subjects=create_subjects,
                             create_tags=True, report=report)
        return time.perf_counter() - t0, report
    finally:
        svc.store.close()


def redis_side(csv_path: str) -> tuple[float, int]:
    import redis

    r = redis.Redis(host="127.0.0.1", port=6379, socket_timeout=600)
    prefix = f"ptbench:{uuid.uuid4().hex[:8]}:"
    try:
        t0 = time.perf_counter()
        with open(csv_path, encoding="utf-8") as f:
            next(f)
            by_tag: dict[str, list[str]] = {}
            pipe = r.pipeline(transaction=False)
            queued = added = 0
            for line in f:
                s, t = line.rstrip("\n").split(",")
                members = by_tag.setdefault(t, [])
                members.append(s)
                if len(members) == 1000:
                    pipe.sadd(prefix + t, *members)
                    added += len(members)
                    by_tag[t] = []
                    queued += 1
                    if queued % 10 == 0:
                        pipe.execute()
            for t, members in by_tag.items():
                if members:
                    pipe.sadd(prefix + t, *members)
                    added += len(members)
            pipe.execute()
        return time.perf_counter() - t0, added
    finally:
        for key in r.scan_iter(f"{prefix}*"):
            r.delete(key)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--subjects", type=int, default=1_000_000)
    ap.add_argument("--tags", type=int, default=10)
    ap.add_argument("--small", action="store_true", help="100k subjects x 10 tags")
    args = ap.parse_args()
    n = 100_000 if args.small else args.subjects
    with tempfile.TemporaryDirectory() as tmp:
        csv_path = os.path.join(tmp, "pairs.csv")
        rows = write_csv(csv_path, n, args.tags)
        secs, report = polytag_side(csv_path, os.path.join(tmp, "a.db"), create_subjects=True)
        assert report.added == rows and not report.errors, (report.added, rows, report.errors[:3])
        again, report2 = polytag_side_existing(csv_path, os.path.join(tmp, "a.db"))
        known, report3 = polytag_side(csv_path, os.path.join(tmp, "b.db"), False, (n, args.tags))
        assert report3.added == rows and not report3.errors, (report3.added, rows, report3.errors[:3])
        rsecs, radded = redis_side(csv_path)
        assert radded == rows
    print(f"| bulk import, {rows:,} memberships ({n:,} subjects x {args.tags} tags, CSV) | rate |")
    print(f"| polytag import, creating subjects and tags | {rows / secs:,.0f} /s | ratio {rsecs / secs:.2f}x |")
    print(f"| polytag import, subjects and tags exist, memberships new | {rows / known:,.0f} /s | "
          f"ratio {rsecs / known:.2f}x |")
    print(f"| polytag import, re-run (idempotent, all present) | {rows / again:,.0f} /s | ratio {rsecs / again:.2f}x |")
    print(f"| Redis pipelined SADD (1000 members/SADD, 10/pipeline) | {rows / rsecs:,.0f} /s | 1 |")


def polytag_side_existing(csv_path: str, db: str) -> tuple[float, bulk.Report]:
    """The same file again into the same app: every subject and membership already there."""
    svc = Service(open_store(f"sqlite:///{db}"), dialects.presets(dialects.discover()))
    try:
        app = svc.apps.get("bench")
        t0 = time.perf_counter()
        with open(csv_path, encoding="utf-8", newline="") as f:
            report = bulk.Report()
            bulk.import_rows(svc, app, bulk.read_rows(f, "csv", report.errors), create_subjects=True,
                             create_tags=True, report=report)
        assert report.added == 0
        return time.perf_counter() - t0, report
    finally:
        svc.store.close()


if __name__ == "__main__":
    main()
