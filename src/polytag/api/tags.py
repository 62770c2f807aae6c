"""/v1/apps/{app}/tags and /groups: tags and tag groups (ids, names, group, order, member counts)."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response

from polytag.api.deps import app_of, service_of
from polytag.api.schemas import (
    GroupCreate,
    GroupOut,
    GroupPatch,
    SubjectPage,
    TagCreate,
    TagOut,
    TagPatch,
)
from polytag.core import audience as au
from polytag.core.models import App, Tag
from polytag.core.native import find_tag
from polytag.core.service import Service
from polytag.errors import Invalid

router = APIRouter(tags=["tags"])


def group_ids(service: Service, app: App) -> dict[int, str]:
    return {g.ord: g.ext_id for g in service.tags.groups(app)}


def tag_out(tag: Tag, groups: dict[int, str], count: int | None = None) -> TagOut:
    return TagOut(id=tag.ext_id, name=tag.name, order=tag.order, version=tag.version,
                  group=groups.get(tag.group_ord) if tag.group_ord is not None else None,
                  count=tag.count if count is None else count)


def _one(service: Service, app: App, key: str) -> TagOut:
    tag = find_tag(service, app, key)
    count = len(service.memberships.index(app).members(tag.ord))
    return tag_out(tag, group_ids(service, app), count)


@router.get("/apps/{app}/tags", response_model=list[TagOut])
def list_tags(request: Request, app: str) -> list[TagOut]:
    svc, a = service_of(request), app_of(request, app)
    groups = group_ids(svc, a)
    return [tag_out(t, groups) for t in svc.tags.all(a)]


@router.get("/apps/{app}/tags/{tag}", response_model=TagOut)
def get_tag(request: Request, app: str, tag: str) -> TagOut:
    """A tag by id, or by name when the name is unique."""
    return _one(service_of(request), app_of(request, app), tag)


@router.post("/apps/{app}/tags", response_model=TagOut, status_code=201)
async def create_tag(request: Request, app: str, body: TagCreate) -> TagOut:
    svc, a = service_of(request), app_of(request, app)

    def op(tx: object) -> Tag:
        if body.group is not None:
            listing = svc.groups.add_tags(tx, a, [(body.name, body.order)], group_ext=body.group,  # type: ignore[arg-type]
                                              now_ms=svc.now_ms())
            return listing.tags[0]
        return svc.tags.create(tx, a, body.name, order=body.order, now_ms=svc.now_ms())  # type: ignore[arg-type]

    tag = await svc.write(op, app=a)
    return _one(svc, a, tag.ext_id)


@router.patch("/apps/{app}/tags/{tag}", response_model=TagOut)
async def update_tag(request: Request, app: str, tag: str, body: TagPatch) -> TagOut:
    svc, a = service_of(request), app_of(request, app)
    if body.name is None and body.order is None:
        raise Invalid("name_or_order", "empty")
    found = find_tag(svc, a, tag)
    unique = "group" if found.group_ord is not None else "app"
    await svc.write(lambda tx: svc.tags.update(tx, a, found.ext_id, name=body.name, order=body.order,
                                               unique=unique), app=a)
    return _one(svc, a, found.ext_id)


@router.delete("/apps/{app}/tags/{tag}", status_code=204)
async def delete_tag(request: Request, app: str, tag: str) -> Response:
    """Delete a tag and its memberships (a group left empty goes too)."""
    svc, a = service_of(request), app_of(request, app)
    found = find_tag(svc, a, tag)
    await svc.write(lambda tx: svc.groups.delete_tags(tx, a, [found.ext_id]), app=a)
    return Response(status_code=204)


@router.get("/apps/{app}/tags/{tag}/members", response_model=SubjectPage)
def tag_members(request: Request, app: str, tag: str, cursor: str | None = None,
                limit: int = Query(1000, ge=1, le=10_000)) -> SubjectPage:
    """Members of a tag in subject order, keyset-paged by an opaque cursor."""
    svc, a = service_of(request), app_of(request, app)
    found = find_tag(svc, a, tag)
    after = decode(cursor)
    idx = svc.memberships.index(a)
    with idx.lock:
        bm = idx.members(found.ord)
        ords, last = au.page_after(bm, after, limit)
        total = len(bm)
    return SubjectPage(items=svc.subjects.ext_ids(a, ords), next=au.encode_cursor(last), total=total)


def decode(cursor: str | None) -> int | None:
    try:
        return au.decode_cursor(cursor)
    except ValueError as exc:
        raise Invalid("cursor", "malformed", cursor) from exc


# groups ---------------------------------------------------------------------------
@router.get("/apps/{app}/groups", response_model=list[GroupOut])
def list_groups(request: Request, app: str) -> list[GroupOut]:
    return list_groups_of(service_of(request), app_of(request, app))


def _group(svc: Service, a: App, ext_id: str) -> GroupOut:
    for g in list_groups_of(svc, a):
        if g.id == ext_id:
            return g
    raise Invalid("group", "vanished", ext_id)


def list_groups_of(svc: Service, a: App) -> list[GroupOut]:
    idx = svc.memberships.index(a)
    return [GroupOut(id=g.group.ext_id, name=g.group.name, order=g.group.order,
                     tags=[tag_out(t, {g.group.ord: g.group.ext_id}, len(idx.members(t.ord))) for t in g.tags])
            for g in svc.groups.listing(a)]


@router.post("/apps/{app}/groups", response_model=GroupOut, status_code=201)
async def create_group(request: Request, app: str, body: GroupCreate) -> GroupOut:
    """Create a group with its tags (a group is never empty); an existing name adds to that group."""
    svc, a = service_of(request), app_of(request, app)
    listing = await svc.write(lambda tx: svc.groups.add_tags(
        tx, a, [(t.name, t.order) for t in body.tags], group_name=body.name, group_order=body.order,
        now_ms=svc.now_ms()), app=a)
    return _group(svc, a, listing.group.ext_id)


@router.patch("/apps/{app}/groups/{group}", response_model=GroupOut)
async def update_group(request: Request, app: str, group: str, body: GroupPatch) -> GroupOut:
    svc, a = service_of(request), app_of(request, app)
    await svc.write(lambda tx: svc.groups.edit_group(tx, a, group, name=body.name, order=body.order), app=a)
    return _group(svc, a, group)


@router.delete("/apps/{app}/groups/{group}", status_code=204)
async def delete_group(request: Request, app: str, group: str) -> Response:
    """Delete a group with its tags and their memberships."""
    svc, a = service_of(request), app_of(request, app)
    await svc.write(lambda tx: svc.groups.delete_groups(tx, a, [group]), app=a)
    return Response(status_code=204)
