"""/v1/apps/{app}/audiences: count, keyset-paged members, and a streamed export (NDJSON or CSV)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from polytag import bulk
from polytag.api.deps import app_of, service_of
from polytag.api.schemas import AudienceIn, CountOut, Expr, MembersIn, SubjectPage
from polytag.api.tags import decode
from polytag.core import audience as au
from polytag.core import native
from polytag.core.models import App
from polytag.core.service import Service

T = TypeVar("T")
router = APIRouter(tags=["audiences"])


async def _run(service: Service, app: App, expr: Expr, fn: Callable[[], T]) -> T:
    """Sub-millisecond bitmap work runs inline (a thread hop costs more than the query); the
    first query of an app, which loads its bitmaps, and any expression that is not small (its
    parsing and binding grow with it) go to a worker thread, so the event loop never waits."""
    if native.index_is_warm(service, app) and native.is_small(expr):
        return fn()
    return await run_in_threadpool(fn)


@router.post("/apps/{app}/audiences/count", response_model=CountOut)
async def count(request: Request, app: str, body: AudienceIn) -> CountOut:
    """How many subjects the expression selects."""
    svc, a = service_of(request), app_of(request, app)
    return CountOut(count=await _run(svc, a, body.expr, lambda: native.audience_count(svc, a, body.expr)))


@router.post("/apps/{app}/audiences/members", response_model=SubjectPage)
async def members(request: Request, app: str, body: MembersIn) -> SubjectPage:
    """A page of the audience in subject order; `next` is the cursor of the following page."""
    svc, a = service_of(request), app_of(request, app)
    after = decode(body.cursor)

    def page() -> SubjectPage:
        got = native.audience(svc, a, body.expr).members
        ords, last = au.page_after(got, after, body.limit)
        return SubjectPage(items=svc.subjects.ext_ids(a, ords), next=au.encode_cursor(last), total=len(got))

    return await _run(svc, a, body.expr, page)


@router.post("/apps/{app}/audiences/export", response_class=StreamingResponse,
             responses={200: {"content": {bulk.NDJSON: {}, bulk.CSV: {}}}})
def export(request: Request, app: str, body: AudienceIn) -> StreamingResponse:
    """The whole audience streamed, `Accept: text/csv` for CSV, NDJSON otherwise; no size cap."""
    svc, a = service_of(request), app_of(request, app)
    fmt = "csv" if "text/csv" in request.headers.get("accept", "") else "ndjson"
    got = native.audience(svc, a, body.expr).members  # evaluated now: a bad expression is a 400
    return StreamingResponse(bulk.export_chunks(svc, a, got, fmt),
                             media_type=bulk.CSV if fmt == "csv" else bulk.NDJSON)
