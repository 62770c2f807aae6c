"""Rows of the attribute tables: an app's attribute names (slots) and its subjects' attribute values."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from polytag.store.rows.base import Executor, Row


class AttributeRows(Executor):
    APP_TABLES: ClassVar[tuple[str, ...]] = ("im_attr_names", "im_subject_attrs")

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
