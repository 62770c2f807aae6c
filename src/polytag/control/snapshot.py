"""Snapshots: the rows of every app (or one) as one versioned JSON document, and loading one back.

Format version 2 stores each table as `{"columns": [...], "rows": [[...]]}`; version 1 (rows as
objects) still loads. Bytes are `{"$b64": "..."}`. App ids are not carried: a loaded app gets a
new one (ids are never reused), and every row is re-keyed to it.

Secrets held in plain text (SECRET_COLUMNS: the Tencent IM key, the value of a live stable
token) are left out unless the caller asks for them (`secrets=True`); the document says which
(`"secrets": false`). Hashes (app secrets, JuziBot tokens, every access token) are kept.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import Any

from polytag import __version__
from polytag.core.models import App
from polytag.store import Tx
from polytag.store.rows import Rows

FORMAT, VERSION = "polytag-snapshot", 2
LOADS = (1, 2)
# columns holding a usable secret in plain text: left out of a snapshot unless asked for
SECRET_COLUMNS = {"apps": ("secret",), "tokens": ("reissue",)}


class SnapshotError(ValueError):
    pass


def app_tables() -> list[str]:
    """Every table keyed by app id, as the row classes declare them."""
    return [t for cls in Rows.__mro__ for t in cls.__dict__.get("APP_TABLES", ())]


def _out(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _in(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) != {"$b64"} or not isinstance(value["$b64"], str):
            raise SnapshotError("a cell must be a scalar or {\"$b64\": ...}")
        return base64.b64decode(value["$b64"])
    if isinstance(value, list):
        raise SnapshotError("a cell must be a scalar")
    return value


def _select(rows: Rows, sql: str, params: Sequence[Any]) -> tuple[list[str], list[list[Any]]]:
    cur = rows._exec(sql, params)
    columns = [d[0] for d in cur.description]
    return columns, [[_out(v) for v in r] for r in cur.fetchall()]


def dump(rows: Rows, apps: Sequence[App], scope: str, now: float, secrets: bool = False) -> dict[str, Any]:
    """The snapshot document of `apps`, read through one connection; plain-text secrets only
    when `secrets` (an app's `secret` is then absent, a stable token's `reissue` empty)."""
    out = []
    for app in apps:
        cols, got = _select(rows, "SELECT * FROM apps WHERE app_id = ?", (app.id,))
        if not got:
            continue
        hidden = () if secrets else SECRET_COLUMNS["apps"]
        record = {c: v for c, v in zip(cols, got[0], strict=True) if c != "app_id" and c not in hidden}
        tables = {}
        for table in app_tables():
            tcols, trows = _select(rows, f"SELECT * FROM {table} WHERE app_id = ? ORDER BY 1, 2", (app.id,))
            if not secrets:
                trows = _blanked(table, tcols, trows)
            tables[table] = {"columns": tcols, "rows": trows}
        out.append({"app": record, "tables": tables})
    return {"format": FORMAT, "version": VERSION, "polytag": __version__, "scope": scope,
            "taken_at": now, "secrets": secrets, "apps": out}


def _blanked(table: str, columns: list[str], rows: list[list[Any]]) -> list[list[Any]]:
    """`rows` with the table's secret columns emptied ("" is also what a column without one holds)."""
    at = [columns.index(c) for c in SECRET_COLUMNS.get(table, ()) if c in columns]
    if not at:
        return rows
    return [["" if i in at else v for i, v in enumerate(r)] for r in rows]


def without_secret(entry: Mapping[str, Any]) -> bool:
    """True when a snapshot entry left its app's plain-text secret out."""
    record = entry.get("app")
    return isinstance(record, Mapping) and "secret" not in record


def with_secret(entry: Mapping[str, Any], secret: str) -> dict[str, Any]:
    """The entry with its app's plain-text secret put back (the loader's choice of value)."""
    return {**entry, "app": {**entry["app"], "secret": secret}}


def upgrade(doc: Any) -> dict[str, Any]:
    """The document in the current version (1 -> 2: rows as objects become columns + rows)."""
    if not isinstance(doc, Mapping) or doc.get("format") != FORMAT:
        raise SnapshotError(f"not a snapshot: expected `format: {FORMAT}`")
    version = doc.get("version")
    if version not in LOADS:
        raise SnapshotError(f"snapshot version {version!r} not supported (loads {list(LOADS)})")
    apps = doc.get("apps")
    if not isinstance(apps, list) or not all(isinstance(a, Mapping) for a in apps):
        raise SnapshotError("`apps` must be a list of objects")
    if version == 1:
        apps = [{"app": a.get("app"), "tables": {t: _columnar(rs) for t, rs in (a.get("tables") or {}).items()
                                                 if rs}} for a in apps]
    return {**doc, "version": VERSION, "apps": apps}


def _columnar(rows: Any) -> dict[str, Any]:
    if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
        raise SnapshotError("version 1 tables are lists of row objects")
    columns = sorted({c for r in rows for c in r})
    return {"columns": columns, "rows": [[r.get(c) for c in columns] for r in rows]}


