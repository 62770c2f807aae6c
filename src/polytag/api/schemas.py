"""Pydantic models of the native API's bodies and answers (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from polytag.core.limits import INT64_MAX, INT64_MIN
from polytag.core.native import BATCH_MAX
from polytag.core.text import storable


def _storable(value: str) -> str:
    if not storable(value):
        raise ValueError("text may not hold NUL or a lone surrogate (not UTF-8)")
    return value


# text a store can hold (422 otherwise), and an order that fits the stores' 64-bit columns
Text = Annotated[str, AfterValidator(_storable)]
Order = Annotated[int, Field(ge=INT64_MIN, le=INT64_MAX, description="sort order (signed 64-bit)")]

Expr = dict[str, Any] | str
EXPR_DOC = ('JSON ({"tag": "name or id"}, {"and": [..]}, {"or": [..]}, {"not": E}) '
            'or text: "广东 & (vip | 星标组) & !blacklist"')


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AppOut(BaseModel):
    name: str
    dialect: str
    subjects: int
    tags: int
    limits: dict[str, Any]


class AppCreate(Strict):
    name: Text = Field(min_length=1, max_length=128)
    limits: dict[str, Any] | None = Field(None, description="overrides of the native preset; unknown "
                                          "keys and values of the wrong type or range are refused")


class TagOut(BaseModel):
    id: str
    name: str
    group: str | None = None
    order: int = 0
    count: int = 0
    version: int = 0


class TagCreate(Strict):
    name: Text
    group: Text | None = Field(None, description="id of the tag group to put the tag in")
    order: Order = 0


class TagPatch(Strict):
    name: Text | None = None
    order: Order | None = None


class GroupTag(Strict):
    name: Text
    order: Order = 0


class GroupOut(BaseModel):
    id: str
    name: str
    order: int
    tags: list[TagOut]


class GroupCreate(Strict):
    name: Text
    order: Order = 0
    tags: list[GroupTag] = Field(min_length=1)


class GroupPatch(Strict):
    name: Text | None = None
    order: Order | None = None


class SubjectOut(BaseModel):
    id: str
    created_at: int = Field(0, description="when the subject was first seen, Unix seconds")
    props: dict[str, Any] = {}
    tags: list[TagOut] | None = None


class SubjectPage(BaseModel):
    items: list[str]
    next: str | None = None
    total: int | None = None


class Pair(Strict):
    subject: Text = Field(min_length=1)
    tag: Text = Field(min_length=1, description="tag name or id")


class MembershipsIn(Strict):
    pairs: list[Pair] = Field(min_length=1, max_length=BATCH_MAX)
    create_subjects: bool = False
    create_tags: bool = False


class MembershipsOut(BaseModel):
    changed: int
    created_subjects: list[str] = []
    created_tags: list[str] = []


class AudienceIn(Strict):
    expr: Expr = Field(description=EXPR_DOC)


class MembersIn(AudienceIn):
    cursor: str | None = Field(None, description="`next` of the previous page")
    limit: int = Field(1000, ge=1, le=10_000)


class CountOut(BaseModel):
    count: int
