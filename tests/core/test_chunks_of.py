"""chunks_of (one seek per chunk) against the plain definition: the distinct ord >> 16."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from pyroaring import BitMap

from polytag.core.index import CHUNK_SHIFT, chunks_of

ORDS = st.integers(0, (1 << 22) - 1)


@settings(max_examples=300, deadline=None)
@given(st.lists(ORDS, max_size=300), st.lists(st.tuples(ORDS, st.integers(1, 200_000)), max_size=3))
def test_chunks_of_is_the_distinct_high_bits(points: list[int], ranges: list[tuple[int, int]]) -> None:
    bm = BitMap(points)
    for start, length in ranges:
        bm.add_range(start, start + length)
    assert sorted(chunks_of(bm)) == sorted({o >> CHUNK_SHIFT for o in bm})
