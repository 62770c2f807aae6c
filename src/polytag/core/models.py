"""The core's nouns: App, Subject, Tag, TagGroup, Page. Frozen, so they can be shared freely."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from polytag.core.limits import Limits

T = TypeVar("T")


@dataclass(frozen=True)
class App:
    """A tenant: one vendor account (as its dialect names it) or a native app."""

    id: int
    dialect: str
    name: str
    limits: Limits
    config: Mapping[str, Any] = field(default_factory=dict)
    created_at: float = 0.0


@dataclass(frozen=True)
class Subject:
    """A user of an app (follower, account, customer), known outside by `ext_id`, inside by `ord`."""

    ord: int
    ext_id: str
    active: bool = True
    remark: str = ""
    created_at: int = 0
    props: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TagGroup:
    ord: int
    ext_id: str
    name: str
    order: int = 0
    created_ms: int = 0


@dataclass(frozen=True)
class Tag:
    """A tag; `ext_id` is what the vendor shows (a number, an opaque id, the name itself)."""

    ord: int
    ext_id: str
    name: str
    group_ord: int | None = None
    order: int = 0
    created_ms: int = 0
    version: int = 0
    count: int = 0


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a keyset walk; `next` is the key to pass back, None at the end."""

    items: list[T]
    next: str | None = None
    total: int | None = None
