"""Audiences: boolean expressions over tags (and precomputed sets) evaluated on roaring bitmaps.

Dialect-neutral: a dialect turns its condition syntax into an expression; `evaluate` answers
with the ordinals it selects, always within `universe` (the app's reachable subjects).
"""

from __future__ import annotations

import base64
import binascii
import functools
import operator
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
    """May return a bitmap the index or the expression owns: callers combine, never mutate."""
    match expr:
        case Everyone():
            return universe
        case TagRef(ord=int() as o):
            return index.members(o)
        case TagRef():  # a tag nobody carries
            return BitMap()
        case Members(ords=ords):
            return ords
        case Not(item=item):
            return universe - _eval(item, index, universe)
        case And(items=items):
            if not items:
                return BitMap(universe)
            parts = sorted((_eval(i, index, universe) for i in items), key=len)
            # `a & b & c` beats BitMap.intersection(a, b, c) ~8x (perf-baselines §2)
            return functools.reduce(operator.and_, parts)
        case Or(items=items):
            return BitMap.union(*[_eval(i, index, universe) for i in items]) if items else BitMap()
    raise TypeError(f"not an audience expression: {expr!r}")


# --- the native API's face: counts and keyset pages over an evaluated audience ---
def universe_of(n_subjects: int) -> BitMap:
    """Every subject ordinal of an app with `n_subjects` (ordinals are dense)."""
    bm = BitMap()
    if n_subjects:
        bm.add_range(0, n_subjects)
    return bm


def count(expr: Expr, index: AppIndex, universe: BitMap) -> int:
    """len(evaluate(...)); an AND's last intersection is only counted, never materialised."""
    with index.lock:
        if isinstance(expr, And) and len(expr.items) > 1:
            parts = sorted((_eval(i, index, universe) for i in expr.items), key=len)
            head = functools.reduce(operator.and_, parts[:-1])
            if _covers(universe, head):
                return int(head.intersection_cardinality(parts[-1]))
            return len(head & parts[-1] & universe)
        got = _eval(expr, index, universe)
        if _covers(universe, got):  # a dense universe already holds every result: skip one AND
            return len(got)
        return len(got & universe)


def _covers(universe: BitMap, bm: BitMap) -> bool:
    """True when `universe` is a dense range holding every member of `bm` (cheap checks only)."""
    if not bm:
        return True
    return bool(universe) and universe.min() == 0 and len(universe) == universe.max() + 1 \
        and bm.max() <= universe.max()


def page_after(members: BitMap, after: int | None, limit: int) -> tuple[list[int], int | None]:
    """Up to `limit` ordinals of `members` above `after` (keyset by rank), and the next key."""
    start = 0 if after is None else members.rank(after)
    ords = list(members[start:start + limit])
    more = start + len(ords) < len(members)
    return ords, (ords[-1] if ords and more else None)


def encode_cursor(ord_: int | None) -> str | None:
    """An opaque page cursor for the last ordinal of a page."""
    return None if ord_ is None else base64.urlsafe_b64encode(f"o{ord_}".encode()).decode().rstrip("=")


MAX_ORD = 2**32 - 1  # the largest subject ordinal a bitmap holds


def decode_cursor(cursor: str | None) -> int | None:
    """The ordinal inside a cursor; ValueError for one this module did not make."""
    if not cursor:
        return None
    if len(cursor) > 32:  # "o" and ten digits encode in 16 characters
        raise ValueError("bad cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise ValueError("bad cursor") from exc
    digits = raw[1:]
    # ordinals are uint32 (roaring bitmaps): anything longer or larger was not made here
    if not raw.startswith("o") or not digits.isascii() or not digits.isdigit() or len(digits) > 10 \
            or int(digits) > MAX_ORD:
        raise ValueError("bad cursor")
    return int(digits)
