"""/v1/apps/{app}/memberships: add or remove up to 10,000 (subject, tag) pairs a call, atomically."""

from __future__ import annotations

from fastapi import APIRouter, Request

from polytag.api.deps import app_of, service_of
from polytag.api.schemas import MembershipsIn, MembershipsOut
from polytag.core import native

router = APIRouter(tags=["memberships"])


async def _change(request: Request, app: str, body: MembershipsIn, remove: bool) -> MembershipsOut:
    svc, a = service_of(request), app_of(request, app)
    pairs = [(p.subject, p.tag) for p in body.pairs]
    done = await svc.write(lambda tx: native.change_memberships(
        svc, tx, a, pairs, remove=remove, create_subjects=body.create_subjects,
        create_tags=body.create_tags, cap=native.BATCH_MAX), pure=True, app=a)  # no app or token row
    return MembershipsOut(changed=done.changed, created_subjects=done.created_subjects,
                          created_tags=done.created_tags)


@router.post("/apps/{app}/memberships/add", response_model=MembershipsOut)
async def add_memberships(request: Request, app: str, body: MembershipsIn) -> MembershipsOut:
    """Tag subjects (tags by name or id); all or nothing. `changed` counts new memberships."""
    return await _change(request, app, body, remove=False)


@router.post("/apps/{app}/memberships/remove", response_model=MembershipsOut)
async def remove_memberships(request: Request, app: str, body: MembershipsIn) -> MembershipsOut:
    """Untag subjects; all or nothing. `changed` counts memberships that existed."""
    return await _change(request, app, body, remove=True)
