"""Seed files (YAML or JSON, one schema): `apps: [{dialect: ..., ...}]`, applied idempotently.

Each entry is handed to its dialect's `seed_app`, so a new dialect brings its own seed kind.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

from polytag.callbacks import config as callback_config
from polytag.core.limits import BOUNDS, INT64_MAX, INT64_MIN, check_limits
from polytag.core.models import App
from polytag.core.service import Service
from polytag.errors import Invalid, PolytagError


class SeedError(ValueError):
    pass


def load(path: str | Path) -> dict[str, Any]:
    text = Path(path).read_text("utf-8")
    try:
        doc = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError) as exc:
        raise SeedError(f"{path}: not valid YAML/JSON: {exc}") from exc
    return validate(doc, str(path))


def validate(doc: Any, where: str = "seed") -> dict[str, Any]:
    """The document, checked before anything is built: its shape, every count it asks for
    (`{generate: N}` at most BOUNDS.seed_generate), every integer (it must fit a 64-bit column)
    and every `limits:` (the keys, types and ranges the native API accepts)."""
    if not isinstance(doc, Mapping) or not isinstance(doc.get("apps", []), list):
        raise SeedError(f"{where}: expected a mapping with an `apps:` list")
    for i, entry in enumerate(doc.get("apps", [])):
        if not isinstance(entry, Mapping) or "dialect" not in entry:
            raise SeedError(f"{where}: apps[{i}] needs a `dialect:`")
        _check_entry(entry, f"{where}: apps[{i}]")
    return dict(doc)


def _check_entry(entry: Mapping[str, Any], where: str) -> None:
    for path, value in _walk(entry):
        if path.endswith("/generate"):
            _check_generate(value, f"{where}{path}")
        elif isinstance(value, int) and not isinstance(value, bool) and not INT64_MIN <= value <= INT64_MAX:
            raise SeedError(f"{where}{path}: {_digits(value)} does not fit a signed 64-bit integer")
    if "limits" in entry:
        try:
            check_limits(entry["limits"])
        except Invalid as exc:
            raise SeedError(f"{where}/limits: {exc.detail}") from None


def _check_generate(value: Any, where: str) -> None:
    top = BOUNDS.seed_generate
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SeedError(f"{where}: `generate` must be a whole number of subjects (0 to {top:,})")
    if value > top:
        raise SeedError(f"{where}: generate {_digits(value)} subjects is over the limit of {top:,} "
                        f"a seed entry may generate (BOUNDS.seed_generate)")


def _walk(value: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """(JSON-pointer-like path, value) of every node, without recursion (a parsed document may
    nest deeper than Python's stack)."""
    todo: list[tuple[str, Any]] = [(path, value)]
    while todo:
        here, node = todo.pop()
        yield here, node
        if isinstance(node, Mapping):
            todo += [(f"{here}/{k}", v) for k, v in node.items()]
        elif isinstance(node, list):
            todo += [(f"{here}/{i}", v) for i, v in enumerate(node)]


def _digits(n: int) -> str:
    text = str(n) if n.bit_length() < 4000 else f"a {n.bit_length()}-bit number"
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text)} digits)"


def extra_kinds() -> dict[str, Any]:
    """Seed kinds that are not wire dialects (each exposes `seed_app`), e.g. `native`."""
    from polytag.core import native

    return {native.KIND: native}


def _seed_one(service: Service, dialect: Any, entry: Mapping[str, Any]) -> App:
    """The dialect's seed kind, then the entry's `callback:` (checked first) for a dialect that
    pushes callbacks (its record's `callbacks` face)."""
    if "callback" not in entry:
        return dialect.seed_app(service, entry)
    face = getattr(dialect, "callbacks", None)
    if face is None:
        raise ValueError(f"the {entry['dialect']} dialect sends no callbacks: `callback` cannot be set")
    cfg = callback_config.parse(entry["callback"], face.modes, "callback.")  # a ValueError names the field
    app = dialect.seed_app(service, {k: v for k, v in entry.items() if k != "callback"})
    callback_config.save(service, app, cfg)
    return service.apps.get(app.name)


def apply(service: Service, doc: Mapping[str, Any], dialects: Mapping[str, Any]) -> list[App]:
    """Create or update every app of the document; unknown dialects are an error, not a skip."""
    dialects = {**extra_kinds(), **dialects}
    apps = []
    for i, entry in enumerate(doc.get("apps", [])):
        kind = entry["dialect"]
        dialect = dialects.get(kind) if isinstance(kind, str) else None
        if dialect is None:
            raise SeedError(f"apps[{i}]: unknown dialect {repr(kind)[:60]} (known: {', '.join(sorted(dialects))})")
        try:
            apps.append(_seed_one(service, dialect, entry))
        except PolytagError as exc:  # a rule of the core (a name taken by another dialect, ...)
            raise SeedError(f"apps[{i}] ({kind}): {exc.detail or exc}") from exc
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise SeedError(f"apps[{i}] ({kind}): {exc!r}") from exc
    return apps
