"""Crash safety: SIGKILL `polytag serve` under write load, restart, check every acknowledged write.

Per trial: a fresh database (a SQLite file in a temp dir, or a fresh PostgreSQL schema) seeded
with a WeChat app and a Tencent IM app; `polytag serve` starts; K client threads send distinct
WeChat `batchtagging` and IM `im_add_tag` batches; after a random delay (30%..100% of --seconds)
the server gets SIGKILL, is restarted on the same database, and every batch is checked:
acknowledged -> fully present ("lost" otherwise), not acknowledged -> fully present or fully
absent ("half-applied" otherwise), and no pair that no batch wrote ("phantom").

    python bench/crash.py [--db sqlite|postgresql] [--trials 10] [--clients 4] [--seconds 3]
                          [--pg postgresql://postgres@127.0.0.1:5432/test] [--seed N]

Prints one line per trial and a summary:
`trials T, acknowledged batches A, lost writes L, half-applied batches H, phantom pairs P`;
exits 1 if L, H or P is not zero. The driver is `tests/crash_driver.py` (also run by
`tests/test_crash.py` at a small size).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.crash_trials import default_pg_dsn, pg_schema_url, run  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3.0, help="load before the kill, at most")
    ap.add_argument("--followers", type=int, default=20_000, help="WeChat followers seeded")
    ap.add_argument("--accounts", type=int, default=20_000, help="IM accounts seeded")
    ap.add_argument("--pg", default=default_pg_dsn(), help="PostgreSQL DSN (a schema per trial)")
    ap.add_argument("--seed", type=int, default=None, help="random seed for the kill delays")
    args = ap.parse_args()
    summary = run(args.db, trials=args.trials, clients=args.clients, seconds=args.seconds,
                  followers=args.followers, accounts=args.accounts,
                  pg_url=pg_schema_url(args.pg) if args.db == "postgresql" else "", seed=args.seed)
    print(summary.line())
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
