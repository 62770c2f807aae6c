"""Storage backends behind one protocol; `open_store(url)` picks one by the URL's scheme."""

from __future__ import annotations

from polytag.store.base import Store, Tx


def open_store(url: str) -> Store:
    """`sqlite:///path.db` (default, embedded) or `postgresql://user@host:port/db`."""
    scheme = url.split(":", 1)[0].lower()
    if scheme == "sqlite":
        from polytag.store.sqlite import SQLiteStore

        return SQLiteStore(url)
    if scheme in ("postgresql", "postgres"):
        try:
            from polytag.store.postgres import PostgresStore
        except ImportError as exc:
            raise ValueError("the PostgreSQL backend is not available in this build") from exc
        return PostgresStore(url)
    raise ValueError(f"unsupported database URL {url!r}: use sqlite:///FILE or postgresql://...")


__all__ = ["Store", "Tx", "open_store"]
