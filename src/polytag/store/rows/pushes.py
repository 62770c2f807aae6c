"""Rows of the push log: one row per push task, with its audience as a serialized bitmap."""

from __future__ import annotations

from typing import ClassVar

from polytag.store.rows.base import Executor, Row

PUSH_COLS = "task_id, msg_random, created_at, condition, from_account, lifetime, audience_size, members"


class PushRows(Executor):
    APP_TABLES: ClassVar[tuple[str, ...]] = ("im_pushes",)

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
