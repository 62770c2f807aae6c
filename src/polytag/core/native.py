"""Native apps (no vendor face) and the dialect-neutral bulk operations the native API and CLI share.

Native limits preset: no cap on tags per app or per subject, tag names up to 128 characters,
pages up to 10,000 subjects, membership batches up to 10,000 pairs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pyroaring import BitMap

from polytag.core import audience as au
from polytag.core.expr import ExprError, Ref, TagNames, bind, parse
from polytag.core.limits import NATIVE, NATIVE_BATCH_MAX, check_limits
from polytag.core.models import App, Tag
from polytag.core.service import Service
from polytag.core.tags import tag_from_row
from polytag.core.text import check_text, storable
from polytag.errors import Invalid, LimitExceeded, NotFound
from polytag.store import Tx

KIND = "native"
BATCH_MAX = NATIVE_BATCH_MAX
LIMITS = NATIVE


def app_config(limits: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The config stored on a native app: the preset's limits, overridden by `limits`."""
    return {"limits": LIMITS.with_overrides(limits).to_dict()}


def create_app(service: Service, name: str, limits: Mapping[str, Any] | None = None,
               tags: Sequence[str] = (), subjects: Sequence[str] = ()) -> Callable[[Tx], tuple[App, bool]]:
    """An op creating (or updating) the native app `name` with optional tags and subjects.

    Everything is checked before the op is made (a bad limit is refused, not stored)."""
    if not isinstance(name, str) or not name.strip() or len(name) > 128:
        raise Invalid("name", "empty" if not str(name or "").strip() else "too_long", name)
    check_text("name", name)
    check_limits(limits)
    for s in subjects:
        check_text("subject", s)

    def op(tx: Tx) -> tuple[App, bool]:
        app, created = service.apps.upsert(tx, KIND, name, config=app_config(limits), now=service.clock.now())
        for tag in tags:
            service.tags.create(tx, app, tag, now_ms=service.now_ms(), exists_ok=True)
        if subjects:
            service.subjects.create(tx, app, list(subjects), service.now_s())
        return app, created

    return op


def seed_app(service: Service, entry: Mapping[str, Any]) -> App:
    """`{dialect: native, name, limits: {..}, tags: [names], subjects: [ids]}`."""
    op = create_app(service, str(entry["name"]), entry.get("limits"),
                    [str(t) for t in entry.get("tags") or []], [str(s) for s in entry.get("subjects") or []])
    return service.write_sync(op)[0]


# tags by name or id -------------------------------------------------------------
def find_tag(service: Service, app: App, key: str, rows: Any = None) -> Tag:
    """The tag named `key` (unique name) or with id `key`; NotFound otherwise."""
    if not storable(key):
        raise NotFound("tag", key)
    rows = rows or service.store.read()
    named = rows.tags_by_name(app.id, key)
    if len(named) == 1:
        return service.tags.get(app, named[0][1], rows)
    return service.tags.get(app, key, rows)


# audiences ----------------------------------------------------------------------
@dataclass
class Audience:
    """An evaluated audience: its members as ordinals (a bitmap the caller owns)."""

    members: BitMap


def audience(service: Service, app: App, expr: Any) -> Audience:
    """Evaluate a JSON/text expression at the app's head (ExprError on bad input)."""
    rows = service.store.read()
    bound = bind(parse(expr), tag_finder(app, rows))
    idx = service.memberships.index(app, rows)
    return Audience(au.evaluate(bound, idx, universe(rows, app)))


def is_small(expr: Any, terms: int = 16, chars: int = 512) -> bool:
    """True when `expr` is cheap to parse, bind and evaluate: a short text, or a JSON tree of at
    most `terms` nodes (counted with an early stop, so a huge tree costs no more than `terms`)."""
    if isinstance(expr, str):
        return len(expr) <= chars
    seen, todo = 0, [expr]
    while todo:
        node = todo.pop()
        seen += 1
        if seen > terms:
            return False
        if isinstance(node, str):
            if len(node) > chars:
                return False
        elif isinstance(node, dict):
            todo += list(node.values())[:terms]
        elif isinstance(node, list):
            todo += node[:terms + 1]
    return True


