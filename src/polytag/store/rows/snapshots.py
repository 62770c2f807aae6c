"""Whole rows of one app, table by table, as snapshots dump, load and restore them.

Table and column names are the schema's own: a table must be `apps` or one a row class lists
in APP_TABLES, and a column one the table has in this database (a newer schema may have added
or dropped some); anything else is a ValueError before any SQL is built from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from polytag.store.rows.base import Executor, Row


class SnapshotRows(Executor):
    def app_tables(self) -> list[str]:
        """Every table keyed by app id, as the row classes declare them."""
        return [t for cls in type(self).__mro__ for t in cls.__dict__.get("APP_TABLES", ())]

    def table_columns(self, table: str) -> list[str]:
        """The table's columns in this database, in their order."""
        self._known_table(table)
        return [d[0] for d in self._exec(f"SELECT * FROM {table} WHERE 1 = 0").description]

    def app_rows(self, table: str, app_id: int) -> tuple[list[str], list[Row]]:
        """(columns, rows) of the app in `table` (`apps`: its one row), in key order."""
        self._known_table(table)
        order = "" if table == "apps" else " ORDER BY 1, 2"
        cur = self._exec(f"SELECT * FROM {table} WHERE app_id = ?{order}", (app_id,))
        return [d[0] for d in cur.description], [tuple(r) for r in cur.fetchall()]

    def insert_rows(self, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        self._known_columns(table, columns)
        marks = ", ".join("?" for _ in columns)
        self._many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)

    def delete_app_table_rows(self, table: str, app_id: int) -> None:
        self._known_table(table)
        self._run(f"DELETE FROM {table} WHERE app_id = ?", (app_id,))

    def delete_subjects_from(self, app_id: int, first_ord: int) -> None:
        self._run("DELETE FROM subjects WHERE app_id = ? AND ord >= ?", (app_id, first_ord))

    def set_every_subject(self, app_id: int, values: Mapping[str, Any]) -> None:
        """Set `values` on each subject of the app that does not hold them all already."""
        self._known_columns("subjects", list(values))
        sets = ", ".join(f"{c} = ?" for c in values)
        differs = " OR ".join(f"{c} {self.DIFFERS} ?" for c in values)
        vals = list(values.values())
        self._run(f"UPDATE subjects SET {sets} WHERE app_id = ? AND ({differs})", (*vals, app_id, *vals))

    def set_subjects(self, app_id: int, columns: Sequence[str], by_ord: Sequence[tuple[int, Sequence[Any]]]) -> None:
        """Set `columns` of each subject (ord, values)."""
        self._known_columns("subjects", columns)
        sets = ", ".join(f"{c} = ?" for c in columns)
        self._many(f"UPDATE subjects SET {sets} WHERE app_id = ? AND ord = ?",
                   [[*values, app_id, o] for o, values in by_ord])

    def insert_app_record(self, record: Mapping[str, Any]) -> int:
        """A new `apps` row from the record's columns this schema has; its app id."""
        cols = [c for c in record if c in self.table_columns("apps")]
        sql = f"INSERT INTO apps ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)}) RETURNING app_id"
        row = self._one(sql, [record[c] for c in cols])
        assert row is not None
        return int(row[0])

    def update_app_record(self, app_id: int, record: Mapping[str, Any]) -> None:
        """The app's row set to the record's columns this schema has."""
        cols = [c for c in record if c in self.table_columns("apps")]
        self._run(f"UPDATE apps SET {', '.join(f'{c} = ?' for c in cols)} WHERE app_id = ?",
                  (*[record[c] for c in cols], app_id))

    def _known_table(self, table: str) -> None:
        if table != "apps" and table not in self.app_tables():
            raise ValueError(f"not a table of an app: {str(table)[:40]!r}")

    def _known_columns(self, table: str, columns: Sequence[str]) -> None:
        present = set(self.table_columns(table))
        unknown = [c for c in columns if c not in present]
        if unknown:
            raise ValueError(f"{table} has no column {str(unknown[0])[:40]!r}")
