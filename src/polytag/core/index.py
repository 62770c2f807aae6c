"""The in-memory membership index of one app: a roaring bitmap per tag, a tag count per subject.

It is a cache of the durable log ⊕ chunks, stamped with the log sequence it reflects
(`seq`); whoever reads compares that with the app's head and catches up first, so no
process ever answers from a state older than the last acknowledged write.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from pyroaring import BitMap

OP_ADD, OP_REMOVE, OP_DROP = 1, 2, 3
CHUNK_SHIFT = 16


U32 = np.dtype(np.uint32)


def ords_array(bm: BitMap) -> np.ndarray:
    return np.frombuffer(bm.to_array(), dtype=U32)


def chunks_of(bm: BitMap) -> list[int]:
    """The chunks `bm` has members in, one bitmap seek per chunk (never per member)."""
    if not bm:
        return []
    top, x = bm.max(), bm.min()
    if top >> CHUNK_SHIFT == x >> CHUNK_SHIFT:  # most vendor batches: one chunk
        return [x >> CHUNK_SHIFT]
    out: list[int] = []
    while True:
        chunk = x >> CHUNK_SHIFT
        out.append(chunk)
        after = (chunk + 1) << CHUNK_SHIFT
        if after > top:
            return out
        x = bm.next_set_bit(after)


# what a bitmap costs besides its containers (Python object, roaring header, allocator), and how
# much an array container that grew by appends holds beyond its values: measured as RSS over
# 10,000 bitmaps of 20,000 subjects at 2-30 % density, built whole or 50 members at a time
BITMAP_OVERHEAD = 200
CONTAINER_BYTES, CONTAINER_OVERHEAD, ARRAY_SLACK = 8192, 48, 1.25


def bitmap_bytes(bm: BitMap) -> int:
    """The memory of `bm`, estimated from its cardinality and span in O(1) (pyroaring has no
    size call that cheap: `get_statistics` builds a dict of 14 entries): members spread evenly
    over the 65,536-wide containers between min and max, each an array of 2 bytes a member or a
    bitset of 8 KiB. Gaps between members only make it an overestimate."""
    n = len(bm)
    if not n:
        return BITMAP_OVERHEAD
    containers = (bm.max() >> CHUNK_SHIFT) - (bm.min() >> CHUNK_SHIFT) + 1
    per = min(CONTAINER_BYTES, int(2 * ARRAY_SLACK * n / containers))
    return BITMAP_OVERHEAD + containers * (per + CONTAINER_OVERHEAD)


DIRTY_ENTRY_BYTES = 120  # a (tag, chunk) -> seq entry: dict slot, tuple, ints


def chunk_range(chunk: int) -> BitMap:
    r = BitMap()
    r.add_range(chunk << CHUNK_SHIFT, (chunk + 1) << CHUNK_SHIFT)
    return r


# (tags or None for all, rows or None for a fresh snapshot) -> (folded seq, [(tag, chunk, bits)])
ChunkSource = Callable[[Sequence[int] | None, Any], tuple[int, Sequence[Sequence[Any]]]]


class AppIndex:
    """Bitmaps and counts of one app at log sequence `seq`. Mutate only under `lock`.

    A tag's bitmap is read from its chunks when first asked for (`unloaded` holds the log
    entries it missed meanwhile), so the first query after a restart reads only the tags it names.
    """

    def __init__(self, app_id: int, source: ChunkSource | None = None) -> None:
        self.app_id = app_id
        self.seq = 0
        self.folded_seq = 0
        self.bitmaps: dict[int, BitMap] = {}
        self.unloaded: dict[int, list[tuple[int, int, BitMap]]] = {}
        self.pruned = 0  # the fold point `unloaded` was last pruned to
        self.source = source
        # per-subject tag counts: only capped writes need them, so they are built from the
        # bitmaps on first use (a cold start that only reads never pays for them)
        self._counts: np.ndarray | None = np.zeros(1024, dtype=np.uint16)
        self._n_subjects = 0
        self._full: BitMap | None = None  # subjects carrying `_full_cap` tags or more
        self._full_cap = 0
        self.lock = threading.RLock()
        # (tag, chunk) -> the last seq that changed it, until a fold writes it out
        self.dirty: dict[tuple[int, int], int] = {}
        self._memory: tuple[tuple[int, ...], int] = ((), 0)  # (what it was measured at, bytes)

    def memory(self) -> int:
        """Bytes this index holds, estimated (polytag.core.resident's budget). Measured again
        only when the state it depends on moved; safe without the lock (it copies each dict
        first, and an estimate off by one concurrent change is fine)."""
        counts = self._counts
        at = (self.seq, len(self.bitmaps), len(self.unloaded), -1 if counts is None else len(counts),
              len(self.dirty), self.pruned)
        if self._memory[0] == at:
            return self._memory[1]
        size = sum(map(bitmap_bytes, list(self.bitmaps.values())))
        for entries in list(self.unloaded.values()):
            size += sum(bitmap_bytes(bm) for _, _, bm in list(entries))
        size += 0 if counts is None else counts.nbytes
        full = self._full
        size += 0 if full is None else bitmap_bytes(full)
        size += len(self.dirty) * DIRTY_ENTRY_BYTES
        self._memory = (at, size)
        return size

    @property
    def counts(self) -> np.ndarray:
        if self._counts is None:
            with self.lock:
                if self._counts is None:
                    self.rebuild_counts(self._n_subjects)
        assert self._counts is not None
        return self._counts

    @counts.setter
    def counts(self, value: np.ndarray) -> None:
        self._counts = value

    def defer_counts(self, n_subjects: int) -> None:
        """Forget the counts; they are rebuilt from the bitmaps when first asked for."""
        self._counts, self._n_subjects, self._full = None, n_subjects, None

    def at_least(self, cap: int) -> BitMap:
        """Subjects that carry `cap` tags or more: a capped write checks its batch against this
        bitmap, not against the counts. Kept up to date for the last cap asked about."""
        if self._full is None or self._full_cap != cap:
            self._full = BitMap(np.flatnonzero(self.counts >= cap).tolist())
            self._full_cap = cap
        return self._full

    def _track_full(self, arr: np.ndarray, delta: int) -> None:
        """Counts of `arr` went up (delta > 0) or down: move them into or out of `at_least`'s
        bitmap (a count that went up cannot leave it, one that went down cannot enter)."""
        full = self._full
        if full is None:
            return
        if delta > 0:
            reached = arr[self.counts.take(arr) >= self._full_cap]
            if len(reached):
                full |= BitMap(reached.tolist())
        elif full:
            full -= BitMap(arr[self.counts.take(arr) < self._full_cap].tolist())

    # lazy tags ---------------------------------------------------------------
    def load(self, tags: Sequence[int] | None = None, rows: Any = None) -> None:
        """Read the chunks of `tags` (None: every unloaded tag) and replay what they missed.
        Chunks newer than `seq` are fine: log entries set membership, so replaying a suffix
        onto a state that already holds it changes nothing."""
        if not self.unloaded:
            return
        with self.lock:
            want = list(self.unloaded) if tags is None else [t for t in tags if t in self.unloaded]
            if not want:
                return
            assert self.source is not None
            folded, chunks = self.source(None if tags is None else want, rows)
            got = {t: BitMap() for t in want}
            for tag_ord, _chunk, bits in chunks:
                if tag_ord in got:
                    got[tag_ord] |= BitMap.deserialize(bytes(bits))
            for tag_ord, bm in got.items():
                for seq, op, subjects in self.unloaded.pop(tag_ord):
                    if seq <= folded:
                        continue
                    if op == OP_ADD:
                        bm |= subjects
                    elif op == OP_REMOVE:
                        bm -= subjects
                self.bitmaps[tag_ord] = bm

    def prune(self, folded: int) -> None:
        """Another process folded up to `folded`: chunks now hold the entries unloaded tags kept."""
        with self.lock:
            for entries in self.unloaded.values():
                if entries and entries[0][0] <= folded:
                    entries[:] = [e for e in entries if e[0] > folded]
            self.pruned = max(self.pruned, folded)

    # reads -----------------------------------------------------------------
    def members(self, tag_ord: int) -> BitMap:
        if tag_ord in self.unloaded:
            self.load([tag_ord])
        return self.bitmaps.get(tag_ord) or BitMap()

    def tag_ords(self) -> list[int]:
        return [*self.bitmaps, *self.unloaded]

    def loaded(self) -> dict[int, BitMap]:
        """Every tag's bitmap (reading those not loaded yet)."""
        self.load()
        return self.bitmaps

    def count_of(self, ords: np.ndarray) -> np.ndarray:
        """Tags carried by each subject of `ords` (subjects beyond the array carry none)."""
        out = np.zeros(len(ords), dtype=np.int64)
        inside = ords < len(self.counts)
        out[inside] = self.counts[ords[inside]]
        return out

    def tags_of(self, subject_ord: int) -> list[int]:
        self.load()
        return [t for t, bm in self.bitmaps.items() if subject_ord in bm]

    # writes (under lock) -----------------------------------------------------
    def apply(self, seq: int, tag_ord: int, op: int, subjects: BitMap) -> None:
        """Replay one log entry. Counts change only by what really changed: a cold load skips
        the chunks of tags deleted later, and must still replay their older entries harmlessly."""
        if op != OP_DROP and tag_ord in self.unloaded:
            self.unloaded[tag_ord].append((seq, op, subjects))
        elif op == OP_ADD:
            bm = self.bitmaps.setdefault(tag_ord, BitMap())
            new = subjects - bm
            bm |= new
            self._count_all([new], +1)
        elif op == OP_REMOVE:
            current = self.bitmaps.get(tag_ord)
            if current is not None:
                gone = subjects & current
                current -= gone
                self._count_all([gone], -1)
        elif op == OP_DROP:
            self.unloaded.pop(tag_ord, None)
            dropped = self.bitmaps.pop(tag_ord) if tag_ord in self.bitmaps else None
            if dropped is not None:
                self._count_all([dropped], -1)
            for key in [k for k in self.dirty if k[0] == tag_ord]:
                del self.dirty[key]
        if op != OP_DROP:
            for chunk in chunks_of(subjects):
                self.dirty[(tag_ord, chunk)] = seq
        self.seq = seq

    def apply_group(self, entries: Sequence[tuple[int, int, int, BitMap]]) -> None:
        """Replay the entries of one write group, which follow `seq` without a gap. Adds and
        removes on loaded tags (the usual group) are applied with one count update for the
        whole group; anything else goes entry by entry."""
        if any(op == OP_DROP or tag_ord in self.unloaded for _, tag_ord, op, _ in entries):
            for entry in entries:
                self.apply(*entry)
            return
        up: list[BitMap] = []
        down: list[BitMap] = []
        dirty = self.dirty
        for seq, tag_ord, op, subjects in entries:
            bm = self.bitmaps.get(tag_ord)
            if bm is None:
                bm = self.bitmaps[tag_ord] = BitMap()
            if op == OP_ADD:
                changed = subjects - bm
                bm |= changed
                up.append(changed)
            else:
                changed = subjects & bm
                bm -= changed
                down.append(changed)
            for chunk in chunks_of(subjects):
                dirty[(tag_ord, chunk)] = seq
        self.seq = entries[-1][0]
        self._count_all(up, +1)
        self._count_all(down, -1)

    def _count_all(self, changes: list[BitMap], delta: int) -> None:
        """Each subject of `changes` carries one tag more (delta > 0) or less; a subject may be
        in several of them. Nothing to do before the counts are built: the bitmaps say it."""
        if not changes or self._counts is None:
            return
        members = array("I")
        for c in changes:
            members += c.to_array()
        if not members:
            return
        arr = np.frombuffer(members, dtype=U32)
        self._grow(int(arr.max()))
        step = np.uint16(1 if delta > 0 else 0xFFFF)  # uint16 wraps: 0xFFFF adds -1
        if len(changes) == 1 or len(BitMap.union(*changes)) == len(arr):  # no subject twice
            self.counts[arr] += step
        else:
            np.add.at(self.counts, arr, step)
        self._track_full(arr, delta)

    def _grow(self, top: int) -> None:
        if top >= len(self.counts):
            size = max(top + 1, len(self.counts) * 2)
            grown = np.zeros(size, dtype=np.uint16)
            grown[: len(self.counts)] = self.counts
            self.counts = grown

    def ensure_tag(self, tag_ord: int) -> None:
        if tag_ord not in self.unloaded:
            self.bitmaps.setdefault(tag_ord, BitMap())

    def rebuild_counts(self, n_subjects: int) -> None:
        self.load()
        counts = np.zeros(max(1024, n_subjects + 1), dtype=np.uint16)
        for bm in self.bitmaps.values():
            if bm:
                arr = ords_array(bm)
                if int(arr[-1]) >= len(counts):
                    grown = np.zeros(int(arr[-1]) + 1, dtype=np.uint16)
                    grown[: len(counts)] = counts
                    counts = grown
                counts[arr] += 1
        self.counts = counts
        self._full = None

    # folding -----------------------------------------------------------------
    def chunk_bits(self, tag_ord: int, chunk: int) -> bytes | None:
        self.load([tag_ord])
        bm = self.bitmaps.get(tag_ord)
        if bm is None:
            return None
        piece = bm & chunk_range(chunk)
        return piece.serialize() if piece else None
