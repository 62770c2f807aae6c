"""Rows of `membership_log` and `tag_chunks`: the durable form of who carries which tag."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from polytag.store.rows.base import Executor, Row


class MembershipRows(Executor):
    APP_TABLES: ClassVar[tuple[str, ...]] = ("membership_log", "tag_chunks")

    def append_log(self, app_id: int, seq: int, tag_ord: int, op: int, subjects: bytes) -> None:
        self._run(
            "INSERT INTO membership_log (app_id, seq, tag_ord, op, subjects) VALUES (?, ?, ?, ?, ?)",
            (app_id, seq, tag_ord, op, subjects),
        )

    def append_log_rows(self, app_id: int, rows: list[tuple[int, int, int, bytes]]) -> None:
        """(seq, tag_ord, op, subjects) rows of one group, in one statement (before COMMIT)."""
        self._many(
            "INSERT INTO membership_log (app_id, seq, tag_ord, op, subjects) VALUES (?, ?, ?, ?, ?)",
            [(app_id, *row) for row in rows],
        )

    def log_after(self, app_id: int, seq: int) -> list[Row]:
        """(seq, tag_ord, op, subjects) after `seq`, oldest first."""
        return self._all(
            "SELECT seq, tag_ord, op, subjects FROM membership_log WHERE app_id = ? AND seq > ? ORDER BY seq",
            (app_id, seq),
        )

    def trim_log(self, app_id: int, upto_seq: int) -> None:
        self._run("DELETE FROM membership_log WHERE app_id = ? AND seq <= ?", (app_id, upto_seq))

    def chunks(self, app_id: int, tags: Sequence[int] | None = None) -> list[Row]:
        """(tag_ord, chunk, bits) of every folded chunk of the app, or of `tags` only."""
        if tags is None:
            return self._all("SELECT tag_ord, chunk, bits FROM tag_chunks WHERE app_id = ?", (app_id,))
        out: list[Row] = []
        for tag_ord in tags:
            out += self._all("SELECT tag_ord, chunk, bits FROM tag_chunks WHERE app_id = ? AND tag_ord = ?",
                             (app_id, tag_ord))
        return out

    def put_chunks(self, app_id: int, rows: Iterable[tuple[int, int, bytes | None]]) -> None:
        """Write (tag_ord, chunk, bits); bits None deletes the chunk."""
        for tag_ord, chunk, bits in rows:
            if bits is None:
                self._run(
                    "DELETE FROM tag_chunks WHERE app_id = ? AND tag_ord = ? AND chunk = ?",
                    (app_id, tag_ord, chunk),
                )
            else:
                self._run(
                    "INSERT INTO tag_chunks (app_id, tag_ord, chunk, bits) VALUES (?, ?, ?, ?)"
                    " ON CONFLICT (app_id, tag_ord, chunk) DO UPDATE SET bits = excluded.bits",
                    (app_id, tag_ord, chunk, bits),
                )

    def drop_tag_chunks(self, app_id: int, tag_ord: int) -> None:
        self._run("DELETE FROM tag_chunks WHERE app_id = ? AND tag_ord = ?", (app_id, tag_ord))
