"""The CSV reader's fast path (whole blocks split by C string methods) against the csv module
row by row: the same memberships, the same line numbers, the same errors, for any input."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st

from polytag import bulk

FIELD = st.sampled_from(["u1", "u2", "t", "广东", "", " u3 ", 'q"x', '"a,b"', "a\tb", "vip",
                        "'=x", "''", "it's", "n\x00l", "s\udc80"])
LINE = st.one_of(
    st.tuples(FIELD, FIELD).map(lambda p: f"{p[0]},{p[1]}"),
    st.sampled_from(["", "solo", "a,b,c", "subject,tag", ",t", "u9,"]),
)


def by_csv_module(text: str) -> tuple[list[tuple[int, str, str]], list[tuple[int, str]]]:
    errors: list[tuple[int, str]] = []
    return list(bulk._csv_pairs(io.StringIO(text), errors)), errors


def by_reader(text: str, size: int) -> tuple[list[tuple[int, str, str]], list[tuple[int, str]]]:
    errors: list[tuple[int, str]] = []
    out = []
    for lines, subs, tags in bulk.read_rows(io.StringIO(text), "csv", errors, size):
        assert len(lines) == len(subs) == len(tags) <= size
        out += list(zip(lines, subs, tags, strict=True))
    return out, errors


@settings(max_examples=400, deadline=None)
@given(st.lists(LINE, max_size=30), st.booleans(), st.integers(1, 7))
def test_fast_path_reads_what_the_csv_module_reads(lines: list[str], final_newline: bool, size: int) -> None:
    text = "\n".join(lines) + ("\n" if final_newline and lines else "")
    assert by_reader(text, size) == by_csv_module(text)


def test_plain_blocks_take_the_fast_path() -> None:
    """A plain export-shaped file: every membership, numbered from line 2 after the header."""
    text = "subject,tag\n" + "".join(f"u{i},t{i % 3}\n" for i in range(10))
    got, errors = by_reader(text, 4)
    assert errors == [] and got == [(i + 2, f"u{i}", f"t{i % 3}") for i in range(10)]
