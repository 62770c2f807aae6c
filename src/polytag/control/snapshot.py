"""Snapshots: the rows of every app (or one) as one versioned JSON document, and loading one back.

Format version 2 stores each table as `{"columns": [...], "rows": [[...]]}`; version 1 (rows as
objects) still loads. Bytes are `{"$b64": "..."}`. App ids are not carried: a loaded app gets a
new one (ids are never reused), and every row is re-keyed to it.

Secrets held in plain text (SECRET_COLUMNS: a signing key, the value of a live reissuable
token) are left out unless the caller asks for them (`secrets=True`); the document says which
(`"secrets": false`). Hashes (app secrets and tokens, every access token) are kept.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from polytag import __version__
from polytag.core.limits import check_limits
from polytag.core.models import App
from polytag.core.text import storable
from polytag.errors import PolytagError
from polytag.store import Tx
from polytag.store.migrations import column_kinds
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


def _select(rows: Rows, table: str, app_id: int) -> tuple[list[str], list[list[Any]]]:
    columns, got = rows.app_rows(table, app_id)
    return columns, [[_out(v) for v in r] for r in got]


def dump(rows: Rows, apps: Sequence[App], scope: str, now: float, secrets: bool = False) -> dict[str, Any]:
    """The snapshot document of `apps`, read through one connection; plain-text secrets only
    when `secrets` (an app's `secret` is then absent, a stable token's `reissue` empty)."""
    out = []
    for app in apps:
        cols, got = _select(rows, "apps", app.id)
        if not got:
            continue
        hidden = () if secrets else SECRET_COLUMNS["apps"]
        record = {c: v for c, v in zip(cols, got[0], strict=True) if c != "app_id" and c not in hidden}
        tables = {}
        for table in app_tables():
            tcols, trows = _select(rows, table, app.id)
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


INT64 = 2**63 - 1
NAME_MAX = 128  # the native rule for an app name (core/native.py)
# app counter -> (table, column, step): the counter is at least the column's highest value + step
# (an ordinal counter is the next one handed out; mseq is the last log sequence number used)
COUNTERS = {"next_subject": ("subjects", "ord", 1), "next_tag": ("tags", "ord", 1),
            "next_group": ("tag_groups", "ord", 1), "mseq": ("membership_log", "seq", 0)}


def check(doc: Mapping[str, Any], dialects: Collection[str]) -> None:
    """The whole (upgraded) document checked before anything is written: every app record field
    and every table cell typed and in range; SnapshotError naming the field path otherwise."""
    kinds = column_kinds()
    seen: set[str] = set()
    for i, entry in enumerate(doc["apps"]):
        name = _check_app(f"apps[{i}]", entry, kinds, dialects)
        if name in seen:
            raise SnapshotError(f"apps[{i}].app.name: {name!r} is loaded twice")
        seen.add(name)


def _check_app(where: str, entry: Mapping[str, Any], kinds: Mapping[str, Mapping[str, tuple[str, bool]]],
               dialects: Collection[str]) -> str:
    """One app of the document: its tables, then its record against what they hold; its name."""
    record = entry.get("app")
    if not isinstance(record, Mapping):
        raise SnapshotError(f"{where}.app: must be an object")
    tables = entry.get("tables")
    tables = {} if tables is None else tables
    if not isinstance(tables, Mapping):
        raise SnapshotError(f"{where}.tables: must be an object")
    tops, dense = _check_tables(f"{where}.tables", tables, kinds)
    _record(f"{where}.app", record, kinds["apps"], dialects, tops)
    if record.get("next_subject", dense) != dense:
        raise SnapshotError(f"{where}.app.next_subject: must be {dense}, the number of subjects the snapshot "
                            f"holds (must be an integer >= {dense})")
    return str(record["name"])


def _check_tables(where: str, tables: Mapping[str, Any],
                  kinds: Mapping[str, Mapping[str, tuple[str, bool]]]) -> tuple[dict[str, int], int]:
    """One app's tables, each known and every cell typed: (the lowest value of each app counter
    by the rows the tables hold, the number of subjects)."""
    tops: dict[str, int] = {}
    dense = 0  # subjects are never deleted: their ords run 0..n-1, what the directory assumes
    for table, data in tables.items():
        columns, rows = _check_table(where, table, data, kinds)
        if table == "subjects" and "ord" in columns:
            at = columns.index("ord")
            if sorted(r[at] for r in rows) != list(range(len(rows))):
                raise SnapshotError(f"{where}.subjects: ord must run 0..{len(rows) - 1}, each once")
            dense = len(rows)
        for counter, (t, c, step) in COUNTERS.items():
            if t == table and c in columns:
                at = columns.index(c)
                tops[counter] = max([tops.get(counter, 0), *(r[at] + step for r in rows)])
    return tops, dense


def _check_table(where: str, table: str, data: Any,
                 kinds: Mapping[str, Mapping[str, tuple[str, bool]]]) -> tuple[list[str], list[list[Any]]]:
    """One table known to hold an app's rows, its cells typed: (its columns, its rows)."""
    if table not in kinds or table not in app_tables():
        raise SnapshotError(f"{where}: unknown table {str(table)[:40]!r}")
    try:
        columns, rows = _table(data)
    except SnapshotError as exc:
        raise SnapshotError(f"{where}.{table}: {exc}") from None
    for j, row in enumerate(rows):
        for column, cell in zip(columns, row, strict=True):
            if column in kinds[table] and column != "app_id":
                _cell(f"{where}.{table}.rows[{j}].{column}", kinds[table][column], cell)
    return columns, rows


