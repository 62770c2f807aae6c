"""Numbered SQL migrations per backend, applied in order and recorded in `schema_version`."""

from __future__ import annotations

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
