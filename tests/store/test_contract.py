"""The storage contract, rows: every backend behind `open_store` answers every row call the same way.

Written against `db_url` only (no backend's own API), so each backend added to the
fixture's parametrization runs the whole suite. The writer's part: test_contract_writer.py.
"""

from __future__ import annotations

import pytest
from pyroaring import BitMap

from polytag.store import Store, Tx
from tests.store.conftest import add_subjects, new_app


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