def index_is_warm(service: Service, app: App) -> bool:
    """True when the app's bitmaps are in memory (a query costs microseconds, not a load)."""
    return app.id in service.memberships._indexes


def audience_count(service: Service, app: App, expr: Any) -> int:
    rows = service.store.read()
    bound = bind(parse(expr), tag_finder(app, rows))
    idx = service.memberships.index(app, rows)
    return au.count(bound, idx, universe(rows, app))


def universe(rows: Any, app: App) -> BitMap:
    """Every subject the app ever had (ordinals are dense and never reused)."""
    head = rows.app_head(app.id)
    return au.universe_of(int(head[1]) if head else 0)


def tag_finder(app: App, rows: Any) -> Callable[[Ref], int]:
    """Resolve references with indexed look-ups of just the tags named (not the whole tag list),
    each distinct reference once however often the expression repeats it."""
    found: dict[tuple[str, bool], int] = {}

    def find(ref: Ref) -> int:
        key = (ref.key, ref.by_id)
        hit_ord = found.get(key)
        if hit_ord is not None:
            return hit_ord
        if not storable(ref.key):  # no tag holds such a name, and no store may be asked for it
            raise ExprError("unknown_tag", ref.at, ref.key)
        named = [] if ref.by_id else rows.tags_by_name(app.id, ref.key)
        hit = named or ([row] if (row := rows.tag_by_ext(app.id, ref.key)) is not None else [])
        found[key] = got = TagNames(tag_from_row(r) for r in hit).find(ref)
        return got

    return find


def _tags(service: Service, app: App, rows: Any) -> list[Tag]:
    return [tag_from_row(r) for r in rows.tags(app.id)]


# memberships in bulk ------------------------------------------------------------
@dataclass
class BulkResult:
    """What a bulk change did: pairs changed, subjects and tags created."""

    changed: int = 0
    created_subjects: list[str] = field(default_factory=list)
    created_tags: list[str] = field(default_factory=list)


def change_memberships(
    service: Service, tx: Tx, app: App, pairs: Sequence[tuple[str, str]], *, remove: bool = False,
    create_subjects: bool = False, create_tags: bool = False, cap: int | None = None,
) -> BulkResult:
    """Add (or remove) (subject, tag) pairs, all or nothing; tags by name or id."""
    if cap is not None and len(pairs) > cap:
        raise LimitExceeded("batch:memberships", len(pairs), cap)
    out = BulkResult()
    tag_ords = _tag_ords(service, tx, app, {t for _, t in pairs}, create_tags and not remove, out)
    subjects = list(dict.fromkeys(s for s, _ in pairs))
    if create_subjects and not remove:
        known = service.subjects.find(app, subjects, tx)
        out.created_subjects = [s for s in subjects if s not in known]
        ords = service.subjects.create(tx, app, subjects, service.now_s())
    else:
        ords = service.subjects.resolve(app, subjects, tx)
    by_ext = dict(zip(subjects, ords, strict=True))
    grouped: dict[int, list[int]] = {}
    for s, t in pairs:
        grouped.setdefault(tag_ords[t], []).append(by_ext[s])
    for tag_ord, members in grouped.items():
        bm = BitMap(members)
        if remove:
            out.changed += len(service.memberships.remove(tx, app, tag_ord, bm))
        else:
            out.changed += len(service.memberships.add(tx, app, tag_ord, bm, app.limits.tags_per_subject))
    return out


def _tag_ords(service: Service, tx: Tx, app: App, keys: Iterable[str], create: bool,
              out: BulkResult) -> dict[str, int]:
    names = TagNames(_tags(service, app, tx))
    found: dict[str, int] = {}
    for key in sorted(keys):
        try:
            found[key] = names.find(Ref(key, key))
        except Invalid as exc:
            if exc.reason != "unknown_tag":
                raise Invalid("tag", "ambiguous", key, f"tag name {key!r} is ambiguous: give its id") from exc
            if not create:
                raise NotFound("tag", key) from exc
            found[key] = service.tags.create(tx, app, key, now_ms=service.now_ms()).ord
            out.created_tags.append(key)
    return found
