"""Failover: SIGKILL the PostgreSQL primary under write load, promote its synchronous standby.

Per trial: a fresh primary and synchronous hot standby built with Debian's PostgreSQL 15 tools
(`tests/store/pg_cluster.py`; run as root, the servers run as the `postgres` user), one
`polytag serve` given both hosts through libpq's multi-host URL
(`postgresql://127.0.0.1:P1,127.0.0.1:P2/polytag?target_session_attrs=read-write&schema=polytag`),
K client threads sending disjoint WeChat `batchtagging` and IM `im_add_tag` batches; after a
random delay every process of the primary gets SIGKILL, `--promote-after` seconds later the
standby is promoted (`pg_ctl promote`), and the same server must resume by itself. Then every
batch is checked on the new primary: acknowledged -> all present ("lost" otherwise), refused
with "system busy" -> all or nothing ("half-applied" otherwise), no pair nobody sent
("phantom"); and the failed-over server's in-memory index must read exactly as a fresh server's.

    python bench/failover.py [--trials 5] [--clients 4] [--seconds 3] [--promote-after 1]
                             [--followers 20000] [--accounts 20000] [--seed N]

Prints one line per trial and ends with one JSON line: trials, acknowledged, refused (busy
answers), timeouts, lost, half_applied, phantom, index_mismatches, unexpected (any answer but
success or busy), downtime_s per trial (kill -> first acknowledgement of a request sent after
the kill). Exits 1 unless lost, half-applied, phantom, mismatches and unexpected are all 0.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.failover_trials import run  # noqa: E402
from tests.store.pg_cluster import available  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=5)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--seconds", type=float, default=3.0, help="load before the kill, at most")
    ap.add_argument("--promote-after", type=float, default=1.0,
                    help="seconds from the kill to `pg_ctl promote` (a failover manager's decision time)")
    ap.add_argument("--after", type=float, default=1.0, help="load on the new primary once it answers")
    ap.add_argument("--followers", type=int, default=20_000, help="WeChat followers seeded")
    ap.add_argument("--accounts", type=int, default=20_000, help="IM accounts seeded")
    ap.add_argument("--seed", type=int, default=None, help="random seed for the kill delays")
    args = ap.parse_args()
    why = available()
    if why:
        print(f"cannot build a PostgreSQL cluster: {why}", file=sys.stderr)
        return 2
    summary = run(trials=args.trials, clients=args.clients, seconds=args.seconds,
                  followers=args.followers, accounts=args.accounts, promote_after=args.promote_after,
                  after=args.after, seed=args.seed)
    print(json.dumps({"bench": "failover", "promote_after_s": args.promote_after, **summary.figures(),
                      "ok": summary.ok}))
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
