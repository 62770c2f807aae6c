"""Rows of the Tencent IM tables: attribute names, subjects' attribute values, the push log."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from polytag.store.rows.base import Executor, Row

PUSH_COLS = "task_id, msg_random, created_at, condition, from_account, lifetime, audience_size, members"


class ImRows(Executor):
    APP_TABLES: ClassVar[tuple[str, ...]] = ("im_attr_names", "im_subject_attrs", "im_pushes")

    # attribute names
    def attr_names(self, app_id: int) -> list[Row]:
        """(slot, name) of the app, by slot."""
        return self._all("SELECT slot, name FROM im_attr_names WHERE app_id = ? ORDER BY slot", (app_id,))

    def put_attr_name(self, app_id: int, slot: int, name: str) -> None:
        self._run(
            "INSERT INTO im_attr_names (app_id, slot, name) VALUES (?, ?, ?)"
            " ON CONFLICT (app_id, slot) DO UPDATE SET name = excluded.name",
            (app_id, slot, name),
        )

    # attribute values
    def subject_attrs(self, app_id: int, ords: Sequence[int]) -> list[Row]:
        """(ord, slot, value) of the given subjects."""
        out: list[Row] = []
        for start in range(0, len(ords), 500):
            chunk = list(ords[start:start + 500])
            marks = ",".join("?" * len(chunk))
            out += self._all(
                f"SELECT ord, slot, value FROM im_subject_attrs WHERE app_id = ? AND ord IN ({marks})"
                " ORDER BY ord, slot",
                (app_id, *chunk),
            )
        return out

    def put_subject_attr(self, app_id: int, ord_: int, slot: int, value: str) -> None:
        self._run(
            "INSERT INTO im_subject_attrs (app_id, ord, slot, value) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (app_id, ord, slot) DO UPDATE SET value = excluded.value",
            (app_id, ord_, slot, value),
        )

    def delete_subject_attr(self, app_id: int, ord_: int, slot: int) -> None:
        self._run("DELETE FROM im_subject_attrs WHERE app_id = ? AND ord = ? AND slot = ?", (app_id, ord_, slot))

    def delete_subject_attrs(self, app_id: int, ord_: int) -> None:
        self._run("DELETE FROM im_subject_attrs WHERE app_id = ? AND ord = ?", (app_id, ord_))

    def ords_with_attr(self, app_id: int, slot: int, value: str) -> list[int]:
        rows = self._all(
            "SELECT ord FROM im_subject_attrs WHERE app_id = ? AND slot = ? AND value = ?", (app_id, slot, value)
        )
        return [int(r[0]) for r in rows]

    def active_ords(self, app_id: int) -> list[int]:
        return [int(r[0]) for r in self._all("SELECT ord FROM subjects WHERE app_id = ? AND active = 1", (app_id,))]

    # push log
    def insert_push(
        self, app_id: int, task_id: str, msg_random: int, created_at: float, condition: str,
        from_account: str, lifetime: int, audience_size: int, members: bytes,
    ) -> None:
        self._run(
            f"INSERT INTO im_pushes (app_id, {PUSH_COLS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (app_id, task_id, msg_random, created_at, condition, from_account, lifetime, audience_size, members),
        )

    def push_by_random(self, app_id: int, msg_random: int, since: float) -> Row | None:
        return self._one(
            f"SELECT {PUSH_COLS} FROM im_pushes WHERE app_id = ? AND msg_random = ? AND created_at >= ?"
            " ORDER BY created_at DESC LIMIT 1",
            (app_id, msg_random, since),
        )

    def pushes(self, app_id: int) -> list[Row]:
        return self._all(f"SELECT {PUSH_COLS} FROM im_pushes WHERE app_id = ? ORDER BY created_at, task_id", (app_id,))

    def last_push_at(self, app_id: int) -> float | None:
        v = self._scalar("SELECT max(created_at) FROM im_pushes WHERE app_id = ?", (app_id,))
        return None if v is None else float(v)

    def count_pushes_since(self, app_id: int, since: float) -> int:
        return int(self._scalar(
            "SELECT count(*) FROM im_pushes WHERE app_id = ? AND created_at >= ?", (app_id, since), 0
        ))
