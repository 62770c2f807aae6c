"""Rows of `apps`: one per tenant, with its counters (next ordinals, membership log head)."""

from __future__ import annotations

from typing import Any

from polytag.store.rows.base import Executor, Row

APP_COLS = "app_id, dialect, name, secret_hash, secret, config, created_at"
APP_HEAD = "SELECT mseq, next_subject, next_tag, folded_seq FROM apps WHERE app_id = ?"


class AppRows(Executor):
    def app_by_name(self, name: str) -> Row | None:
        return self._one(f"SELECT {APP_COLS} FROM apps WHERE name = ?", (name,))

    def app_by_id(self, app_id: int) -> Row | None:
        return self._one(f"SELECT {APP_COLS} FROM apps WHERE app_id = ?", (app_id,))

    def apps(self, dialect: str | None = None) -> list[Row]:
        if dialect:
            return self._all(f"SELECT {APP_COLS} FROM apps WHERE dialect = ? ORDER BY app_id", (dialect,))
        return self._all(f"SELECT {APP_COLS} FROM apps ORDER BY app_id")

    def insert_app(self, dialect: str, name: str, secret_hash: str, secret: str, config: str, now: float) -> int:
        row = self._one(
            "INSERT INTO apps (dialect, name, secret_hash, secret, config, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) RETURNING app_id",
            (dialect, name, secret_hash, secret, config, now),
        )
        assert row is not None
        return int(row[0])

    def update_app(self, app_id: int, secret_hash: str, secret: str, config: str) -> None:
        self._run(
            "UPDATE apps SET secret_hash = ?, secret = ?, config = ? WHERE app_id = ?",
            (secret_hash, secret, config, app_id),
        )

    def delete_app_rows(self, app_id: int) -> None:
        """Remove the app and everything keyed by it (used by reset): every row class lists
        the tables it owns in APP_TABLES."""
        for cls in type(self).__mro__:
            for table in cls.__dict__.get("APP_TABLES", ()):
                self._run(f"DELETE FROM {table} WHERE app_id = ?", (app_id,))
        self._run("DELETE FROM apps WHERE app_id = ?", (app_id,))

    def app_head(self, app_id: int) -> Row | None:
        """(mseq, next_subject, next_tag, folded_seq): what a cache compares itself with."""
        return self._one(APP_HEAD, (app_id,))

    def bump_counter(self, app_id: int, column: str, by: int = 1) -> int:
        """Add `by` to a counter column and return its value before the bump."""
        assert column in ("next_subject", "next_tag", "next_group", "mseq")
        row = self._one(
            f"UPDATE apps SET {column} = {column} + ? WHERE app_id = ? RETURNING {column}",
            (by, app_id),
        )
        assert row is not None
        return int(row[0]) - by

    def set_counter(self, app_id: int, column: str, value: int) -> None:
        assert column in ("next_subject", "next_tag", "next_group", "mseq")
        self._run(f"UPDATE apps SET {column} = ? WHERE app_id = ?", (value, app_id))

    def set_folded(self, app_id: int, seq: int) -> None:
        self._run("UPDATE apps SET folded_seq = ? WHERE app_id = ?", (seq, app_id))

    def app_config(self, app_id: int) -> Any:
        return self._scalar("SELECT config FROM apps WHERE app_id = ?", (app_id,))
