"""The storage contract, snapshot rows: whole tables of one app read, written and restored the
same way on every backend, and names that are not the schema's refused before any SQL."""

from __future__ import annotations

import pytest

from polytag.store import Store, Tx
from tests.store.conftest import add_subjects, new_app


def test_app_rows_read_a_table_in_key_order_and_the_apps_row(store: Store) -> None:
    app = new_app(store, "wx1")
    other = new_app(store, "wx2")
    add_subjects(store, app, ["b", "a"])
    add_subjects(store, other, ["z"])
    rows = store.read()
    columns, got = rows.app_rows("subjects", app)
    assert {"app_id", "ord", "ext_id"} <= set(columns) and columns == rows.table_columns("subjects")
    at, ext = columns.index("ord"), columns.index("ext_id")
    assert [(r[at], r[ext]) for r in got] == [(0, "b"), (1, "a")]
    apps_cols, (record,) = rows.app_rows("apps", app)
    assert record[apps_cols.index("name")] == "wx1"
    assert "subjects" in rows.app_tables() and "tags" in rows.app_tables() and "apps" not in rows.app_tables()


def test_insert_delete_and_restore_subjects(store: Store) -> None:
    app = new_app(store)
    add_subjects(store, app, ["a", "b", "c"])

    def op(tx: Tx) -> None:
        tx.delete_subjects_from(app, 2)
        tx.set_every_subject(app, {"remark": "same"})
        tx.set_subjects(app, ["remark"], [(1, ["one"])])

    store.write(op)
    columns, got = store.read().app_rows("subjects", app)
    remark = columns.index("remark")
    assert [r[remark] for r in got] == ["same", "one"]


def test_app_records_and_table_rows_round_trip(store: Store) -> None:
    app = new_app(store, "src")
    store.write(lambda tx: tx.insert_tag(app, 0, "100", "t", None, 0, 5))
    rows = store.read()
    cols, (record,) = rows.app_rows("apps", app)
    tag_cols, tag_rows = rows.app_rows("tags", app)

    def op(tx: Tx) -> int:
        copy = {c: v for c, v in zip(cols, record, strict=True) if c != "app_id"}
        new = tx.insert_app_record({**copy, "name": "copy", "no_such_column": 1})  # absent columns: skipped
        at = tag_cols.index("app_id")
        tx.insert_rows("tags", tag_cols, [[new if i == at else v for i, v in enumerate(r)] for r in tag_rows])
        tx.update_app_record(new, {"next_tag": 7})
        return new

    new = store.write(op)
    assert [r[1:] for r in store.read().app_rows("tags", new)[1]] == [r[1:] for r in tag_rows]
    assert store.read().app_head(new)[2] == 7
    store.write(lambda tx: tx.delete_app_table_rows("tags", new))
    assert store.read().app_rows("tags", new)[1] == []


@pytest.mark.parametrize("table", ["nope", "apps; DROP TABLE apps", "schema_version"])
def test_a_table_that_is_not_an_apps_is_refused(store: Store, table: str) -> None:
    with pytest.raises(ValueError, match="not a table of an app"):
        store.read().app_rows(table, 1)


def test_a_column_the_table_lacks_is_refused(store: Store) -> None:
    app = new_app(store)
    with pytest.raises(ValueError, match="has no column"):
        store.write(lambda tx: tx.insert_rows("tags", ["app_id", "ord = 1; --"], [[app, 0]]))
    with pytest.raises(ValueError, match="has no column"):
        store.write(lambda tx: tx.set_every_subject(app, {"bogus": 1}))
