"""Rows of the send log (one row per message sent to an audience) and of each app's send pace."""

from __future__ import annotations

from typing import ClassVar

from polytag.store.rows.base import Executor, Row

SEND_COLS = ("seq, ext_id, created_at, kind, target, msgtype, message, options, dedupe_key, counted, status,"
             " audience_size, members")


class SendRows(Executor):
    APP_TABLES: ClassVar[tuple[str, ...]] = ("sends", "send_pace")

    def next_send_seq(self, app_id: int) -> int:
        return int(self._scalar("SELECT coalesce(max(seq), 0) + 1 FROM sends WHERE app_id = ?", (app_id,), 1))

    def insert_send(self, app_id: int, row: Row) -> None:
        """`row` in SEND_COLS order."""
        marks = ", ".join("?" * (len(row) + 1))
        self._run(f"INSERT INTO sends (app_id, {SEND_COLS}) VALUES ({marks})", (app_id, *row))

    def send_by_key(self, app_id: int, key: str, since: float) -> Row | None:
        """The latest send made with de-duplication key `key` at or after `since`."""
        return self._one(
            f"SELECT {SEND_COLS} FROM sends WHERE app_id = ? AND dedupe_key = ? AND created_at >= ?"
            " ORDER BY created_at DESC LIMIT 1",
            (app_id, key, since),
        )

    def send_by_ext(self, app_id: int, ext_id: str) -> Row | None:
        return self._one(f"SELECT {SEND_COLS} FROM sends WHERE app_id = ? AND ext_id = ?", (app_id, ext_id))

    def sends(self, app_id: int) -> list[Row]:
        return self._all(f"SELECT {SEND_COLS} FROM sends WHERE app_id = ? ORDER BY seq", (app_id,))

    def count_counted_sends_since(self, app_id: int, since: float) -> int:
        return int(self._scalar(
            "SELECT count(*) FROM sends WHERE app_id = ? AND counted = 1 AND created_at >= ?", (app_id, since), 0
        ))

    def set_send_status(self, app_id: int, seq: int, status: str) -> None:
        self._run("UPDATE sends SET status = ? WHERE app_id = ? AND seq = ?", (status, app_id, seq))

    def blacklisted_ords(self, app_id: int) -> list[int]:
        return [int(r[0]) for r in self._all(
            "SELECT ord FROM subjects WHERE app_id = ? AND blacklisted = 1", (app_id,))]

    # pace
    def send_pace(self, app_id: int) -> int | None:
        v = self._scalar("SELECT level FROM send_pace WHERE app_id = ?", (app_id,))
        return None if v is None else int(v)

    def set_send_pace(self, app_id: int, level: int) -> None:
        self._run(
            "INSERT INTO send_pace (app_id, level) VALUES (?, ?)"
            " ON CONFLICT (app_id) DO UPDATE SET level = excluded.level",
            (app_id, level),
        )
