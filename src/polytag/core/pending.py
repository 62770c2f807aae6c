"""A write group's membership changes not yet in the index, and what the group's ops read
through them: who carries a tag, how many tags a subject carries, who would pass the cap."""

from __future__ import annotations

import numpy as np
from pyroaring import BitMap

from polytag.core.index import OP_ADD, OP_DROP, OP_REMOVE, AppIndex, ords_array


class Pending:
    """Membership changes of earlier ops in the current group commit, not yet in the index.

    Per-subject count changes are not kept one by one: `touched` says which subjects any
    entry changed, and the few that a new op shares with it are recounted from the entries.
    """

    def __init__(self, index: AppIndex) -> None:
        self.index = index
        self.entries: list[tuple[int, int, int, BitMap]] = []
        self.added: dict[int, BitMap] = {}
        self.removed: dict[int, BitMap] = {}
        self.dropped: dict[int, BitMap] = {}  # tag -> its members when dropped
        self.touched = BitMap()
        self.created: set[int] = set()

    def has(self, tag_ord: int, subjects: BitMap) -> BitMap:
        """Those of `subjects` that carry the tag, counting this group's earlier changes."""
        if tag_ord in self.dropped:
            return BitMap()
        cur = subjects & self.index.members(tag_ord)
        if tag_ord in self.removed:
            cur -= self.removed[tag_ord]
        if tag_ord in self.added:
            cur |= subjects & self.added[tag_ord]
        return cur

    def members(self, tag_ord: int) -> BitMap:
        if tag_ord in self.dropped:
            return BitMap()
        cur = self.index.members(tag_ord)
        if tag_ord in self.removed or tag_ord in self.added:
            cur = (cur - self.removed.get(tag_ord, BitMap())) | self.added.get(tag_ord, BitMap())
        return cur

    def _delta(self, subjects: BitMap) -> dict[int, int]:
        """The count change this group made to each of `subjects` it touched."""
        hit = subjects & self.touched
        out: dict[int, int] = {}
        if not hit:
            return out
        for _seq, _tag, op, changed in self.entries:
            if op == OP_DROP:
                continue
            step = 1 if op == OP_ADD else -1
            for o in hit & changed:
                out[o] = out.get(o, 0) + step
        for gone in self.dropped.values():
            for o in hit & gone:
                out[o] = out.get(o, 0) - 1
        return out

    def max_count(self, subjects: BitMap) -> int:
        """The most tags any of `subjects` carries, counting this group's earlier changes."""
        if not subjects:
            return 0
        counts = self.index.counts
        if subjects.max() >= len(counts) or (self.touched and not subjects.isdisjoint(self.touched)):
            return int(self.counts(np.frombuffer(subjects.to_array(), dtype=np.uint32)).max())
        # the common case: known subjects this group has not touched yet (hot path)
        return int(counts.take(ords_array(subjects)).max())

    def over_cap(self, subjects: BitMap, cap: int) -> int | None:
        """How many tags the busiest of `subjects` would carry with one more, when that is
        more than `cap`; None when every one of them has room."""
        if not subjects:
            return None
        untouched = not self.touched or subjects.isdisjoint(self.touched)
        # the common case: known subjects this group has not touched yet (hot path)
        if untouched and subjects.max() < len(self.index.counts) and subjects.isdisjoint(self.index.at_least(cap)):
            return None
        worst = self.max_count(subjects) + 1
        return worst if worst > cap else None

    def counts(self, ords: np.ndarray) -> np.ndarray:
        """Tags carried by each of `ords`, counting this group's changes."""
        out = self.index.count_of(ords)
        delta = self._delta(BitMap(ords.tolist())) if self.touched else {}
        if delta:
            for i, o in enumerate(ords.tolist()):
                out[i] += delta.get(o, 0)
        return out

    def record(self, seq: int, tag_ord: int, op: int, subjects: BitMap) -> None:
        self.entries.append((seq, tag_ord, op, subjects))
        self._take(tag_ord, op, subjects)

    def undo(self, seq: int) -> None:
        """Forget the entry `seq` (its op was rolled back) and everything derived from it."""
        self.entries = [e for e in self.entries if e[0] != seq]
        self.added, self.removed, self.dropped, self.touched = {}, {}, {}, BitMap()
        for _, tag_ord, op, subjects in self.entries:
            self._take(tag_ord, op, subjects)

    def _take(self, tag_ord: int, op: int, subjects: BitMap) -> None:
        if op == OP_ADD:
            self.added.setdefault(tag_ord, BitMap()).update(subjects)
            if tag_ord in self.removed:
                self.removed[tag_ord] -= subjects
        elif op == OP_REMOVE:
            self.removed.setdefault(tag_ord, BitMap()).update(subjects)
            if tag_ord in self.added:
                self.added[tag_ord] -= subjects
        else:
            gone = self.members(tag_ord)
            self.dropped[tag_ord] = gone
            self.touched |= gone
            return
        self.touched |= subjects
