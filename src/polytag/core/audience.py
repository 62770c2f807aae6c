"""Audiences: boolean expressions over tags (and precomputed sets) evaluated on roaring bitmaps.

Dialect-neutral: a dialect turns its condition syntax into an expression; `evaluate` answers
with the ordinals it selects, always within `universe` (the app's reachable subjects).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from pyroaring import BitMap

from polytag.core.index import AppIndex


@dataclass(frozen=True)
class TagRef:
    """Subjects carrying the tag with this ordinal (None: a tag nobody carries)."""

    ord: int | None


@dataclass(frozen=True)
class Members:
    """A set computed elsewhere (e.g. an attribute's value), given as ordinals."""

    ords: BitMap


@dataclass(frozen=True)
class And:
    items: Sequence[Expr]


@dataclass(frozen=True)
class Or:
    items: Sequence[Expr]


@dataclass(frozen=True)
class Not:
    item: Expr


@dataclass(frozen=True)
class Everyone:
    pass


Expr = TagRef | Members | And | Or | Not | Everyone


def evaluate(expr: Expr, index: AppIndex, universe: BitMap) -> BitMap:
    """The subjects of `universe` that `expr` selects (reads the index under its lock)."""
    with index.lock:
        return _eval(expr, index, universe) & universe


def _eval(expr: Expr, index: AppIndex, universe: BitMap) -> BitMap:
    match expr:
        case Everyone():
            return BitMap(universe)
        case TagRef(ord=int() as o):
            return BitMap(index.members(o))
        case TagRef():  # a tag nobody carries
            return BitMap()
        case Members(ords=ords):
            return BitMap(ords)
        case Not(item=item):
            return universe - _eval(item, index, universe)
        case And(items=items):
            if not items:
                return BitMap(universe)
            parts = [_eval(i, index, universe) for i in items]
            return BitMap.intersection(*parts) if len(parts) > 1 else parts[0]
        case Or(items=items):
            return BitMap.union(*[_eval(i, index, universe) for i in items]) if items else BitMap()
    raise TypeError(f"not an audience expression: {expr!r}")
