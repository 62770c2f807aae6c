"""Model-based test of the membership engine: the index against a dict of Python sets.

Random add/remove/drop/create ops go through the Service with a tiny fold interval, the
store is closed and reopened now and then, and some ops share one group commit with an op
that fails. After every step the in-memory index, and an index loaded cold from the rows
(log ⊕ chunks), both equal the model.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from pyroaring import BitMap

from polytag import dialects
from polytag.core.memberships import Memberships
from polytag.core.models import App
from polytag.core.service import Service
from polytag.errors import LimitExceeded, NotFound
from polytag.store import Tx, open_store

CAP = 2  # tags per subject: small, so random ops reach it
FOLD_EVERY = 3
WAIT = 60  # seconds: a bound on waiting for the writer thread
_apps = itertools.count()


class Boom(Exception):
    """Raised by an op after it changed memberships, to see its changes rolled back."""


def open_service(db_url: str) -> Service:
    svc = Service(open_store(db_url), dialects.presets(dialects.discover()))
    svc.memberships.fold_every = FOLD_EVERY
    return svc


def snapshot(svc: Service, app: App, memberships: Memberships) -> tuple[dict[int, set[int]], np.ndarray]:
    idx = memberships.index(app, svc.store.read())
    with idx.lock:
        bitmaps = {t: set(bm) for t, bm in idx.loaded().items()}
        counts = idx.count_of(np.arange(256, dtype=np.uint32)).copy()
    return bitmaps, counts


class MembershipMachine(RuleBasedStateMachine):
    db_url = ""  # set by the test before the machine runs
    cold_check = True  # also compare an index loaded cold from the rows, beside the warm one

    tags = Bundle("tags")

    def __init__(self) -> None:
        super().__init__()
        self.svc = open_service(self.db_url)
        name = f"model-{next(_apps)}"
        self.app, _ = self.svc.write_sync(lambda tx: self.svc.apps.upsert(
            tx, "native", name, config={"limits": {"tags_per_subject": CAP}}))
        self.model: dict[str, set[int]] = {}  # tag ext_id -> subject ords
        self.ords: dict[str, int] = {}  # tag ext_id -> tag ord
        self.subjects: list[str] = []
        self.names = itertools.count()
        self.reader = Memberships(self.svc.store)  # another process's index: reads one tag at a time

    def teardown(self) -> None:
        self.svc.store.close()

    # helpers ---------------------------------------------------------------------------------
    def write(self, op: Callable[[Tx], Any]) -> Any:
        return self.svc.write_sync(op)

    def count(self, ord_: int) -> int:
        return sum(ord_ in members for members in self.model.values())

    def would_exceed(self, tag: str, ords: set[int]) -> bool:
        return any(self.count(o) + 1 > CAP for o in ords - self.model[tag])

    def pick(self, data: st.DataObject, at_least: int = 1) -> list[int]:
        n = len(self.subjects)
        return data.draw(st.lists(st.integers(0, n - 1), min_size=at_least, max_size=min(n, 6)))

    # rules -----------------------------------------------------------------------------------
    @initialize(target=tags)
    def start(self) -> Any:
        self.add_subjects(6)
        return multiple(self.create_tag(), self.create_tag(), self.create_tag())

    @rule(target=tags)
    def create_tag(self) -> Any:
        name = f"t{next(self.names)}"
        tag = self.write(lambda tx: self.svc.tags.create(tx, self.app, name))
        self.model[tag.ext_id] = set()
        self.ords[tag.ext_id] = tag.ord
        return tag.ext_id

    @rule(n=st.integers(1, 5))
    def add_subjects(self, n: int) -> None:
        ext = [f"s{len(self.subjects) + i}" for i in range(n)]
        got = self.write(lambda tx: self.svc.subjects.create(tx, self.app, ext, 0))
        assert got == list(range(len(self.subjects), len(self.subjects) + n))
        self.subjects += ext

    @precondition(lambda self: self.subjects)
    @rule(tag=tags, data=st.data())
    def tag_subjects(self, tag: str, data: st.DataObject) -> None:
        if tag not in self.model:
            with pytest.raises(NotFound):
                self.write(lambda tx: self.svc.tag_subjects(tx, self.app, tag, [self.subjects[0]]))
            return
        ords = self.pick(data)
        ext = [self.subjects[o] for o in ords]
        if self.would_exceed(tag, set(ords)):
            with pytest.raises(LimitExceeded) as err:
                self.write(lambda tx: self.svc.tag_subjects(tx, self.app, tag, ext))
            assert (err.value.limit, err.value.allowed) == ("tags_per_subject", CAP)
            return
        new = self.write(lambda tx: self.svc.tag_subjects(tx, self.app, tag, ext))
        assert new == len(set(ords) - self.model[tag])
        self.model[tag] |= set(ords)

    @precondition(lambda self: self.subjects)
    @rule(tag=tags, data=st.data())
    def untag_subjects(self, tag: str, data: st.DataObject) -> None:
        if tag not in self.model:
            return
        ords = self.pick(data)
        gone = self.write(lambda tx: self.svc.untag_subjects(tx, self.app, tag, [self.subjects[o] for o in ords]))
        assert gone == len(set(ords) & self.model[tag])
        self.model[tag] -= set(ords)

    @precondition(lambda self: self.subjects)
    @rule(tag=tags, data=st.data())
    def unknown_subject_changes_nothing(self, tag: str, data: st.DataObject) -> None:
        if tag not in self.model:
            return
        ext = [self.subjects[o] for o in self.pick(data)] + ["nobody"]
        with pytest.raises(NotFound):
            self.write(lambda tx: self.svc.tag_subjects(tx, self.app, tag, ext))

    @rule(tag=consumes(tags))
    def drop_tag(self, tag: str) -> None:
        if tag not in self.model:
            return
        self.write(lambda tx: self.svc.tags.delete(tx, self.app, tag))
        del self.model[tag]

    @rule()
    def reopen(self) -> None:
        """Close the store and start over on the same database: the index is rebuilt from rows."""
        self.svc.store.close()
        self.svc = open_service(self.db_url)
        self.reader = Memberships(self.svc.store)

    @precondition(lambda self: self.subjects and self.model)
    @rule(data=st.data())
    def one_group_with_failures(self, data: st.DataObject) -> None:
        """Several ops land in one group commit; those that raise are rolled back alone."""
        live = sorted(self.model)
        plan = data.draw(st.lists(
            st.tuples(st.sampled_from(live), st.booleans(), st.booleans(),
                      st.lists(st.integers(0, len(self.subjects) - 1), min_size=1, max_size=4)),
            min_size=2, max_size=5))
        running, release = threading.Event(), threading.Event()

        def gate(tx: Tx) -> None:
            running.set()
            assert release.wait(WAIT)

        gate_future = self.svc.store.submit(gate)
        assert running.wait(WAIT)
        futures: list[Future[int]] = []
        for tag, add, fail, ords in plan:
            ext = [self.subjects[o] for o in ords]

            def op(tx: Tx, tag: str = tag, add: bool = add, fail: bool = fail, ext: list[str] = ext) -> int:
                change = self.svc.tag_subjects if add else self.svc.untag_subjects
                n = change(tx, self.app, tag, ext)
                if fail:
                    raise Boom()
                return n

            futures.append(self.svc.store.submit(op))
        release.set()
        gate_future.result(WAIT)
        for (tag, add, fail, ords), fut in zip(plan, futures, strict=True):
            ords_set = set(ords)
            if add and self.would_exceed(tag, ords_set):
                with pytest.raises(LimitExceeded):
                    fut.result(WAIT)
            elif fail:
                with pytest.raises(Boom):
                    fut.result(WAIT)
            elif add:
                assert fut.result(WAIT) == len(ords_set - self.model[tag])
                self.model[tag] |= ords_set
            else:
                assert fut.result(WAIT) == len(ords_set & self.model[tag])
                self.model[tag] -= ords_set

    @rule(tag=tags)
    def another_reader_reads_one_tag(self, tag: str) -> None:
        """An index that loads each tag from its chunks when first named (while others write,
        fold and drop) answers each tag as the model does."""
        if tag in self.model:
            members = self.reader.index(self.app, self.svc.store.read()).members(self.ords[tag])
            assert set(members) == self.model[tag]

    @rule(target=tags)
    def a_tag_that_was_never_created(self) -> Any:
        return "999999"

    # the check -------------------------------------------------------------------------------
    @invariant()
    def index_equals_model(self) -> None:
        expected_bitmaps = {self.ords[t]: members for t, members in self.model.items()}
        expected_counts = np.zeros(256, dtype=np.int64)
        for members in self.model.values():
            for o in members:
                expected_counts[o] += 1
        checks = [("warm", self.svc.memberships)]
        if self.cold_check:
            checks.append(("cold", Memberships(self.svc.store)))
        for which, memberships in checks:
            bitmaps, counts = snapshot(self.svc, self.app, memberships)
            assert bitmaps == expected_bitmaps, (which, self.svc.store.read().app_head(self.app.id))
            assert counts.tolist() == expected_counts.tolist(), which
        # the subjects at the cap, as the capped-add check sees them (kept up to date, not rebuilt)
        idx = self.svc.memberships.index(self.app, self.svc.store.read())
        with idx.lock:
            full = set(idx.at_least(CAP))
        assert full == {o for o, n in enumerate(expected_counts.tolist()) if n >= CAP}
        tags = self.svc.tags.all(self.app)
        assert {t.ext_id: t.count for t in tags} == {t: len(m) for t, m in self.model.items()}
        for tag, members in self.model.items():
            page = self.svc.tag_members_page(self.app, tag, None, 1000)
            assert page.items == [self.subjects[o] for o in sorted(members)]


SETTINGS = settings(max_examples=30, stateful_step_count=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


class WarmOnly(MembershipMachine):
    cold_check = False


def test_memberships_match_a_model_of_sets(db_url: str) -> None:
    """The serving index (loaded at reopen, then kept up to date) against the model."""
    WarmOnly.db_url = db_url
    run_state_machine_as_test(WarmOnly, settings=SETTINGS)


def test_a_cold_load_during_folds_matches_the_model(db_url: str) -> None:
    """Also an index loaded from the rows while folds run (as another process would)."""
    MembershipMachine.db_url = db_url
    run_state_machine_as_test(MembershipMachine, settings=SETTINGS)


def test_a_capped_add_changes_nothing(db_url: str) -> None:
    """The cap counts the group's earlier changes: the add that would pass it fails whole."""
    svc = open_service(db_url)
    try:
        app, _ = svc.write_sync(lambda tx: svc.apps.upsert(
            tx, "native", "capped", config={"limits": {"tags_per_subject": 2}}))
        t = [svc.write_sync(lambda tx, i=i: svc.tags.create(tx, app, f"t{i}")) for i in range(3)]
        svc.write_sync(lambda tx: svc.subjects.create(tx, app, ["a", "b", "c"], 0))
        svc.write_sync(lambda tx: svc.tag_subjects(tx, app, t[0].ext_id, ["a", "b"]))
        svc.write_sync(lambda tx: svc.tag_subjects(tx, app, t[1].ext_id, ["a"]))
        head = svc.store.read().app_head(app.id)
        with pytest.raises(LimitExceeded) as err:  # "a" would carry 3; "c" alone would be fine
            svc.write_sync(lambda tx: svc.tag_subjects(tx, app, t[2].ext_id, ["c", "a"]))
        assert (err.value.limit, err.value.value, err.value.allowed) == ("tags_per_subject", 3, 2)
        assert svc.store.read().app_head(app.id) == head  # no log row, no bump
        assert svc.memberships.index(app).members(t[2].ord) == BitMap()
        # re-tagging a subject that already carries the tag is not a new tag for it
        assert svc.write_sync(lambda tx: svc.tag_subjects(tx, app, t[1].ext_id, ["a", "c"])) == 1
    finally:
        svc.store.close()


