"""Concurrency invariants (issue 9, item 2): two processes on one PostgreSQL, every rule holds.

The small CI version of `bench/concurrency.py` (scenarios in `tests/concurrency_*.py`). It asserts
zero violations and that the races really ran: duplicate names, every cap and vanished groups were
refused with their codes, so the test fails if the script stops reaching the limits. A tampered
store proves the checks see violations.
"""

from __future__ import annotations

from typing import Any

from polytag.core.service import Service
from tests.concurrency_base import IM_CAP, JUZI, WX
from tests.concurrency_run import run, text
from tests.conftest import pg_dsn


def small(tamper: Any = None) -> dict[str, Any]:
    return run(pg_dsn(), clients=4, ops=30, seed=3, log=lambda _: None, tamper=tamper)


def refused(report: dict[str, Any], kind: str, code: int) -> int:
    return int(report["operations"].get(kind, {}).get("refused", {}).get(str(code), 0))


def test_two_processes_keep_every_rule_under_contention() -> None:
    report = small()
    shown = text(report)
    assert report["backend"] == "postgresql" and report["processes"] == 2
    assert report["violation_count"] == 0, shown
    # the races ran: each rule was reached from both processes and refused with its code
    assert refused(report, "wechat tags/create", 45157) > 0, shown
    assert refused(report, "wechat tags/create", 45056) > 0, shown
    assert report["operations"]["wechat tags/create"]["ok"] == 100, shown  # exactly the cap
    assert refused(report, "wechat batchtagging", 45059) > 0, shown
    assert refused(report, "im im_add_tag", 90032) > 0, shown
    assert refused(report, "juzibot tag/delete", 40068) > 0, shown  # deletes raced each other
    for kind, ops in report["operations"].items():
        assert ops["tried"] > 0 and ops["ok"] > 0, (kind, shown)
        assert ops["unknown"] == 0, (kind, shown)


def break_store(scenario: str, svc: Service) -> None:
    """Write, behind the rules' back, one state per dialect that its checks must catch."""
    if scenario == "wechat":  # a second tag named n000 (and a 101st tag)
        app = svc.apps.get(WX["appid"])

        def dup(tx: Any) -> None:
            ord_ = tx.bump_counter(app.id, "next_tag")
            tx.insert_tag(app.id, ord_, svc.tags.make_id(app, "tag", ord_), "n000", None, 0, 0)
            svc.memberships.created_tag(tx, app, ord_)

        svc.write_sync(dup)
    elif scenario == "im":  # a tag nobody holds
        app = svc.apps.get(str(IM_CAP["sdkappid"]))
        svc.write_sync(lambda tx: svc.tags.create(tx, app, "orphan", ext_id="orphan"))
    else:  # an empty group
        app = svc.apps.get(JUZI["name"])
        svc.write_sync(lambda tx: svc.tags.create_group(tx, app, "empty"))


def test_the_checks_see_a_broken_store() -> None:
    report = small(tamper=break_store)
    found = report["violations"]
    for rule in ("wechat.unique_name", "wechat.app_cap", "im.orphan_tag", "juzibot.empty_group"):
        assert found.get(rule, 0) > 0, (rule, text(report))
