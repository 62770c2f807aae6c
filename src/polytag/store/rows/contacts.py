"""Rows of `contact_members`, `contact_customers` and `contact_friends`, plus cross-app id lookups."""

from __future__ import annotations

from typing import ClassVar

from polytag.store.rows.base import Executor, Row

TAG_COLS = "ord, ext_id, name, group_ord, sort_order, created_ms, version"


class ContactRows(Executor):
    APP_TABLES: ClassVar[tuple[str, ...]] = ("contact_members", "contact_customers", "contact_friends")

    def app_id_by_secret_hash(self, dialect: str, secret_hash: str) -> int | None:
        v = self._scalar(
            "SELECT app_id FROM apps WHERE dialect = ? AND secret_hash = ? ORDER BY app_id", (dialect, secret_hash)
        )
        return None if v is None else int(v)

    def apps_holding_tag(self, ext_id: str) -> list[int]:
        return [int(r[0]) for r in self._all("SELECT app_id FROM tags WHERE ext_id = ?", (ext_id,))]

    def apps_holding_group(self, ext_id: str) -> list[int]:
        return [int(r[0]) for r in self._all("SELECT app_id FROM tag_groups WHERE ext_id = ?", (ext_id,))]

    def tags_in_group(self, app_id: int, group_ord: int) -> list[Row]:
        return self._all(
            f"SELECT {TAG_COLS} FROM tags WHERE app_id = ? AND group_ord = ? ORDER BY ord", (app_id, group_ord)
        )

    def insert_member(self, app_id: int, user_id: str, now: int) -> None:
        self._run(
            "INSERT INTO contact_members (app_id, user_id, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (app_id, user_id) DO NOTHING",
            (app_id, user_id, now),
        )

    def insert_customer(self, app_id: int, union_id: str, now: int) -> None:
        self._run(
            "INSERT INTO contact_customers (app_id, union_id, created_at) VALUES (?, ?, ?)"
            " ON CONFLICT (app_id, union_id) DO NOTHING",
            (app_id, union_id, now),
        )

    def insert_friend(self, app_id: int, union_id: str, user_id: str, subject_ord: int) -> None:
        self._run(
            "INSERT INTO contact_friends (app_id, union_id, user_id, subject_ord) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (app_id, union_id, user_id) DO NOTHING",
            (app_id, union_id, user_id, subject_ord),
        )

    def delete_friend(self, app_id: int, union_id: str, user_id: str) -> None:
        self._run(
            "DELETE FROM contact_friends WHERE app_id = ? AND union_id = ? AND user_id = ?",
            (app_id, union_id, user_id),
        )

    def member_exists(self, app_id: int, user_id: str) -> bool:
        return self._one(
            "SELECT 1 FROM contact_members WHERE app_id = ? AND user_id = ?", (app_id, user_id)
        ) is not None

    def customer_exists(self, app_id: int, union_id: str) -> bool:
        return self._one(
            "SELECT 1 FROM contact_customers WHERE app_id = ? AND union_id = ?", (app_id, union_id)
        ) is not None

    def friend_ord(self, app_id: int, union_id: str, user_id: str) -> int | None:
        v = self._scalar(
            "SELECT subject_ord FROM contact_friends WHERE app_id = ? AND union_id = ? AND user_id = ?",
            (app_id, union_id, user_id),
        )
        return None if v is None else int(v)

    def friends_of(self, app_id: int, union_id: str) -> list[Row]:
        """(user_id, subject_ord) of every member the customer is a friend of, by user id."""
        return self._all(
            "SELECT user_id, subject_ord FROM contact_friends WHERE app_id = ? AND union_id = ? ORDER BY user_id",
            (app_id, union_id),
        )

    def customers_of(self, app_id: int, user_id: str) -> list[Row]:
        """(union_id, created_at) of every customer the member is a friend of, by customer id."""
        return self._all(
            "SELECT f.union_id, c.created_at FROM contact_friends f JOIN contact_customers c"
            " ON c.app_id = f.app_id AND c.union_id = f.union_id"
            " WHERE f.app_id = ? AND f.user_id = ? ORDER BY f.union_id",
            (app_id, user_id),
        )

    # customer listing (a CRM's customer list and detail) -------------------------------------
    def _customer_filter(self, user_id: str | None) -> tuple[str, tuple[str, ...]]:
        if user_id is None:
            return "", ()
        return (" AND EXISTS (SELECT 1 FROM contact_friends f WHERE f.app_id = c.app_id"
                " AND f.union_id = c.union_id AND f.user_id = ?)", (user_id,))

    def customers_page(self, app_id: int, user_id: str | None, offset: int, limit: int) -> list[Row]:
        """(union_id, created_at) of customers (of one member if `user_id`), oldest first."""
        where, args = self._customer_filter(user_id)
        return self._all(
            f"SELECT c.union_id, c.created_at FROM contact_customers c WHERE c.app_id = ?{where}"
            " ORDER BY c.created_at, c.union_id LIMIT ? OFFSET ?",
            (app_id, *args, limit, offset),
        )

    def customer_count(self, app_id: int, user_id: str | None) -> int:
        where, args = self._customer_filter(user_id)
        v = self._scalar(f"SELECT COUNT(*) FROM contact_customers c WHERE c.app_id = ?{where}", (app_id, *args))
        return int(v or 0)

    def customer_created_at(self, app_id: int, union_id: str) -> int | None:
        v = self._scalar(
            "SELECT created_at FROM contact_customers WHERE app_id = ? AND union_id = ?", (app_id, union_id)
        )
        return None if v is None else int(v)
