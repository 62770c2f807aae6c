"""The Service: the one thing front ends call. App first in every method; rules live here."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, TypeVar

from pyroaring import BitMap

from polytag.core.apps import Apps
from polytag.core.clock import Clock
from polytag.core.credentials import Tokens
from polytag.core.ids import et_id, random_et_id
from polytag.core.im import ImCore
from polytag.core.limits import Limits
from polytag.core.memberships import Memberships
from polytag.core.models import App, Page, Subject, Tag
from polytag.core.resident import Resident
from polytag.core.subjects import Subjects
from polytag.core.tags import Tags
from polytag.errors import Forbidden, Invalid, LimitExceeded, NotFound
from polytag.store import Store, Tx

T = TypeVar("T")


def default_ids(id_seed: str) -> Callable[[App, str, int], str]:
    """Vendor-looking ids by the app's scheme: "numeric" (WeChat), "et" (JuziBot), else ordinal.

    JuziBot ids come from `secrets` unless an id seed is set (then they are the same for the
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
    ) -> None:
        self.store = store
        self.clock = clock or Clock()
        self.apps = Apps(store, presets or {})
        # the apps whose index and directory stay in memory: `index_memory` bytes at most (None: all)
        self.resident = Resident(index_memory)
        self.memberships = Memberships(store, resident=self.resident)
        self.subjects = Subjects(store, resident=self.resident)
        self.tags = Tags(store, self.memberships, default_ids(id_seed))
        self.tokens = Tokens(store, self.clock)
        # front-end hooks: `await interceptor(call)` may return an error to answer instead of
        # running the call: call_interceptors before the caller is authenticated (injected
        # faults), auth_interceptors once it proved its app (daily quotas: a stranger spends
        # nothing of an app's); `observer(call, status, payload, seconds)` sees every answer
        # (journal, metrics). The control plane registers them.
        self.call_interceptors: list[Callable[[Any], Awaitable[BaseException | None]]] = []
        self.auth_interceptors: list[Callable[[Any], Awaitable[BaseException | None]]] = []
        self.call_observers: list[Callable[[Any, int, Any, float], None]] = []
        # --- dialect-owned core parts (each added by its own line) ---
        self.im = ImCore(self)  # Tencent IM: accounts, user tags, attributes, pushes, quotas
        # --- end of dialect-owned core parts ---

    # running writes ---------------------------------------------------------
    async def write(self, op: Callable[[Tx], T], pure: bool = False, app: App | None = None) -> T:
        """Run `op` in the next group commit and wait until it is durable. `pure`: the op
        writes no app row and no access token (memberships, tags, subjects: the caches of apps
        and tokens stay warm; see polytag.store.generation). `app`: the op writes rows of this
        app only, so its group locks only this app (None: it may touch any app, and locks all)."""
        return await asyncio.wrap_future(self.store.submit(op, pure, None if app is None else app.id))

    def write_sync(self, op: Callable[[Tx], T]) -> T:
        return self.store.write(op)

    def now_ms(self) -> int:
        return int(self.clock.now() * 1000)

    def now_s(self) -> int:
        """Whole seconds: a subject's created_at (WeChat's subscribe_time) is in seconds."""
        return int(self.clock.now())

    # subjects ---------------------------------------------------------------
    def resolve(self, app: App, ext_ids: Sequence[str], tx: Tx | None = None) -> list[int]:
        """Ordinals of `ext_ids`, in order; NotFound for nobody's, Forbidden("other_app") for another app's."""
        ords = self.subjects.ords_of(app, ext_ids, tx)
        if None not in ords:
            return ords  # type: ignore[return-value]  # no None
        for ext, o in zip(ext_ids, ords, strict=True):
            if o is None:
                holders = (tx or self.store.read()).apps_holding(ext)
                if any(h != app.id for h in holders):
                    raise Forbidden("other_app", ext)
                raise NotFound("subject", ext)
        return ords  # type: ignore[return-value]  # no None left

    def subject(self, app: App, ext_id: str) -> Subject:
        rows = self.store.read()
        (ord_,) = self.resolve(app, [ext_id])
        row = rows.subject(app.id, ord_)
        assert row is not None
        return _subject(row)

    def subjects_by_ext(self, app: App, ext_ids: Sequence[str]) -> list[Subject]:
        ords = self.resolve(app, ext_ids)
        by_ord = {r[0]: _subject(r) for r in self.store.read().subjects_by_ords(app.id, ords)}
        return [by_ord[o] for o in ords]

    def subject_tags(self, app: App, ext_id: str) -> list[Tag]:
        """Tags the subject carries, in tag creation order."""
        (ord_,) = self.resolve(app, [ext_id])
        idx = self.memberships.index(app)
        with idx.lock:
            ords = set(idx.tags_of(ord_))
        return [t for t in self.tags.all(app, index=idx) if t.ord in ords]

    def subjects_page(self, app: App, after: str | None, limit: int) -> Page[str]:
        """Active subjects in arrival order after the subject `after` (keyset on the ordinal)."""
        rows = self.store.read()
        after_ord = self.resolve(app, [after])[0] if after else -1
        got = rows.subjects_page(app.id, after_ord, limit)
        items = [r[1] for r in got]
        return Page(items, items[-1] if items else None, rows.count_subjects(app.id))

    def set_blacklisted(self, tx: Tx, app: App, ext_ids: Sequence[str], flag: bool) -> None:
        """Block or unblock subjects, all or nothing. Order: batch, subjects."""
        self.check_batch(app, "blacklist", len(ext_ids))
        tx.set_blacklisted(app.id, self.resolve(app, ext_ids, tx), flag)

    def blacklist_page(self, app: App, after: str | None, limit: int) -> Page[str]:
        rows = self.store.read()
        after_ord = self.resolve(app, [after])[0] if after else -1
        items = [r[1] for r in rows.blacklist_page(app.id, after_ord, limit)]
        return Page(items, items[-1] if items else None, rows.count_blacklisted(app.id))

    def update_remark(self, tx: Tx, app: App, ext_id: str, remark: str) -> None:
        max_chars = app.limits.remark_max
        if max_chars is not None and len(remark) > max_chars:
            raise Invalid("remark", "too_long", remark)
        (ord_,) = self.resolve(app, [ext_id], tx)
        tx.set_subject_fields(app.id, ord_, remark=remark)

    # memberships ------------------------------------------------------------
    def check_batch(self, app: App, kind: str, size: int) -> None:
        cap = app.limits.batch_max(kind)
        if size == 0 or (cap is not None and size > cap):
            raise LimitExceeded(f"batch:{kind}", size, cap or 0)

    def tag_subjects(self, tx: Tx, app: App, tag_ext: str, ext_ids: Sequence[str], batch: str = "tagging") -> int:
        """Give `tag_ext` to every subject, all or nothing. Order: batch, tag, subjects, cap."""
        self.check_batch(app, batch, len(ext_ids))
        tag = self.tags.get(app, tag_ext, tx)
        ords = BitMap(self.resolve(app, ext_ids, tx))
        new = self.memberships.add(tx, app, tag.ord, ords, app.limits.tags_per_subject)
        return len(new)

    def untag_subjects(self, tx: Tx, app: App, tag_ext: str, ext_ids: Sequence[str], batch: str = "tagging") -> int:
        self.check_batch(app, batch, len(ext_ids))
        tag = self.tags.get(app, tag_ext, tx)
        ords = BitMap(self.resolve(app, ext_ids, tx))
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
                (after_ord,) = self.resolve(app, [after])
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
