"""The map behind a subject directory: ext_id -> ordinal, looked up a batch at a time.

Every vendor write resolves up to a few hundred external ids among an app's users, millions
of them in a production app. In a dict each lookup is a chain of cache misses (index, entry,
key, value) that the next lookup cannot start before; the compiled `OrdMap`
(`polytag/_ordmap.c`, built by `pip install`) hashes a whole batch first and prefetches, so
the misses of one batch overlap: 50 ids among 1M in about 4 µs instead of 18 warm, and 18
instead of 50 once other work has evicted the map from the CPU caches, in half the memory
(`bench/ordmap.py`, docs/performance.md). `PyOrdMap` is the same map over a dict, for an install that could not
compile the extension; `tests/core/test_ordmap.py` holds both to one model.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any, Protocol


class IdMap(Protocol):
    def __len__(self) -> int: ...
    def __contains__(self, key: object) -> bool: ...
    def get(self, key: Any, default: Any = None) -> Any: ...
    def get_many(self, keys: Sequence[object]) -> list[int | None]: ...
    def extend(self, keys: Sequence[str], first: int) -> None: ...
    def memory(self) -> int: ...  # bytes of the map itself, not of its keys (polytag.core.resident)


class PyOrdMap(dict[str, int]):
    """OrdMap over a plain dict."""

    def get_many(self, keys: Sequence[object]) -> list[int | None]:
        get = self.get
        return [get(k) if type(k) is str else None for k in keys]

    def extend(self, keys: Sequence[str], first: int) -> None:
        if any(type(k) is not str for k in keys):  # all or nothing, as the compiled one
            raise TypeError("OrdMap keys are str")
        self.update(zip(keys, range(first, first + len(keys)), strict=True))

    def memory(self) -> int:
        return sys.getsizeof(self)  # the dict's table; the keys are the caller's, small ints are shared


try:
    from polytag._ordmap import OrdMap as _Compiled
except ImportError:  # no compiler at install time: the dict, slower for large apps
    COMPILED = False
    OrdMap: type[IdMap] = PyOrdMap
else:
    COMPILED = True
    OrdMap = _Compiled
