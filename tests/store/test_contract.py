"""The storage contract: every backend behind `open_store` answers every row call the same way.

Written against `db_url` only (no backend's own API), so each backend added to the
fixture's parametrization runs the whole suite.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from typing import Any

import pytest
from pyroaring import BitMap

from polytag.errors import Unavailable
from polytag.store import Store, Tx, migrations, open_store
from tests.conftest import ROOT

WAIT = 60  # seconds: a bound on waiting for the writer thread, never an assertion on speed


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    s = open_store(db_url)
    yield s
    s.close()


@pytest.fixture(params=["thread", "loop"])
def writer_store(request: pytest.FixtureRequest, db_url: str) -> Iterator[Store]:
    """A store whose writes go through the writer thread, or through an asyncio loop (as in a server)."""
    s = open_store(db_url)
    if request.param == "thread":
        yield s
        s.close()
        return
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-loop", daemon=True)
    thread.start()
    attached: Future[None] = Future()

    def attach() -> None:
        s.attach_loop(loop)  # on the loop's own thread, as a server's startup does
        attached.set_result(None)

    loop.call_soon_threadsafe(attach)
    attached.result(WAIT)
    try:
        yield s
    finally:
        asyncio.run_coroutine_threadsafe(s.detach_loop(), loop).result(WAIT)
        s.close()
        loop.call_soon_threadsafe(loop.stop)
        thread.join(WAIT)
        loop.close()


def new_app(store: Store, name: str = "app", dialect: str = "wechat") -> int:
    return store.write(lambda tx: tx.insert_app(dialect, name, "h", "s", "{}", 1.0))


def add_subjects(store: Store, app_id: int, ext_ids: list[str]) -> int:
    def op(tx: Tx) -> int:
        first = tx.bump_counter(app_id, "next_subject", len(ext_ids))
        tx.insert_subjects(app_id, first, ext_ids, 7)
        return first

    return store.write(op)


# apps ------------------------------------------------------------------------------------------
def test_apps_insert_lookup_list_update(store: Store) -> None:
    a = new_app(store, "wx1", "wechat")
    b = store.write(lambda tx: tx.insert_app("juzibot", "jz1", "hash", "sec", '{"k": 1}', 2.5))
    c = new_app(store, "wx2", "wechat")
    assert len({a, b, c}) == 3
    rows = store.read()
    assert rows.app_by_name("jz1") == (b, "juzibot", "jz1", "hash", "sec", '{"k": 1}', 2.5)
    assert rows.app_by_id(b) == rows.app_by_name("jz1")
    assert rows.app_by_name("nope") is None
    assert rows.app_by_id(max(a, b, c) + 100) is None
    assert [r[0] for r in rows.apps()] == sorted([a, b, c])
    assert [r[2] for r in rows.apps("wechat")] == ["wx1", "wx2"]
    assert rows.apps("tencent_im") == []
    assert rows.app_config(b) == '{"k": 1}'
    store.write(lambda tx: tx.update_app(b, "h2", "s2", '{"k": 2}'))
    assert store.read().app_by_id(b) == (b, "juzibot", "jz1", "h2", "s2", '{"k": 2}', 2.5)
    assert store.read().app_config(a + b + c + 100) is None


def test_app_names_are_unique(store: Store) -> None:
    new_app(store, "same")
    with pytest.raises(Exception):  # noqa: B017 - each backend raises its own driver's error
        new_app(store, "same")
    assert [r[2] for r in store.read().apps()] == ["same"]


def test_app_head_counters_and_fold_mark(store: Store) -> None:
    a = new_app(store)
    assert store.read().app_head(a) == (0, 0, 0, 0)
    assert store.read().app_head(a + 1) is None

    def bumps(tx: Tx) -> list[int]:
        return [
            tx.bump_counter(a, "next_subject", 5), tx.bump_counter(a, "next_subject"),
            tx.bump_counter(a, "next_tag"), tx.bump_counter(a, "next_tag", 3),
            tx.bump_counter(a, "mseq"), tx.bump_counter(a, "mseq"),
            tx.bump_counter(a, "next_group", 2), tx.bump_counter(a, "next_group"),
        ]

    assert store.write(bumps) == [0, 5, 0, 1, 0, 1, 0, 2]  # the value before each bump
    store.write(lambda tx: tx.set_folded(a, 2))
    assert store.read().app_head(a) == (2, 6, 4, 2)
    b = new_app(store, "other")
    assert store.read().app_head(b) == (0, 0, 0, 0)  # counters are per app


# subjects --------------------------------------------------------------------------------------
def test_subjects_insert_and_lookups(store: Store) -> None:
    a, b = new_app(store, "a"), new_app(store, "b")
    ids = [f"u{i:04d}" for i in range(1203)]  # more than one 500-row IN chunk
    assert add_subjects(store, a, ids) == 0
    add_subjects(store, b, ["u0001", "zz"])
    rows = store.read()
    assert rows.count_subjects(a) == 1203
    assert rows.subject_ids_from(a, 1200) == [(1200, "u1200"), (1201, "u1201"), (1202, "u1202")]
    assert len(rows.subject_ids_from(a, 0)) == 1203
    assert sorted(rows.subject_ords(a, ["u0002", "u1100", "missing", "zz"])) == [("u0002", 2), ("u1100", 1100)]
    got = dict(rows.subject_ords(a, ids))
    assert got == {e: i for i, e in enumerate(ids)}
    assert rows.subject(a, 3) == (3, "u0003", 1, 0, "", 7, "{}")
    assert rows.subject(a, 5000) is None
    by_ord = rows.subjects_by_ords(a, list(range(0, 1203, 2)))
    assert sorted(r[0] for r in by_ord) == list(range(0, 1203, 2))
    assert rows.subjects_by_ords(a, []) == []
    assert sorted(rows.apps_holding("u0001")) == sorted([a, b])
    assert rows.apps_holding("zz") == [b]
    assert rows.apps_holding("nobody") == []


def test_subject_ext_ids_are_unique_per_app(store: Store) -> None:
    a = new_app(store)
    add_subjects(store, a, ["x"])
    with pytest.raises(Exception):  # noqa: B017
        store.write(lambda tx: tx.insert_subjects(a, 1, ["x"], 0))
    assert store.read().count_subjects(a) == 1


def test_subjects_page_is_a_keyset_walk(store: Store) -> None:
    a = new_app(store)
    add_subjects(store, a, [f"s{i}" for i in range(10)])
    store.write(lambda tx: tx.set_subject_fields(a, 4, active=0))
    rows = store.read()
    walked, after = [], -1
    while page := rows.subjects_page(a, after, 3):
        walked += page
        after = page[-1][0]
    assert walked == [(i, f"s{i}") for i in range(10) if i != 4]
    assert rows.subjects_page(a, 2, 2, active_only=False) == [(3, "s3"), (4, "s4")]
    assert rows.count_subjects(a) == 9
    assert rows.count_subjects(a, active_only=False) == 10


def test_subject_fields_and_blacklist(store: Store) -> None:
    a = new_app(store)
    add_subjects(store, a, [f"s{i}" for i in range(6)])
    store.write(lambda tx: tx.set_subject_fields(a, 1, remark="vip", props='{"x": 1}'))
    assert store.read().subject(a, 1) == (1, "s1", 1, 0, "vip", 7, '{"x": 1}')
    store.write(lambda tx: tx.set_blacklisted(a, [0, 2, 5], True))
    store.write(lambda tx: tx.set_blacklisted(a, [2], False))
    rows = store.read()
    assert rows.count_blacklisted(a) == 2
    assert rows.blacklist_page(a, -1, 1) == [(0, "s0")]
    assert rows.blacklist_page(a, 0, 10) == [(5, "s5")]
    assert rows.blacklist_page(a, 5, 10) == []
    assert rows.subject(a, 5)[3] == 1  # type: ignore[index]


# tags and groups -------------------------------------------------------------------------------
def test_tags_rows(store: Store) -> None:
    a, b = new_app(store, "a"), new_app(store, "b")

    def op(tx: Tx) -> None:
        tx.insert_tag(a, 0, "100", "red", None, 0, 11)
        tx.insert_tag(a, 1, "101", "blue", 3, 5, 12)
        tx.insert_tag(a, 2, "102", "red", 4, 0, 13)
        tx.insert_tag(b, 0, "100", "other", None, 0, 14)

    store.write(op)
    rows = store.read()
    assert rows.tags(a) == [(0, "100", "red", None, 0, 11, 0), (1, "101", "blue", 3, 5, 12, 0),
                            (2, "102", "red", 4, 0, 13, 0)]
    assert rows.tag_by_ord(a, 1) == (1, "101", "blue", 3, 5, 12, 0)
    assert rows.tag_by_ext(a, "102") == (2, "102", "red", 4, 0, 13, 0)
    assert rows.tag_by_ext(b, "100") == (0, "100", "other", None, 0, 14, 0)
    assert rows.tag_by_ext(a, "999") is None
    assert rows.tag_by_ord(a, 9) is None
    assert sorted(r[0] for r in rows.tags_by_name(a, "red")) == [0, 2]
    assert rows.count_tags(a) == 3
    assert rows.count_tags(b) == 1

    def change(tx: Tx) -> None:
        tx.update_tag(a, 0, name="green")
        tx.update_tag(a, 1, order=9)
        tx.update_tag(a, 2)  # nothing to change
        tx.set_tag_version(a, 2, 42)
        tx.delete_tag_row(a, 1)

    store.write(change)
    assert store.read().tags(a) == [(0, "100", "green", None, 0, 11, 0), (2, "102", "red", 4, 0, 13, 42)]
    assert store.read().tags(b) == [(0, "100", "other", None, 0, 14, 0)]
    with pytest.raises(Exception):  # noqa: B017 - ext ids are unique per app
        store.write(lambda tx: tx.insert_tag(a, 7, "102", "dup", None, 0, 0))


def test_group_rows(store: Store) -> None:
    a = new_app(store)

    def op(tx: Tx) -> None:
        tx.insert_group(a, 0, "g0", "colours", 1, 10)
        tx.insert_group(a, 1, "g1", "sizes", 2, 20)

    store.write(op)
    rows = store.read()
    assert rows.groups(a) == [(0, "g0", "colours", 1, 10), (1, "g1", "sizes", 2, 20)]
    assert rows.group_by_ext(a, "g1") == (1, "g1", "sizes", 2, 20)
    assert rows.group_by_ord(a, 0) == (0, "g0", "colours", 1, 10)
    assert rows.group_by_ext(a, "nope") is None
    assert rows.groups_by_name(a, "sizes") == [(1, "g1", "sizes", 2, 20)]

    def change(tx: Tx) -> None:
        tx.update_group(a, 0, name="colors", order=7)
        tx.delete_group_row(a, 1)

    store.write(change)
    assert store.read().groups(a) == [(0, "g0", "colors", 7, 10)]
    assert store.read().groups_by_name(a, "sizes") == []


# memberships -----------------------------------------------------------------------------------
def test_membership_log_append_read_trim(store: Store) -> None:
    a, b = new_app(store, "a"), new_app(store, "b")
    blobs = [BitMap([1, 2, 3]).serialize(), BitMap([70000]).serialize(), BitMap().serialize()]

    def op(tx: Tx) -> None:
        for seq, blob in enumerate(blobs, start=1):
            tx.append_log(a, seq, seq % 2, seq, blob)
        tx.append_log(b, 1, 0, 1, blobs[0])

    store.write(op)
    rows = store.read()
    got = rows.log_after(a, 0)
    assert [(s, t, o) for s, t, o, _ in got] == [(1, 1, 1), (2, 0, 2), (3, 1, 3)]
    assert [BitMap.deserialize(bytes(r[3])) for r in got] == [BitMap([1, 2, 3]), BitMap([70000]), BitMap()]
    assert [r[0] for r in rows.log_after(a, 2)] == [3]
    assert rows.log_after(a, 3) == []
    with pytest.raises(Exception):  # noqa: B017 - (app, seq) is a key
        store.write(lambda tx: tx.append_log(a, 2, 0, 1, blobs[0]))
    store.write(lambda tx: tx.trim_log(a, 2))
    assert [r[0] for r in store.read().log_after(a, 0)] == [3]
    assert [r[0] for r in store.read().log_after(b, 0)] == [1]  # other apps untouched


def test_chunks_upsert_delete_and_drop(store: Store) -> None:
    a, b = new_app(store, "a"), new_app(store, "b")
    one, two, three = (BitMap(x).serialize() for x in ([1], [2, 3], [65536 + 5]))
    store.write(lambda tx: tx.put_chunks(a, [(0, 0, one), (0, 1, three), (1, 0, two)]))
    store.write(lambda tx: tx.put_chunks(b, [(0, 0, two)]))

    def chunks(app_id: int) -> dict[tuple[int, int], BitMap]:
        return {(t, c): BitMap.deserialize(bytes(bits)) for t, c, bits in store.read().chunks(app_id)}

    assert chunks(a) == {(0, 0): BitMap([1]), (0, 1): BitMap([65541]), (1, 0): BitMap([2, 3])}
    store.write(lambda tx: tx.put_chunks(a, [(0, 0, two), (1, 0, None), (5, 5, None)]))  # upsert, delete
    assert chunks(a) == {(0, 0): BitMap([2, 3]), (0, 1): BitMap([65541])}
    store.write(lambda tx: tx.put_chunks(a, []))
    store.write(lambda tx: tx.drop_tag_chunks(a, 0))
    assert chunks(a) == {}
    assert chunks(b) == {(0, 0): BitMap([2, 3])}


# tokens ----------------------------------------------------------------------------------------
def test_token_rows(store: Store) -> None:
    a, b = new_app(store, "a"), new_app(store, "b")

    def op(tx: Tx) -> None:
        tx.insert_token("h1", a, "token", 100.0, 200.0)
        tx.insert_token("h2", a, "token", 150.0, 250.0, "again")
        tx.insert_token("h3", a, "stable", 160.0, 260.0)
        tx.insert_token("h4", b, "token", 170.0, 270.0)

    store.write(op)
    rows = store.read()
    assert rows.token("h2") == (a, "token", 150.0, 250.0)
    assert rows.token("nope") is None
    assert rows.live_tokens(a, "token", 120.0) == [("h2", 150.0, 250.0, "again"), ("h1", 100.0, 200.0, "")]
    assert rows.live_tokens(a, "token", 200.0) == [("h2", 150.0, 250.0, "again")]  # expires_at > now
    assert rows.count_tokens_since(a, "token", 150.0) == 1
    assert rows.count_tokens_since(a, "token", 0.0) == 2
    assert rows.last_issued(a, "token") == 150.0
    assert rows.last_issued(a, "nothing") is None
    with pytest.raises(Exception):  # noqa: B017 - a hash names one token
        store.write(lambda tx: tx.insert_token("h1", b, "token", 0.0, 1.0))

    store.write(lambda tx: tx.cap_token_expiry(a, "token", 180.0, "h2"))
    rows = store.read()
    assert rows.token("h1") == (a, "token", 100.0, 180.0)
    assert rows.token("h2") == (a, "token", 150.0, 250.0)  # the excepted one
    assert rows.token("h4") == (b, "token", 170.0, 270.0)  # another app's
    store.write(lambda tx: tx.cap_token_expiry(a, "token", 190.0, "h2"))  # never extends
    assert store.read().token("h1") == (a, "token", 100.0, 180.0)

    store.write(lambda tx: tx.purge_tokens(a, "token", 200.0))
    rows = store.read()
    assert rows.token("h1") is None
    assert rows.token("h2") is not None and rows.token("h3") is not None and rows.token("h4") is not None


# deleting an app ---------------------------------------------------------------------------------
def _fill_app(tx: Tx, app_id: int) -> None:
    tx.insert_subjects(app_id, 0, ["x", "y"], 0)
    tx.insert_tag(app_id, 0, "t", "t", None, 0, 0)
    tx.insert_group(app_id, 0, "g", "g", 0, 0)
    tx.append_log(app_id, 1, 0, 1, BitMap([0]).serialize())
    tx.put_chunks(app_id, [(0, 0, BitMap([1]).serialize())])
    tx.insert_token(f"tok{app_id}", app_id, "token", 0.0, 1e12)


def test_delete_app_rows_removes_only_that_app(store: Store) -> None:
    a, b = new_app(store, "a"), new_app(store, "b")
    store.write(lambda tx: (_fill_app(tx, a), _fill_app(tx, b)))
    store.write(lambda tx: tx.delete_app_rows(a))
    rows = store.read()
    assert rows.app_by_id(a) is None and rows.app_head(a) is None
    assert (rows.count_subjects(a), rows.tags(a), rows.groups(a)) == (0, [], [])
    assert (rows.log_after(a, 0), rows.chunks(a), rows.token(f"tok{a}")) == ([], [], None)
    assert rows.app_by_id(b) is not None
    assert (rows.count_subjects(b), len(rows.tags(b)), len(rows.groups(b))) == (2, 1, 1)
    assert (len(rows.log_after(b, 0)), len(rows.chunks(b)), rows.token(f"tok{b}")) == (1, 1, (b, "token", 0.0, 1e12))


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

