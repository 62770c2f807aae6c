"""Seed files (YAML or JSON, one schema): `apps: [{dialect: ..., ...}]`, applied idempotently.

Each entry is handed to its dialect's `seed_app`, so a new dialect brings its own seed kind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from polytag.core.models import App
from polytag.core.service import Service


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
    if not isinstance(doc, Mapping) or not isinstance(doc.get("apps", []), list):
        raise SeedError(f"{where}: expected a mapping with an `apps:` list")
    for i, entry in enumerate(doc.get("apps", [])):
        if not isinstance(entry, Mapping) or "dialect" not in entry:
            raise SeedError(f"{where}: apps[{i}] needs a `dialect:`")
    return dict(doc)


def extra_kinds() -> dict[str, Any]:
    """Seed kinds that are not wire dialects (each exposes `seed_app`), e.g. `native`."""
    from polytag.core import native

    return {native.KIND: native}


def apply(service: Service, doc: Mapping[str, Any], dialects: Mapping[str, Any]) -> list[App]:
    """Create or update every app of the document; unknown dialects are an error, not a skip."""
    dialects = {**extra_kinds(), **dialects}
    apps = []
    for i, entry in enumerate(doc.get("apps", [])):
        kind = entry["dialect"]
        dialect = dialects.get(kind)
        if dialect is None:
            raise SeedError(f"apps[{i}]: unknown dialect {kind!r} (known: {', '.join(sorted(dialects))})")
        try:
            apps.append(dialect.seed_app(service, entry))
        except (KeyError, TypeError, ValueError) as exc:
            raise SeedError(f"apps[{i}] ({kind}): {exc!r}") from exc
    return apps
