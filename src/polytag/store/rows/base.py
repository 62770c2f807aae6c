"""The executor every row class builds on: portable SQL with `?` placeholders, rows as tuples."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, ClassVar

Row = tuple[Any, ...]


class Executor:
    """Backends implement `_exec`; row classes call `_one`, `_all`, `_run`, `_many`."""

    APP_TABLES: ClassVar[tuple[str, ...]] = ()  # tables of this row class keyed by app_id
    DIFFERS: ClassVar[str] = "IS NOT"  # null-safe "not equal" (SQLite's; older ones lack IS DISTINCT FROM)

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[None]:
        """Reads inside see one consistent state (a read transaction); nested or in a Tx: as is."""
        yield

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> Any:  # returns a cursor
        raise NotImplementedError

    def _executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        raise NotImplementedError

    def _one(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row = self._exec(sql, params).fetchone()
        return tuple(row) if row is not None else None

    def _all(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [tuple(r) for r in self._exec(sql, params).fetchall()]

    def _run(self, sql: str, params: Sequence[Any] = ()) -> int:
        return int(self._exec(sql, params).rowcount)

    def _many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        self._executemany(sql, rows)

    def _scalar(self, sql: str, params: Sequence[Any] = (), default: Any = None) -> Any:
        row = self._one(sql, params)
        return default if row is None else row[0]
