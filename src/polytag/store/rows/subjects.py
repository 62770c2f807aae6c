"""Rows of `subjects`: the users of an app, dense ordinals in arrival order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from polytag.store.rows.base import Executor, Row

SUBJECT_COLS = "ord, ext_id, active, blacklisted, remark, created_at, props"


class SubjectRows(Executor):
    APP_TABLES: ClassVar[tuple[str, ...]] = ("subjects",)

    def insert_subjects(self, app_id: int, first_ord: int, ext_ids: Sequence[str], now: int) -> None:
        self._many(
            "INSERT INTO subjects (app_id, ord, ext_id, created_at) VALUES (?, ?, ?, ?)",
            ((app_id, first_ord + i, ext, now) for i, ext in enumerate(ext_ids)),
        )

    def subject_ids_from(self, app_id: int, from_ord: int) -> list[Row]:
        """(ord, ext_id) of every subject with ord >= from_ord, in ord order (directory catch-up)."""
        return self._all(
            "SELECT ord, ext_id FROM subjects WHERE app_id = ? AND ord >= ? ORDER BY ord",
            (app_id, from_ord),
        )

    def subject_ords(self, app_id: int, ext_ids: Sequence[str]) -> list[Row]:
        """(ext_id, ord) for those of `ext_ids` that exist in the app."""
        out: list[Row] = []
        for start in range(0, len(ext_ids), 500):
            chunk = list(ext_ids[start:start + 500])
            marks = ",".join("?" * len(chunk))
            out += self._all(
                f"SELECT ext_id, ord FROM subjects WHERE app_id = ? AND ext_id IN ({marks})",
                (app_id, *chunk),
            )
        return out

    def subject(self, app_id: int, ord_: int) -> Row | None:
        return self._one(f"SELECT {SUBJECT_COLS} FROM subjects WHERE app_id = ? AND ord = ?", (app_id, ord_))

    def subjects_by_ords(self, app_id: int, ords: Sequence[int]) -> list[Row]:
        out: list[Row] = []
        for start in range(0, len(ords), 500):
            chunk = list(ords[start:start + 500])
            marks = ",".join("?" * len(chunk))
            out += self._all(
                f"SELECT {SUBJECT_COLS} FROM subjects WHERE app_id = ? AND ord IN ({marks})",
                (app_id, *chunk),
            )
        return out

    def apps_holding(self, ext_id: str) -> list[int]:
        """Ids of the apps that know `ext_id` (to tell "another app's user" from "nobody's")."""
        return [int(r[0]) for r in self._all(  # one (app_id, ext_id) index probe per app
            "SELECT a.app_id FROM apps a WHERE EXISTS"
            " (SELECT 1 FROM subjects s WHERE s.app_id = a.app_id AND s.ext_id = ?)", (ext_id,))]

    def active_ords(self, app_id: int) -> list[int]:
        return [int(r[0]) for r in self._all("SELECT ord FROM subjects WHERE app_id = ? AND active = 1", (app_id,))]

    def inactive_ords(self, app_id: int, ords: Sequence[int] | None = None) -> list[int]:
        """Ordinals of the app's inactive subjects (among `ords` when given): a few, usually."""
        if ords is None:
            return [int(r[0]) for r in self._all("SELECT ord FROM subjects WHERE app_id = ? AND active = 0", (app_id,))]
        out: list[int] = []
        for start in range(0, len(ords), 500):
            chunk = list(ords[start:start + 500])
            marks = ",".join("?" * len(chunk))
            out += [int(r[0]) for r in self._all(
                f"SELECT ord FROM subjects WHERE app_id = ? AND active = 0 AND ord IN ({marks})", (app_id, *chunk))]
        return out

    def subjects_page(self, app_id: int, after_ord: int, limit: int, active_only: bool = True) -> list[Row]:
        cond = " AND active = 1" if active_only else ""
        return self._all(
            f"SELECT ord, ext_id FROM subjects WHERE app_id = ? AND ord > ?{cond} ORDER BY ord LIMIT ?",
            (app_id, after_ord, limit),
        )

    def count_subjects(self, app_id: int, active_only: bool = True) -> int:
        cond = " AND active = 1" if active_only else ""
        return int(self._scalar(f"SELECT count(*) FROM subjects WHERE app_id = ?{cond}", (app_id,), 0))

    def set_subject_fields(self, app_id: int, ord_: int, **fields: object) -> None:
        allowed = {"active", "blacklisted", "remark", "props"}
        assert fields and set(fields) <= allowed
        sets = ", ".join(f"{k} = ?" for k in fields)
        self._run(f"UPDATE subjects SET {sets} WHERE app_id = ? AND ord = ?", (*fields.values(), app_id, ord_))

    def set_blacklisted(self, app_id: int, ords: Sequence[int], flag: bool) -> None:
        self._many(
            "UPDATE subjects SET blacklisted = ? WHERE app_id = ? AND ord = ?",
            ((1 if flag else 0, app_id, o) for o in ords),
        )

    def blacklist_page(self, app_id: int, after_ord: int, limit: int) -> list[Row]:
        return self._all(
            "SELECT ord, ext_id FROM subjects WHERE app_id = ? AND blacklisted = 1 AND ord > ?"
            " ORDER BY ord LIMIT ?",
            (app_id, after_ord, limit),
        )

    def count_blacklisted(self, app_id: int) -> int:
        return int(self._scalar("SELECT count(*) FROM subjects WHERE app_id = ? AND blacklisted = 1", (app_id,), 0))