def names(doc: Mapping[str, Any]) -> list[str]:
    out = []
    for a in doc["apps"]:
        record = a.get("app")
        if not isinstance(record, Mapping) or not isinstance(record.get("name"), str):
            raise SnapshotError("every app needs `app: {name, dialect, ...}`")
        out.append(record["name"])
    return out


def load_app(tx: Tx, entry: Mapping[str, Any]) -> int:
    """Insert one app's rows under a fresh app id (the caller removed any app of that name)."""
    record = dict(entry["app"])
    record.pop("app_id", None)
    app_id = _insert_app(tx, record)
    tables = entry.get("tables") or {}
    if not isinstance(tables, Mapping):
        raise SnapshotError("`tables` must be an object")
    known = set(app_tables())
    for table, data in tables.items():
        if table not in known:
            raise SnapshotError(f"unknown table {table!r}")
        columns, rows = _table(data)
        present = _columns(tx, table)
        keep = [i for i, c in enumerate(columns) if c in present]
        at = columns.index("app_id")
        cols = [columns[i] for i in keep]
        marks = ", ".join("?" for _ in cols)
        values = [[app_id if i == at else _in(r[i]) for i in keep] for r in rows]
        tx._many(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({marks})", values)
    return app_id


def restore_in_place(tx: Tx, app_id: int, entry: Mapping[str, Any]) -> None:
    """Bring an existing app back to `entry` (its own earlier snapshot) under the same id.

    Subject rows the snapshot has are updated where they changed instead of deleted and
    re-inserted: rewriting 50,000 rows under two unique indexes is what made a reset slow.
    Every other table is small and is simply replaced. Caches see the app's head move
    backwards and reload (see Memberships.index and Subjects.directory).
    """
    tables = entry.get("tables") or {}
    # log sequence numbers never go back: the template's are moved past the current head, so
    # a cached index anywhere sees a fold beyond itself and reloads
    head = tx.app_head(app_id)
    shift = (head[0] + 1) if head else 0
    for table in app_tables():
        if table == "subjects":
            continue
        tx._run(f"DELETE FROM {table} WHERE app_id = ?", (app_id,))
        if table in tables:
            columns, rows = _table(tables[table])
            at = columns.index("app_id")
            seq = columns.index("seq") if table == "membership_log" else -1
            marks = ", ".join("?" for _ in columns)
            tx._many(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                     [[app_id if i == at else (v + shift if i == seq else _in(v)) for i, v in enumerate(r)]
                      for r in rows])
    columns, rows = _table(tables.get("subjects") or {"columns": ["app_id", "ord"], "rows": []})
    n = len(rows)
    tx._run("DELETE FROM subjects WHERE app_id = ? AND ord >= ?", (app_id, n))
    mutable = [c for c in columns if c not in ("app_id", "ord", "ext_id")]
    if mutable and rows:
        idx = [columns.index(c) for c in mutable]
        shapes = {tuple(r[i] for i in idx) for r in rows}
        sets = ", ".join(f"{c} = ?" for c in mutable)
        differs = " OR ".join(f"{c} IS NOT ?" for c in mutable)
        if len(shapes) == 1:  # seeded subjects all look alike: one statement
            (shape,) = shapes
            values = [_in(v) for v in shape]
            tx._run(f"UPDATE subjects SET {sets} WHERE app_id = ? AND ({differs})", (*values, app_id, *values))
        else:
            o = columns.index("ord")
            tx._many(f"UPDATE subjects SET {sets} WHERE app_id = ? AND ord = ?",
                     [[_in(r[i]) for i in idx] + [app_id, r[o]] for r in rows])
    record = {c: _in(v) for c, v in dict(entry["app"]).items() if c not in ("app_id", "name")}
    record["mseq"] = int(record.get("mseq") or 0) + shift
    record["folded_seq"] = int(record.get("folded_seq") or 0) + shift
    present = _columns(tx, "apps")
    cols = [c for c in record if c in present]
    tx._run(f"UPDATE apps SET {', '.join(f'{c} = ?' for c in cols)} WHERE app_id = ?",
            (*[record[c] for c in cols], app_id))


def _table(data: Any) -> tuple[list[str], list[list[Any]]]:
    if not isinstance(data, Mapping):
        raise SnapshotError("a table must be {columns, rows}")
    columns, rows = data.get("columns"), data.get("rows")
    if not isinstance(columns, list) or "app_id" not in columns or not isinstance(rows, list):
        raise SnapshotError("a table needs `columns` (with app_id) and `rows`")
    if not all(isinstance(r, list) and len(r) == len(columns) for r in rows):
        raise SnapshotError("every row must have one cell per column")
    return [str(c) for c in columns], rows


def _columns(rows: Rows, table: str) -> set[str]:
    """The table's columns in this database (a newer schema may have added or dropped some)."""
    return {d[0] for d in rows._exec(f"SELECT * FROM {table} WHERE 1 = 0").description}


def _insert_app(tx: Tx, record: Mapping[str, Any]) -> int:
    present = _columns(tx, "apps")
    cols = [c for c in record if c in present]
    sql = f"INSERT INTO apps ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})"
    row = tx._one(sql + " RETURNING app_id", [_in(record[c]) for c in cols])
    assert row is not None
    return int(row[0])
