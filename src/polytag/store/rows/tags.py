"""Rows of `tags` and `tag_groups`: names, vendor ids, order and versions. Members live elsewhere."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from polytag.store.rows.base import Executor, Row

TAG_COLS = "ord, ext_id, name, group_ord, sort_order, created_ms, version"
GROUP_COLS = "ord, ext_id, name, sort_order, created_ms"


class TagRows(Executor):
    APP_TABLES: ClassVar[tuple[str, ...]] = ("tags", "tag_groups")

    def tags(self, app_id: int) -> list[Row]:
        return self._all(f"SELECT {TAG_COLS} FROM tags WHERE app_id = ? ORDER BY ord", (app_id,))

    def tag_by_ord(self, app_id: int, ord_: int) -> Row | None:
        return self._one(f"SELECT {TAG_COLS} FROM tags WHERE app_id = ? AND ord = ?", (app_id, ord_))

    def tag_by_ext(self, app_id: int, ext_id: str) -> Row | None:
        # inside a write group the answer is cached (hot path: every batchtagging asks);
        # every write of a tag row below drops the cache, and so does rolling back the op
        cache: dict[Any, Any] | None = getattr(self, "group", None)
        key = ("tag_by_ext", app_id, ext_id)
        if cache is not None and key in cache:
            return cache[key]
        row = self._one(f"SELECT {TAG_COLS} FROM tags WHERE app_id = ? AND ext_id = ?", (app_id, ext_id))
        if cache is not None:
            cache[key] = row
        return row

    def _drop_tag_cache(self) -> None:
        cache: dict[Any, Any] | None = getattr(self, "group", None)
        if cache is not None:
            for key in [k for k in cache if isinstance(k, tuple) and k[:1] == ("tag_by_ext",)]:
                del cache[key]

    def _forget_tag_rows(self) -> None:
        """A tag row changes: drop the cache now, and again if the op is rolled back."""
        self._drop_tag_cache()
        on_abort: list[Any] | None = getattr(self, "on_abort", None)
        if on_abort is not None:
            on_abort.append(self._drop_tag_cache)

    def tag_ords(self, app_id: int) -> list[int]:
        return [int(t) for (t,) in self._all("SELECT ord FROM tags WHERE app_id = ?", (app_id,))]

    def tags_by_name(self, app_id: int, name: str) -> list[Row]:
        return self._all(f"SELECT {TAG_COLS} FROM tags WHERE app_id = ? AND name = ?", (app_id, name))

    def count_tags(self, app_id: int) -> int:
        return int(self._scalar("SELECT count(*) FROM tags WHERE app_id = ?", (app_id,), 0))

    def insert_tag(
        self, app_id: int, ord_: int, ext_id: str, name: str,
        group_ord: int | None, order: int, created_ms: int,
    ) -> None:
        self._forget_tag_rows()
        self._run(
            "INSERT INTO tags (app_id, ord, ext_id, name, group_ord, sort_order, created_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (app_id, ord_, ext_id, name, group_ord, order, created_ms),
        )

    def update_tag(self, app_id: int, ord_: int, *, name: str | None = None, order: int | None = None) -> None:
        self._forget_tag_rows()
        if name is not None:
            self._run("UPDATE tags SET name = ? WHERE app_id = ? AND ord = ?", (name, app_id, ord_))
        if order is not None:
            self._run("UPDATE tags SET sort_order = ? WHERE app_id = ? AND ord = ?", (order, app_id, ord_))

    def set_tag_version(self, app_id: int, ord_: int, version: int) -> None:
        self._run("UPDATE tags SET version = ? WHERE app_id = ? AND ord = ?", (version, app_id, ord_))

    def set_tag_versions(self, app_id: int, versions: Iterable[tuple[int, int]]) -> None:
        """(ord, version) pairs, in one statement."""
        self._many("UPDATE tags SET version = ? WHERE app_id = ? AND ord = ?",
                   [(version, app_id, ord_) for ord_, version in versions])

    def delete_tag_row(self, app_id: int, ord_: int) -> None:
        self._forget_tag_rows()
        self._run("DELETE FROM tags WHERE app_id = ? AND ord = ?", (app_id, ord_))

    # groups
    def groups(self, app_id: int) -> list[Row]:
        return self._all(f"SELECT {GROUP_COLS} FROM tag_groups WHERE app_id = ? ORDER BY ord", (app_id,))

    def group_by_ext(self, app_id: int, ext_id: str) -> Row | None:
        return self._one(f"SELECT {GROUP_COLS} FROM tag_groups WHERE app_id = ? AND ext_id = ?", (app_id, ext_id))

    def group_by_ord(self, app_id: int, ord_: int) -> Row | None:
        return self._one(f"SELECT {GROUP_COLS} FROM tag_groups WHERE app_id = ? AND ord = ?", (app_id, ord_))

    def groups_by_name(self, app_id: int, name: str) -> list[Row]:
        return self._all(f"SELECT {GROUP_COLS} FROM tag_groups WHERE app_id = ? AND name = ?", (app_id, name))

    def insert_group(self, app_id: int, ord_: int, ext_id: str, name: str, order: int, created_ms: int) -> None:
        self._run(
            "INSERT INTO tag_groups (app_id, ord, ext_id, name, sort_order, created_ms) VALUES (?, ?, ?, ?, ?, ?)",
            (app_id, ord_, ext_id, name, order, created_ms),
        )

    def update_group(self, app_id: int, ord_: int, *, name: str | None = None, order: int | None = None) -> None:
        if name is not None:
            self._run("UPDATE tag_groups SET name = ? WHERE app_id = ? AND ord = ?", (name, app_id, ord_))
        if order is not None:
            self._run("UPDATE tag_groups SET sort_order = ? WHERE app_id = ? AND ord = ?", (order, app_id, ord_))

    def delete_group_row(self, app_id: int, ord_: int) -> None:
        self._run("DELETE FROM tag_groups WHERE app_id = ? AND ord = ?", (app_id, ord_))
