"""The Service: the one thing front ends call. App first in every method; rules live here."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from pyroaring import BitMap

from polytag.core.apps import Apps
from polytag.core.batches import check_batch
from polytag.core.clock import Clock
from polytag.core.credentials import Tokens
from polytag.core.groups import Groups
from polytag.core.ids import et_id, random_et_id
from polytag.core.limits import Limits
from polytag.core.memberships import Memberships
from polytag.core.models import App, Page, Subject, Tag
from polytag.core.parts import Deps, Parts, PartsFactory
from polytag.core.resident import Resident
from polytag.core.subjects import Subjects
from polytag.core.tags import Tags
from polytag.errors import Invalid
from polytag.store import Store, Tx

T = TypeVar("T")


def default_ids(id_seed: str) -> Callable[[App, str, int], str]:
    """Vendor-looking ids by the app's scheme: "numeric" (a base plus the ordinal), "et" (opaque
    random ids), else the ordinal.

    "et" ids come from `secrets` unless an id seed is set (then they are the same for the
    same app, kind and ordinal): without one, nobody can predict another app's ids."""

    def make(app: App, kind: str, ordinal: int) -> str:
        scheme = app.config.get("id_scheme", "ordinal")
        if scheme == "numeric":
            return str(int(app.config.get("id_base", 100)) + ordinal)
        if scheme == "et":
            return et_id(app.name, kind, ordinal, id_seed) if id_seed else random_et_id()
        return str(ordinal)

    return make


