"""Concurrency invariants: many clients across two `polytag serve` processes on one database.

Both servers run on a fresh database (a new PostgreSQL schema, dropped after; or one SQLite file)
and clients, half on each process, hit the same followers, accounts, names and groups at once:

* WeChat: many clients `tags/create` the same names (one tag per name, 45157) past the 100-tag
  cap (45056); batchtagging many tags onto the same followers (20 per follower, 45059), then
  tagging and untagging mixed;
* Tencent IM: im_add_tag of the same names onto the same accounts (one tag per name, 100 per
  account and the app's distinct-tag cap, both 90032), then adds and removals mixed;
* JuziBot: creates by group name and id, tag and group deletes in the same groups (a group whose
  last tag goes disappears; unique group names and tag names per group; the app cap, 45056).

Afterwards the state is read through both servers and through the store, and every rule is
checked: the caps, uniqueness, no empty group and no tag without a group, every acknowledged
success reflected, and every refusal with a code the rule allows and a cause that is visible.

    python bench/concurrency.py [--clients 8] [--ops 60] [--db postgresql://...|sqlite]
                                [--scenario wechat --scenario im ...] [--seed N] [--json]

Prints operations tried by kind, successes, refusals by code, and violations (goal 0); exits 1
on any violation. The scenarios live in `tests/concurrency_*.py`; `tests/test_concurrency_invariants.py`
runs them small.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.concurrency_run import SCENARIOS, dumps, run, text  # noqa: E402
from tests.crash_trials import default_pg_dsn  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--clients", type=int, default=8, help="client threads, half on each process")
    ap.add_argument("--ops", type=int, default=60, help="operations per client per phase")
    ap.add_argument("--db", default=default_pg_dsn(),
                    help="a PostgreSQL DSN (a fresh schema is made in it) or 'sqlite' (one temp file)")
    ap.add_argument("--scenario", action="append", choices=sorted(SCENARIOS), help="default: all")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    args = ap.parse_args()
    log = (lambda line: print(line, file=sys.stderr)) if args.json else print
    report = run(args.db, clients=max(2, args.clients), ops=args.ops, seed=args.seed,
                 scenarios=tuple(args.scenario or SCENARIOS), log=log)
    print(dumps(report) if args.json else text(report))
    return 0 if report["violation_count"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
