"""SQL lives only in store/: no module outside it holds a SQL statement or calls the row
executor's private methods (`_exec`, `_one`, `_all`, `_run`, `_many`, `_scalar`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import polytag

SRC = Path(polytag.__file__).parent
STORE = SRC / "store"
PRIVATE = {"_exec", "_executemany", "_one", "_all", "_run", "_many", "_scalar"}
STATEMENT = re.compile(r"^\s*(SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|CREATE TABLE|ALTER TABLE)\b", re.I)


def _outside_store() -> list[Path]:
    return [p for p in sorted(SRC.rglob("*.py")) if STORE not in p.parents]


def _offences(path: Path) -> list[str]:
    out, name = [], path.relative_to(SRC) if SRC in path.parents else path.name
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE:
            out.append(f"{name}:{node.lineno}: .{node.attr}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and STATEMENT.match(node.value):
            out.append(f"{name}:{node.lineno}: {node.value[:40]!r}")
    return out


def test_no_sql_outside_store() -> None:
    assert [o for p in _outside_store() for o in _offences(p)] == []


def test_the_guard_sees_sql(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("def f(rows, sql):\n    return rows._all(sql)\n", "utf-8")
    assert len(_offences(bad)) == 1
    bad.write_text("def f(rows):\n    return rows.q(f\"SELECT ord FROM tags WHERE app_id = {1}\")\n", "utf-8")
    assert len(_offences(bad)) == 1
    bad.write_text("def f(rows):\n    return rows.q('DELETE FROM tags WHERE app_id = ?')\n", "utf-8")
    assert len(_offences(bad)) == 1
