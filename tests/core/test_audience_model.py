"""The audience engine against Python sets (hypothesis): evaluate, count, keyset pages, text round trip."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from polytag.core import audience as au
from polytag.core.expr import compile_expr
from polytag.core.index import OP_ADD, OP_REMOVE, AppIndex
from polytag.core.models import Tag

N_SUBJECTS, N_TAGS = 60, 5
TAGS = [Tag(ord=i, ext_id=str(100 + i), name=f"t{i}") for i in range(N_TAGS)]

memberships = st.lists(st.sets(st.integers(0, N_SUBJECTS - 1)), min_size=N_TAGS, max_size=N_TAGS)
removals = st.lists(st.tuples(st.integers(0, N_TAGS - 1), st.sets(st.integers(0, N_SUBJECTS - 1))), max_size=4)
exprs = st.recursive(
    st.integers(0, N_TAGS - 1).map(lambda i: {"tag": f"t{i}"}),
    lambda inner: st.one_of(
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"and": xs}),
        st.lists(inner, min_size=1, max_size=3).map(lambda xs: {"or": xs}),
        inner.map(lambda x: {"not": x}),
    ),
    max_leaves=8,
)


def reference(expr: Any, sets: list[set[int]], universe: set[int]) -> set[int]:
    (op, arg), = expr.items()
    if op == "tag":
        return sets[int(arg[1:])] & universe
    if op == "not":
        return universe - reference(arg, sets, universe)
    parts = [reference(a, sets, universe) for a in arg]
    return set.intersection(*parts) if op == "and" else set.union(*parts)


def as_text(expr: Any) -> str:
    (op, arg), = expr.items()
    if op == "tag":
        return str(arg)
    if op == "not":
        return f"!{as_text(arg)}"
    return "(" + (" & " if op == "and" else " | ").join(as_text(a) for a in arg) + ")"


def build(sets: list[set[int]], removed: list[tuple[int, set[int]]]) -> tuple[AppIndex, list[set[int]]]:
    idx = AppIndex(1)
    seq = 0
    for tag, members in enumerate(sets):
        seq += 1
        idx.apply(seq, tag, OP_ADD, BitMap(members))
    truth = [set(s) for s in sets]
    for tag, gone in removed:
        seq += 1
        idx.apply(seq, tag, OP_REMOVE, BitMap(gone))
        truth[tag] -= gone
    return idx, truth


@settings(max_examples=200, deadline=None)
@given(memberships, removals, exprs, st.integers(1, N_SUBJECTS))
def test_evaluate_and_count_match_sets(sets: list[set[int]], removed: list[tuple[int, set[int]]],
                                       expr: Any, n: int) -> None:
    idx, truth = build(sets, removed)
    universe = au.universe_of(n)
    want = reference(expr, truth, set(range(n)))
    bound = compile_expr(expr, TAGS)
    assert set(au.evaluate(bound, idx, universe)) == want
    assert au.count(bound, idx, universe) == len(want)
    assert set(au.evaluate(compile_expr(as_text(expr), TAGS), idx, universe)) == want


@settings(max_examples=100, deadline=None)
@given(memberships, exprs, st.integers(1, 7))
def test_keyset_pages_concatenate_to_the_audience(sets: list[set[int]], expr: Any, limit: int) -> None:
    idx, truth = build(sets, [])
    universe = au.universe_of(N_SUBJECTS)
    got = au.evaluate(compile_expr(expr, TAGS), idx, universe)
    seen: list[int] = []
    cursor = None
    while True:
        ords, last = au.page_after(got, au.decode_cursor(cursor), limit)
        seen += ords
        cursor = au.encode_cursor(last)
        if cursor is None:
            break
    assert seen == sorted(reference(expr, truth, set(range(N_SUBJECTS))))


def test_evaluate_never_mutates_the_index() -> None:
    idx, _ = build([{1, 2, 3}, {2, 3, 4}, set(), set(), set()], [])
    before = [BitMap(idx.members(t)) for t in range(N_TAGS)]
    for expr in ({"tag": "t0"}, {"and": [{"tag": "t0"}]}, {"or": [{"tag": "t1"}]}, {"not": {"tag": "t0"}}):
        out = au.evaluate(compile_expr(expr, TAGS), idx, au.universe_of(10))
        out.add(9)
    assert [idx.members(t) for t in range(N_TAGS)] == before


def test_bad_cursors_are_value_errors() -> None:
    for bad in ("!!", "eHl6", "b3g"):
        try:
            au.decode_cursor(bad)
        except ValueError:
            continue
        raise AssertionError(bad)
