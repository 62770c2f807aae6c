"""OrdMap (the subject directory's map) against a plain dict, compiled and pure Python alike."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from polytag.core import ordmap
from polytag.core.ordmap import PyOrdMap

IMPLS = [ordmap.OrdMap, PyOrdMap]
# every str kind CPython has (1, 2 and 4 bytes a character), the empty one included
KEYS = st.text(alphabet=st.sampled_from("ao9_é\u4e2d\U0001f600"), max_size=6)


def copy(s: str) -> str:
    """An equal str that is another object (as a parsed request body gives)."""
    return "".join(list(s))


def test_the_compiled_map_is_built() -> None:
    """`pip install` builds polytag._ordmap (setup.py); an install without it is slower, and
    CI must not run on one unnoticed."""
    assert ordmap.COMPILED, "polytag._ordmap was not built: is a C compiler installed?"


@pytest.mark.parametrize("impl", IMPLS)
def test_extend_get_and_growth(impl: type) -> None:
    m = impl()
    keys = [f"o{i:027d}" for i in range(50_000)]
    m.extend(keys[:3], 0)
    m.extend(keys[3:], 3)  # grows many times
    assert len(m) == 50_000
    assert m.get_many([copy(k) for k in keys[::997]]) == list(range(0, 50_000, 997))
    assert m.get(copy(keys[12_345])) == 12_345
    assert m[copy(keys[7])] == 7
    assert copy(keys[49_999]) in m
    assert m.get_many(["o" + "9" * 27, "", keys[1], 5, None]) == [None, None, 1, None, None]
    assert m.get("absent", -1) == -1
    with pytest.raises(KeyError):
        m["absent"]


@pytest.mark.parametrize("impl", IMPLS)
def test_memory_is_the_table_and_grows_with_it(impl: type) -> None:
    """`memory()` (the memory budget's estimate): the map's own table, not its keys' text."""
    m = impl()
    empty = m.memory()
    m.extend([f"key{i}" for i in range(1000)], 0)
    grown = m.memory()
    assert grown > empty
    if impl is ordmap.OrdMap:  # 16-byte slots, at most half full: at least 2,048 of them
        assert grown >= 2048 * 16
    m.extend(["x" * 10_000], 1000)  # one long key: the text is the caller's
    assert m.memory() - grown < 10_000


@pytest.mark.parametrize("impl", IMPLS)
def test_extend_is_all_or_nothing(impl: type) -> None:
    m = impl()
    with pytest.raises(TypeError):
        m.extend(["a", 3, "b"], 0)
    assert len(m) == 0
    assert m.get("a") is None


@pytest.mark.parametrize("impl", IMPLS)
def test_a_key_set_again_takes_the_new_value(impl: type) -> None:
    m = impl()
    m.extend(["x", "y", "x"], 10)
    m[copy("y")] = 99
    assert (len(m), m.get_many(["x", "y"])) == (2, [12, 99])


@pytest.mark.parametrize("impl", IMPLS)
@settings(max_examples=60, deadline=None)
@given(batches=st.lists(st.lists(KEYS, max_size=40), max_size=12),
       queries=st.lists(st.one_of(KEYS, st.integers(), st.none()), max_size=300))
def test_agrees_with_a_dict(impl: type, batches: list[list[str]], queries: list[object]) -> None:
    m, model, first = impl(), {}, 0
    for batch in batches:
        m.extend(batch, first)
        model.update(zip(batch, range(first, first + len(batch)), strict=True))
        first += len(batch)
    keys = list(model)
    asked = [copy(q) if isinstance(q, str) else q for q in queries + keys]
    assert m.get_many(asked) == [model.get(q) if isinstance(q, str) else None for q in asked]
    assert len(m) == len(model)
    assert all((copy(k) in m) and m.get(copy(k)) == model[k] for k in keys)


def test_values_are_ordinals() -> None:
    """The compiled map holds 0 .. 2**32 - 1 (roaring bitmaps' range) and refuses the rest whole."""
    m = ordmap.OrdMap()
    m["top"] = 2**32 - 1
    for bad in (-1, 2**32):
        with pytest.raises(OverflowError):
            m["x"] = bad
    with pytest.raises(OverflowError):
        m.extend(["a", "b"], 2**32 - 1)
    assert m.get_many(["top", "x", "a"]) == [2**32 - 1, None, None]
    assert len(m) == 1


class Machine(RuleBasedStateMachine):
    """Interleaved writes and batch reads, both maps against one dict."""

    def __init__(self) -> None:
        super().__init__()
        self.maps = [impl() for impl in IMPLS]
        self.model: dict[str, int] = {}
        self.next = 0

    @rule(keys=st.lists(KEYS, max_size=30))
    def extend(self, keys: list[str]) -> None:
        for m in self.maps:
            m.extend(keys, self.next)
        self.model.update(zip(keys, range(self.next, self.next + len(keys)), strict=True))
        self.next += len(keys)

    @rule(key=KEYS, value=st.integers(0, 2**32 - 1))
    def set(self, key: str, value: int) -> None:
        for m in self.maps:
            m[copy(key)] = value
        self.model[key] = value

    @rule(keys=st.lists(KEYS, max_size=60))
    def get_many(self, keys: list[str]) -> None:
        want = [self.model.get(k) for k in keys]
        for m in self.maps:
            assert m.get_many([copy(k) for k in keys]) == want

    @invariant()
    def sizes(self) -> None:
        assert all(len(m) == len(self.model) for m in self.maps)


Machine.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None)
TestOrdMapMachine = Machine.TestCase


def _same_tag_and_slot() -> tuple[str, str]:
    """Two different keys whose hashes agree on the slot tag (top 32 bits) and on the first slot
    of a 16-slot table: the compiled map can only tell them apart by comparing the keys."""
    seen: dict[tuple[int, int], str] = {}
    for i in range(1 << 22):
        key = f"k{i}"
        h = hash(key) & 0xFFFF_FFFF_FFFF_FFFF
        other = seen.setdefault((h >> 32, h & 15), key)
        if other != key:
            return other, key
    raise AssertionError("no colliding pair found")  # about 7 are expected below 2**20


@pytest.mark.parametrize("impl", IMPLS)
def test_keys_with_the_same_hash_tag_are_told_apart(impl: type) -> None:
    a, b = _same_tag_and_slot()
    m = impl()
    m.extend([a], 1)
    assert m.get_many([b, a]) == [None, 1]
    assert b not in m
    m.extend([b], 2)
    assert (m.get_many([a, b]), len(m)) == ([1, 2], 2)


def test_the_bench_script_runs() -> None:
    """`bench/ordmap.py` at a tiny size: both maps measured, both ratios printed (no timing asserted)."""
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(root / "bench" / "ordmap.py"), "--ids", "5000", "--batches", "20"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [ln.split()[0] for ln in lines[1:3]] == ["dict", "OrdMap"], done.stdout
    assert sum(ln.startswith("dict / OrdMap") for ln in lines) == 2, done.stdout
