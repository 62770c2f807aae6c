"""A primary that dies (issue 17, item 4): the small CI version of `bench/failover.py`.

A PostgreSQL primary and a synchronous hot standby of the test's own (`pg_cluster.py`), one
`polytag serve` on both hosts through libpq's multi-host URL, write load, SIGKILL of the whole
primary, promotion of the standby: the same server resumes by itself, answers "system busy"
in the gap (never a 500), loses no acknowledged write, half-applies no batch, and its
in-memory index reads exactly as a fresh server on the new primary does.
"""

from __future__ import annotations

import os

import pytest

from tests.crash_driver import TrialResult
from tests.failover_trials import FailoverResult, Summary, _mismatches, run
from tests.store.pg_cluster import available


@pytest.fixture
def cluster_tools() -> None:
    why = available()
    if why:
        if os.environ.get("POLYTAG_REQUIRE_PG") == "1":
            pytest.fail(f"POLYTAG_REQUIRE_PG=1 but a PostgreSQL cluster cannot be built: {why}")
        pytest.skip(why)


def test_the_primary_dies_and_polytag_resumes_on_the_promoted_standby(cluster_tools: None) -> None:
    lines: list[str] = []
    summary = run(trials=1, clients=3, seconds=1.5, followers=5_000, accounts=5_000,
                  promote_after=1.0, after=0.5, log=lines.append)
    report = "\n".join([*lines, str(summary.figures())])
    (res,) = summary.results
    assert res.check.acked_wechat > 0 and res.check.acked_im > 0, report  # the load really ran
    assert res.downtime >= 0, report  # it resumed, on its own, on the new primary
    assert res.refused > 0, report  # the gap was answered, with each vendor's "system busy"
    assert res.unexpected == 0, report  # and nothing else: no 500, no other code, no unexpected error
    assert res.timeouts == 0, report  # every request was answered (30 s client timeout): none hung in the gap
    assert (res.check.lost, res.check.half, res.check.phantom) == (0, 0, 0), report
    assert res.index_mismatch == 0, report
    assert summary.ok, report


def test_the_failover_check_can_fail() -> None:
    good = FailoverResult(downtime=1.0)
    assert Summary([good]).ok
    lost = FailoverResult(check=TrialResult(lost=1), downtime=1.0)
    never = FailoverResult(downtime=-1.0)
    stale = FailoverResult(downtime=1.0, index_mismatch=1)
    for bad in (lost, never, stale):
        assert not Summary([good, bad]).ok
    assert not Summary([]).ok
    live = ({1: {"a", "b"}}, {"u": {"t"}})
    assert _mismatches(live, ({1: {"a", "b"}}, {"u": {"t"}})) == 0
    assert _mismatches(live, ({1: {"a"}}, {"u": {"t"}, "v": {"t"}})) == 2
