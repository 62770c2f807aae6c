"""Numbered SQL migrations per backend, applied in order and recorded in `schema_version`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: list[str]


def load(backend: str) -> list[Migration]:
    """Every migration of `backend`, sorted by number."""
    folder = resources.files(__name__).joinpath(backend)
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            number, _, rest = entry.name.partition("_")
            found.append(Migration(int(number), rest[:-4], split(entry.read_text("utf-8"))))
    return sorted(found, key=lambda m: m.version)


def split(script: str) -> list[str]:
    """Statements of a script: drop `--` comments, split on `;` at line ends."""
    lines = [ln for ln in script.splitlines() if not ln.lstrip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";\n") if s.strip().rstrip(";")]


_CREATE = re.compile(r"CREATE TABLE (?:IF NOT EXISTS )?(\w+)\s*\((.*)\)", re.S)
_COLUMN = re.compile(r"^\s*(\w+)\s+(INTEGER|TEXT|REAL|BLOB)\b(.*)$", re.M)
_ADD = re.compile(r"ALTER TABLE (\w+) ADD COLUMN (\w+)\s+(INTEGER|TEXT|REAL|BLOB)\b(.*)", re.S)


def column_kinds() -> dict[str, dict[str, tuple[str, bool]]]:
    """{table: {column: (INTEGER|TEXT|REAL|BLOB, nullable)}} as the SQLite migrations declare
    them (PostgreSQL's hold the same columns): what a snapshot's cells are checked against."""
    out: dict[str, dict[str, tuple[str, bool]]] = {}
    for m in load("sqlite"):
        for s in m.statements:
            if (c := _CREATE.search(s)) is not None:
                out[c.group(1)] = {n: (k, "NOT NULL" not in rest) for n, k, rest in _COLUMN.findall(c.group(2))}
            elif (a := _ADD.search(s)) is not None:
                out.setdefault(a.group(1), {})[a.group(2)] = (a.group(3), "NOT NULL" not in a.group(4))
    return out
