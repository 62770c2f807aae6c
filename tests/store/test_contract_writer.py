"""The storage contract, writer: group commit, hooks, durability and migrations, on every backend."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import pytest

from polytag.errors import Unavailable
from polytag.store import Store, Tx, migrations, open_store
from tests.conftest import ROOT
from tests.store.conftest import WAIT, add_subjects, new_app


# the writer: group commit ------------------------------------------------------------------------
class Gate:
    """An op that holds the writer until released, so the ops queued behind it form one group."""

    def __init__(self, store: Store) -> None:
        self.running, self.release = threading.Event(), threading.Event()
        self.future = store.submit(self._op)
        assert self.running.wait(WAIT), "the writer never ran the gate op"

    def _op(self, tx: Tx) -> None:
        self.running.set()
        assert self.release.wait(WAIT)

    def open(self) -> None:
        self.release.set()
        self.future.result(WAIT)


def test_ops_of_one_group_commit_together(writer_store: Store) -> None:
    store = writer_store
    gate = Gate(store)
    seen_by_second: list[Any] = []
    checked, reached = threading.Event(), threading.Event()

    def first(tx: Tx) -> int:
        tx.group["first"] = True
        return tx.insert_app("wechat", "first", "", "", "{}", 0.0)

    def second(tx: Tx) -> int:
        seen_by_second.append(tx.group.get("first"))
        seen_by_second.append(tx.app_by_name("first") is not None)  # the group's own writes
        reached.set()
        assert checked.wait(WAIT)
        return tx.insert_app("wechat", "second", "", "", "{}", 0.0)

    futures = [store.submit(first), store.submit(second)]
    gate.open()
    try:
        assert reached.wait(WAIT)
        # `first` has run but its group is not committed: nobody outside sees it, its future waits
        assert store.read().app_by_name("first") is None
        assert not futures[0].done()
    finally:
        checked.set()
    ids = [f.result(WAIT) for f in futures]
    assert seen_by_second == [True, True]
    assert [r[0] for r in store.read().apps()] == ids


def test_a_failing_op_rolls_back_alone(writer_store: Store) -> None:
    store = writer_store
    calls: list[str] = []

    def ok(name: str) -> Callable[[Tx], int]:
        def op(tx: Tx) -> int:
            tx.after_group.append(lambda: calls.append(f"group:{name}"))
            tx.after_commit.append(lambda: calls.append(f"commit:{name}"))
            tx.on_abort.append(lambda: calls.append(f"abort:{name}"))
            return tx.insert_app("wechat", name, "", "", "{}", 0.0)

        return op

    def bad(tx: Tx) -> None:
        tx.insert_app("wechat", "bad", "", "", "{}", 0.0)
        tx.bump_counter(tx.app_by_name("a")[0], "next_tag", 10)  # type: ignore[index]
        tx.after_group.append(lambda: calls.append("group:bad"))
        tx.after_commit.append(lambda: calls.append("commit:bad"))
        tx.on_abort.append(lambda: calls.append("abort:bad:1"))
        tx.on_abort.append(lambda: calls.append("abort:bad:2"))
        raise RuntimeError("boom")

    def dup(tx: Tx) -> None:  # a constraint violation fails only its op, too
        tx.after_commit.append(lambda: calls.append("commit:dup"))
        tx.insert_app("wechat", "a", "", "", "{}", 0.0)

    gate = Gate(store)
    futures: list[Future[Any]] = [store.submit(op) for op in (ok("a"), bad, dup, ok("b"))]
    gate.open()
    a_id = futures[0].result(WAIT)
    with pytest.raises(RuntimeError, match="boom"):
        futures[1].result(WAIT)
    with pytest.raises(Exception):  # noqa: B017
        futures[2].result(WAIT)
    b_id = futures[3].result(WAIT)
    rows = store.read()
    assert [r[2] for r in rows.apps()] == ["a", "b"]
    assert [r[0] for r in rows.apps()] == [a_id, b_id]
    assert rows.app_head(a_id) == (0, 0, 0, 0)  # the failed op's bump is gone with it
    # the failed op's abort hooks ran (newest first) before the commit; its after_commit never;
    # every after_group hook ran after the commit, then the surviving ops' after_commit hooks
    assert calls == ["abort:bad:2", "abort:bad:1", "group:a", "group:bad", "group:b", "commit:a", "commit:b"]


def test_hooks_have_run_when_the_future_resolves(writer_store: Store) -> None:
    store = writer_store
    done: list[str] = []

    def op(tx: Tx) -> str:
        tx.after_commit.append(lambda: done.append("commit"))
        tx.after_group.append(lambda: done.append("group"))
        return "ok"

    assert store.write(op) == "ok"
    assert done == ["group", "commit"]


def test_a_failing_hook_does_not_fail_the_group(writer_store: Store) -> None:
    store = writer_store
    def op(tx: Tx) -> int:
        tx.after_commit.append(lambda: 1 // 0)
        return tx.insert_app("wechat", "x", "", "", "{}", 0.0)

    app_id = store.write(op)
    assert store.read().app_by_id(app_id) is not None
    assert store.write(lambda tx: tx.app_by_id(app_id) is not None)  # the writer lives on


def test_before_commit_hooks_run_after_the_last_op(writer_store: Store) -> None:
    store = writer_store
    app_id = new_app(store)
    order: list[str] = []

    def op(name: str) -> Callable[[Tx], None]:
        def run(tx: Tx) -> None:
            order.append(name)
            if "hooked" not in tx.group:  # one group-level hook, registered by the first op
                tx.group["hooked"] = True
                tx.before_commit.append(lambda: (order.append("before"), tx.bump_counter(app_id, "mseq", 5)))

        return run

    gate = Gate(store)
    futures = [store.submit(op("a")), store.submit(op("b"))]
    gate.open()
    for f in futures:
        f.result(WAIT)
    assert order == ["a", "b", "before"]
    assert store.read().app_head(app_id) == (5, 0, 0, 0)  # its write committed with the group


def test_a_failing_before_commit_hook_fails_the_whole_group(writer_store: Store) -> None:
    store = writer_store
    aborted: list[str] = []

    def op(name: str, hook: bool) -> Callable[[Tx], int]:
        def run(tx: Tx) -> int:
            tx.on_abort.append(lambda: aborted.append(name))
            tx.after_commit.append(lambda: aborted.append(f"commit:{name}"))
            if hook:
                tx.before_commit.append(lambda: 1 // 0)
            return tx.insert_app("wechat", name, "", "", "{}", 0.0)

        return run

    gate = Gate(store)
    futures = [store.submit(op("a", False)), store.submit(op("b", True))]
    gate.open()
    for f in futures:
        with pytest.raises(Unavailable):
            f.result(WAIT)
    assert store.read().apps() == []
    assert sorted(aborted) == ["a", "b"]  # no after_commit hook ran
    assert new_app(store, "later")  # the writer goes on


def test_writes_are_durable_across_reopen(db_url: str) -> None:
    first = open_store(db_url)
    try:
        app_id = new_app(first, "kept")
        add_subjects(first, app_id, ["a", "b"])
    finally:
        first.close()
    again = open_store(db_url)
    try:
        assert again.read().app_by_name("kept") is not None
        assert again.read().count_subjects(app_id) == 2
    finally:
        again.close()


# migrations --------------------------------------------------------------------------------------
def _versions(store: Store) -> list[tuple[int, str]]:
    return [(int(v), str(n)) for v, n in store.read()._all("SELECT version, name FROM schema_version ORDER BY version")]


def test_migrations_are_recorded_and_idempotent(db_url: str) -> None:
    first = open_store(db_url)
    try:
        expected = [(m.version, m.name) for m in migrations.load(first.backend)]
        assert expected and expected[0][0] == 1
        assert _versions(first) == expected
    finally:
        first.close()
    again = open_store(db_url)  # a second open applies nothing and fails on nothing
    try:
        assert _versions(again) == expected
        new_app(again, "after-reopen")
    finally:
        again.close()


def test_polytag_migrate_twice(db_url: str) -> None:
    for _ in range(2):
        done = subprocess.run([sys.executable, "-m", "polytag", "migrate", "--db", db_url],
                              capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert done.returncode == 0, done.stderr
        assert "schema up to date" in done.stdout
    s = open_store(db_url)
    try:
        assert _versions(s) == [(m.version, m.name) for m in migrations.load(s.backend)]
    finally:
        s.close()