def _record(where: str, record: Mapping[str, Any], kinds: Mapping[str, tuple[str, bool]],
            dialects: Collection[str], tops: Mapping[str, int]) -> None:
    name, dialect = record.get("name"), record.get("dialect")
    if not isinstance(name, str) or not name.strip() or len(name) > NAME_MAX or not storable(name):
        raise SnapshotError(f"{where}.name: must be a non-empty string of at most {NAME_MAX} characters "
                            f"without NUL or a lone surrogate")
    if not isinstance(dialect, str) or dialect not in dialects:
        raise SnapshotError(f"{where}.dialect: must be one of {', '.join(sorted(dialects))}")
    for column, value in record.items():
        if column in ("name", "dialect", "app_id") or column not in kinds:
            continue
        if column in COUNTERS:
            low = tops.get(column, 0)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= INT64:
                raise SnapshotError(f"{where}.{column}: must be an integer >= {low} (at most {INT64})")
        elif column == "config":
            _config(f"{where}.config", value)
        else:
            _cell(f"{where}.{column}", kinds[column], value)


def _config(where: str, value: Any) -> None:
    if not isinstance(value, str) or not storable(value):
        raise SnapshotError(f"{where}: must be the text of a JSON object")
    try:
        cfg = json.loads(value)
    except ValueError:
        raise SnapshotError(f"{where}: must be the text of a JSON object") from None
    if not isinstance(cfg, dict):
        raise SnapshotError(f"{where}: must be the text of a JSON object")
    try:
        check_limits(cfg.get("limits"))
    except PolytagError as exc:
        raise SnapshotError(f"{where}.limits: {exc.detail or exc}") from None


def _cell(where: str, kind: tuple[str, bool], value: Any) -> None:
    sql_type, nullable = kind
    if value is None:
        if not nullable:
            raise SnapshotError(f"{where}: may not be null")
        return
    if sql_type == "INTEGER":
        ok = not isinstance(value, bool) and isinstance(value, int) and -INT64 - 1 <= value <= INT64
        what = "an integer within signed 64 bits"
    elif sql_type == "REAL":
        ok = (not isinstance(value, bool) and isinstance(value, int | float) and math.isfinite(value)
              and abs(value) <= INT64)
        what = "a finite number"
    elif sql_type == "TEXT":
        ok, what = isinstance(value, str) and storable(value), "a string without NUL or a lone surrogate"
    else:
        ok = isinstance(value, Mapping) and set(value) == {"$b64"} and isinstance(value["$b64"], str)
        what = 'bytes as {"$b64": "..."}'
        if ok:
            try:
                base64.b64decode(value["$b64"], validate=True)
            except ValueError:
                ok = False
    if not ok:
        raise SnapshotError(f"{where}: must be {what}")


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
        present = set(tx.table_columns(table))
        keep = [i for i, c in enumerate(columns) if c in present]
        at = columns.index("app_id")
        values = [[app_id if i == at else _in(r[i]) for i in keep] for r in rows]
        tx.insert_rows(table, [columns[i] for i in keep], values)
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
        tx.delete_app_table_rows(table, app_id)
        if table in tables:
            columns, rows = _table(tables[table])
            at = columns.index("app_id")
            seq = columns.index("seq") if table == "membership_log" else -1
            tx.insert_rows(table, columns, [[app_id if i == at else (v + shift if i == seq else _in(v))
                                             for i, v in enumerate(r)] for r in rows])
    _restore_subjects(tx, app_id, tables.get("subjects") or {"columns": ["app_id", "ord"], "rows": []})
    record = {c: _in(v) for c, v in dict(entry["app"]).items() if c not in ("app_id", "name")}
    record["mseq"] = int(record.get("mseq") or 0) + shift
    record["folded_seq"] = int(record.get("folded_seq") or 0) + shift
    tx.update_app_record(app_id, record)


def _restore_subjects(tx: Tx, app_id: int, data: Any) -> None:
    """Subjects past the snapshot's are removed; the others updated where they differ."""
    columns, rows = _table(data)
    tx.delete_subjects_from(app_id, len(rows))
    mutable = [c for c in columns if c not in ("app_id", "ord", "ext_id")]
    if mutable and rows:
        idx = [columns.index(c) for c in mutable]
        shapes = {tuple(r[i] for i in idx) for r in rows}
        if len(shapes) == 1:  # seeded subjects all look alike: one statement
            (shape,) = shapes
            tx.set_every_subject(app_id, dict(zip(mutable, [_in(v) for v in shape], strict=True)))
        else:
            o = columns.index("ord")
            tx.set_subjects(app_id, mutable, [(r[o], [_in(r[i]) for i in idx]) for r in rows])


def _table(data: Any) -> tuple[list[str], list[list[Any]]]:
    if not isinstance(data, Mapping):
        raise SnapshotError("a table must be {columns, rows}")
    columns, rows = data.get("columns"), data.get("rows")
    if not isinstance(columns, list) or "app_id" not in columns or not isinstance(rows, list):
        raise SnapshotError("a table needs `columns` (with app_id) and `rows`")
    if not all(isinstance(r, list) and len(r) == len(columns) for r in rows):
        raise SnapshotError("every row must have one cell per column")
    return [str(c) for c in columns], rows


def _insert_app(tx: Tx, record: Mapping[str, Any]) -> int:
    present = set(tx.table_columns("apps"))  # a newer schema may have added or dropped some
    return tx.insert_app_record({c: _in(v) for c, v in record.items() if c in present})