def test_the_cap_counts_earlier_ops_of_the_same_group(db_url: str) -> None:
    """Two adds in one group commit: the second sees the first's pending tag on the subject."""
    svc = open_service(db_url)
    try:
        app, _ = svc.write_sync(lambda tx: svc.apps.upsert(
            tx, "native", "group-cap", config={"limits": {"tags_per_subject": 1}}))
        t = [svc.write_sync(lambda tx, i=i: svc.tags.create(tx, app, f"t{i}")) for i in range(2)]
        svc.write_sync(lambda tx: svc.subjects.create(tx, app, ["a", "b"], 0))
        running, release = threading.Event(), threading.Event()

        def gate(tx: Tx) -> None:
            running.set()
            assert release.wait(WAIT)

        gate_future = svc.store.submit(gate)
        assert running.wait(WAIT)
        first = svc.store.submit(lambda tx: svc.tag_subjects(tx, app, t[0].ext_id, ["a"]))
        second = svc.store.submit(lambda tx: svc.tag_subjects(tx, app, t[1].ext_id, ["a", "b"]))
        release.set()
        gate_future.result(WAIT)
        assert first.result(WAIT) == 1
        with pytest.raises(LimitExceeded):
            second.result(WAIT)
        idx = svc.memberships.index(app)
        assert (set(idx.members(t[0].ord)), set(idx.members(t[1].ord))) == ({0}, set())
    finally:
        svc.store.close()
