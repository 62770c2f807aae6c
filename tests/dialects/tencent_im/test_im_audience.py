"""core/audience.py against Python sets: random expressions over random tag memberships."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from pyroaring import BitMap

from polytag.core import audience as au
from polytag.core.index import AppIndex

N = 40
members = st.dictionaries(st.integers(0, 4), st.frozensets(st.integers(0, N - 1)), max_size=5)
leaves = st.one_of(st.builds(au.TagRef, st.one_of(st.none(), st.integers(0, 5))), st.just(au.Everyone()),
                   st.builds(lambda s: au.Members(BitMap(s)), st.frozensets(st.integers(0, N + 5))))
exprs = st.recursive(leaves, lambda kids: st.one_of(
    st.builds(au.And, st.lists(kids, max_size=3)), st.builds(au.Or, st.lists(kids, max_size=3)),
    st.builds(au.Not, kids)), max_leaves=8)


def model(e: au.Expr, tags: dict[int, frozenset[int]], universe: set[int]) -> set[int]:
    match e:
        case au.Everyone():
            return set(universe)
        case au.TagRef(ord=o):
            return set(tags.get(o, frozenset())) if o is not None else set()
        case au.Members(ords=ords):
            return set(ords)
        case au.Not(item=i):
            return universe - model(i, tags, universe)
        case au.And(items=items):
            return set.intersection(*(model(i, tags, universe) for i in items)) if items else set(universe)
        case au.Or(items=items):
            return set().union(*(model(i, tags, universe) for i in items))
    raise AssertionError(e)


@given(tags=members, expr=exprs, universe=st.frozensets(st.integers(0, N - 1)))
def test_evaluate_matches_sets(tags: dict[int, frozenset[int]], expr: au.Expr, universe: frozenset[int]) -> None:
    idx = AppIndex(1)
    idx.bitmaps = {t: BitMap(s) for t, s in tags.items()}
    got = au.evaluate(expr, idx, BitMap(universe))
    assert set(got) == model(expr, tags, set(universe)) & set(universe)