class Service:
    def __init__(
        self, store: Store, presets: Mapping[str, Limits] | None = None,
        clock: Clock | None = None, id_seed: str = "", index_memory: int | None = None,
        parts: Mapping[str, PartsFactory] | None = None,
    ) -> None:
        """`presets`: each dialect's limits by name; `parts`: each dialect's parts factory by
        name (polytag.dialects.part_factories), built here into `self.parts`."""
        self.store = store
        self.clock = clock or Clock()
        self.apps = Apps(store, presets or {})
        # the apps whose index and directory stay in memory: `index_memory` bytes at most (None: all)
        self.resident = Resident(index_memory)
        self.memberships = Memberships(store, resident=self.resident)
        self.subjects = Subjects(store, resident=self.resident)
        self.tags = Tags(store, self.memberships, default_ids(id_seed))
        self.tokens = Tokens(store, self.clock, self.apps)
        self.groups = Groups(store, self.tags)
        # front-end hooks: `await interceptor(call)` may return an error to answer instead of
        # running the call: call_interceptors before the caller is authenticated (injected
        # faults), auth_interceptors once it proved its app (daily quotas: a stranger spends
        # nothing of an app's); `observer(call, status, payload, seconds)` sees every answer
        # (journal, metrics). The control plane registers them.
        self.call_interceptors: list[Callable[[Any], Awaitable[BaseException | None]]] = []
        self.auth_interceptors: list[Callable[[Any], Awaitable[BaseException | None]]] = []
        self.call_observers: list[Callable[[Any, int, Any, float], None]] = []
        # `sink(app, event)` gets the events a dialect raises while answering a call (a mass send
        # finished, say): the callbacks registry pushes them to the developer's server
        self.event_sinks: list[Callable[[App, Any], None]] = []
        self.deps = Deps(store, self.clock, self.resident, self.apps, self.memberships, self.subjects,
                         self.tags, self.groups, self.tokens)
        self.parts = Parts(self.deps, parts)  # the state each dialect adds, by dialect name

    def forget(self, app_id: int) -> None:
        """Every in-memory state about the app, the core's and the parts' (its rows were
        replaced or dropped: reset, snapshot load)."""
        self.memberships.forget(app_id)
        self.subjects.forget(app_id)
        self.apps.invalidate(app_id)
        self.parts.forget(app_id)

    # running writes ---------------------------------------------------------
    async def write(self, op: Callable[[Tx], T], pure: bool = False, app: App | None = None) -> T:
        """Run `op` in the next group commit and wait until it is durable. `pure`: the op
        writes no app row and no access token (memberships, tags, subjects: the caches of apps
        and tokens stay warm; see polytag.store.generation). `app`: the op writes rows of this
        app only, so its group locks only this app (None: it may touch any app, and locks all)."""
        return await asyncio.wrap_future(self.store.submit(op, pure, None if app is None else app.id))

    def emit(self, app: App, event: Any) -> None:
        """Hand `event` (a dialect's event record) to every sink; none registered: it goes nowhere."""
        for sink in self.event_sinks:
            sink(app, event)

    def write_sync(self, op: Callable[[Tx], T]) -> T:
        return self.store.write(op)

    def now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    def now_s(self) -> int:
        """Whole seconds: a subject's created_at is in seconds."""
        return int(self.clock.now())

    # subjects ---------------------------------------------------------------
    def subject(self, app: App, ext_id: str) -> Subject:
        rows = self.store.read()
        (ord_,) = self.subjects.resolve(app, [ext_id])
        row = rows.subject(app.id, ord_)
        assert row is not None
        return _subject(row)

    def subjects_by_ext(self, app: App, ext_ids: Sequence[str]) -> list[Subject]:
        ords = self.subjects.resolve(app, ext_ids)
        by_ord = {r[0]: _subject(r) for r in self.store.read().subjects_by_ords(app.id, ords)}
        return [by_ord[o] for o in ords]

    def subject_tags(self, app: App, ext_id: str) -> list[Tag]:
        """Tags the subject carries, in tag creation order."""
        (ord_,) = self.subjects.resolve(app, [ext_id])
        idx = self.memberships.index(app)
        with idx.lock:
            ords = set(idx.tags_of(ord_))
        return [t for t in self.tags.all(app, index=idx) if t.ord in ords]

    def subjects_page(self, app: App, after: str | None, limit: int) -> Page[str]:
        """Active subjects in arrival order after the subject `after` (keyset on the ordinal)."""
        rows = self.store.read()
        after_ord = self.subjects.resolve(app, [after])[0] if after else -1
        got = rows.subjects_page(app.id, after_ord, limit)
        items = [r[1] for r in got]
        return Page(items, items[-1] if items else None, rows.count_subjects(app.id))

    def set_blacklisted(self, tx: Tx, app: App, ext_ids: Sequence[str], flag: bool) -> None:
        """Block or unblock subjects, all or nothing. Order: batch, subjects."""
        check_batch(app, "blacklist", len(ext_ids))
        tx.set_blacklisted(app.id, self.subjects.resolve(app, ext_ids, tx), flag)

    def blacklist_page(self, app: App, after: str | None, limit: int) -> Page[str]:
        rows = self.store.read()
        after_ord = self.subjects.resolve(app, [after])[0] if after else -1
        items = [r[1] for r in rows.blacklist_page(app.id, after_ord, limit)]
        return Page(items, items[-1] if items else None, rows.count_blacklisted(app.id))

    def update_remark(self, tx: Tx, app: App, ext_id: str, remark: str) -> None:
        max_chars = app.limits.remark_max
        if max_chars is not None and len(remark) > max_chars:
            raise Invalid("remark", "too_long", remark)
        (ord_,) = self.subjects.resolve(app, [ext_id], tx)
        tx.set_subject_fields(app.id, ord_, remark=remark)

    # memberships ------------------------------------------------------------
    def check_batch(self, app: App, kind: str, size: int) -> None:
        check_batch(app, kind, size)

    def tag_subjects(self, tx: Tx, app: App, tag_ext: str, ext_ids: Sequence[str], batch: str = "tagging") -> int:
        """Give `tag_ext` to every subject, all or nothing. Order: batch, tag, subjects, cap."""
        check_batch(app, batch, len(ext_ids))
        tag = self.tags.get(app, tag_ext, tx)
        ords = BitMap(self.subjects.resolve(app, ext_ids, tx))
        new = self.memberships.add(tx, app, tag.ord, ords, app.limits.tags_per_subject)
        return len(new)

    def untag_subjects(self, tx: Tx, app: App, tag_ext: str, ext_ids: Sequence[str], batch: str = "tagging") -> int:
        check_batch(app, batch, len(ext_ids))
        tag = self.tags.get(app, tag_ext, tx)
        ords = BitMap(self.subjects.resolve(app, ext_ids, tx))
        return len(self.memberships.remove(tx, app, tag.ord, ords))

    def tag_members_page(self, app: App, tag_ext: str, after: str | None, limit: int) -> Page[str]:
        """Members of a tag in ordinal order after the member `after` (keyset on the bitmap's rank)."""
        rows = self.store.read()
        tag = self.tags.get(app, tag_ext, rows)
        idx = self.memberships.index(app, rows)
        with idx.lock:
            bm = idx.members(tag.ord)
            start = 0
            if after:
                (after_ord,) = self.subjects.resolve(app, [after])
                start = bm.rank(after_ord)
            ords = list(bm[start:start + limit])
            total = len(bm)
        items = self.subjects.ext_ids(app, ords, rows)
        return Page(items, items[-1] if items else None, total)


def _subject(row: tuple[Any, ...]) -> Subject:
    ord_, ext, active, black, remark, created, props = row
    return Subject(
        ord=int(ord_), ext_id=str(ext), active=bool(active), remark=str(remark), created_at=int(created),
        props={**json.loads(str(props)), "blacklisted": bool(black)},
    )
