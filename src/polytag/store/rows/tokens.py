"""Rows of `tokens`: access tokens by hash, so a stolen database file holds no usable token."""

from __future__ import annotations

from typing import ClassVar

from polytag.store.rows.apps import APP_COLS
from polytag.store.rows.base import Executor, Row

_APP_COLS_OF_A = ", ".join(f"a.{c.strip()}" for c in APP_COLS.split(","))


class TokenRows(Executor):
    APP_TABLES: ClassVar[tuple[str, ...]] = ("tokens",)

    def insert_token(
        self, token_hash: str, app_id: int, kind: str, issued_at: float, expires_at: float, reissue: str = ""
    ) -> None:
        self._run(
            "INSERT INTO tokens (token_hash, app_id, kind, issued_at, expires_at, reissue) VALUES (?, ?, ?, ?, ?, ?)",
            (token_hash, app_id, kind, issued_at, expires_at, reissue),
        )

    def token_and_app(self, token_hash: str) -> Row | None:
        """(app_id, kind, issued_at, expires_at) and then the app's row (as `app_by_id`), in one read."""
        return self._one(
            f"SELECT t.app_id, t.kind, t.issued_at, t.expires_at, {_APP_COLS_OF_A}"
            " FROM tokens t JOIN apps a ON a.app_id = t.app_id WHERE t.token_hash = ?", (token_hash,)
        )

    def token(self, token_hash: str) -> Row | None:
        """(app_id, kind, issued_at, expires_at)."""
        return self._one(
            "SELECT app_id, kind, issued_at, expires_at FROM tokens WHERE token_hash = ?", (token_hash,)
        )

    def live_tokens(self, app_id: int, kind: str, now: float) -> list[Row]:
        """(token_hash, issued_at, expires_at, reissue) of the app's live tokens of `kind`, newest first."""
        return self._all(
            "SELECT token_hash, issued_at, expires_at, reissue FROM tokens"
            " WHERE app_id = ? AND kind = ? AND expires_at > ? ORDER BY issued_at DESC",
            (app_id, kind, now),
        )

    def cap_token_expiry(self, app_id: int, kind: str, not_after: float, except_hash: str) -> None:
        self._run(
            "UPDATE tokens SET expires_at = ? WHERE app_id = ? AND kind = ? AND expires_at > ?"
            " AND token_hash <> ?",
            (not_after, app_id, kind, not_after, except_hash),
        )

    def forget_reissue(self, app_id: int, kind: str, except_hash: str) -> None:
        """Drop the kept value of every token of `kind` but one: only the newest is handed out again."""
        self._run(
            "UPDATE tokens SET reissue = '' WHERE app_id = ? AND kind = ? AND reissue <> '' AND token_hash <> ?",
            (app_id, kind, except_hash),
        )

    def purge_tokens(self, app_id: int, kind: str, before: float) -> None:
        self._run("DELETE FROM tokens WHERE app_id = ? AND kind = ? AND expires_at < ?", (app_id, kind, before))

    def count_tokens_since(self, app_id: int, kind: str, since: float) -> int:
        return int(self._scalar(
            "SELECT count(*) FROM tokens WHERE app_id = ? AND kind = ? AND issued_at >= ?",
            (app_id, kind, since), 0,
        ))

    def last_issued(self, app_id: int, kind: str) -> float | None:
        v = self._scalar("SELECT max(issued_at) FROM tokens WHERE app_id = ? AND kind = ?", (app_id, kind))
        return None if v is None else float(v)
