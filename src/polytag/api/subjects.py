"""/v1/apps/{app}/subjects: keyset-paged listing, one subject with its tags, creating subjects."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from pydantic import Field

from polytag.api.deps import app_of, service_of
from polytag.api.schemas import Strict, SubjectOut, SubjectPage, Text
from polytag.api.tags import decode, group_ids, tag_out
from polytag.core import audience as au
from polytag.core.text import storable
from polytag.errors import NotFound

router = APIRouter(tags=["subjects"])


class SubjectsIn(Strict):
    ids: list[Text] = Field(min_length=1, max_length=10_000)


@router.get("/apps/{app}/subjects", response_model=SubjectPage)
def list_subjects(request: Request, app: str, cursor: str | None = None,
                  limit: int = Query(1000, ge=1, le=10_000)) -> SubjectPage:
    """Subjects in arrival order; pass `next` back as `cursor` for the following page."""
    svc, a = service_of(request), app_of(request, app)
    after = decode(cursor)
    rows = svc.store.read()
    got = rows.subjects_page(a.id, -1 if after is None else after, limit + 1, active_only=False)
    more = len(got) > limit
    got = got[:limit]
    nxt = au.encode_cursor(int(got[-1][0])) if more and got else None
    head = rows.app_head(a.id)  # dense ordinals: next_subject counts every subject
    return SubjectPage(items=[str(r[1]) for r in got], next=nxt, total=int(head[1]) if head else 0)


@router.get("/apps/{app}/subjects/{subject}", response_model=SubjectOut)
def get_subject(request: Request, app: str, subject: str) -> SubjectOut:
    svc, a = service_of(request), app_of(request, app)
    if not storable(subject):
        raise NotFound("subject", subject)
    s = svc.subject(a, subject)
    groups = group_ids(svc, a)
    tags = [tag_out(t, groups) for t in svc.subject_tags(a, subject)]
    return SubjectOut(id=s.ext_id, created_at=s.created_at, props=dict(s.props), tags=tags)


@router.post("/apps/{app}/subjects", status_code=201)
async def create_subjects(request: Request, app: str, body: SubjectsIn) -> dict[str, int]:
    """Create subjects not yet known (idempotent); answers how many were new."""
    svc, a = service_of(request), app_of(request, app)

    def op(tx: object) -> int:
        before = len(svc.subjects.find(a, body.ids, tx))  # type: ignore[arg-type]
        svc.subjects.create(tx, a, body.ids, svc.now_s())  # type: ignore[arg-type]
        return len(set(body.ids)) - before

    return {"created": await svc.write(op, app=a)}
