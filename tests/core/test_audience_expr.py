"""The audience expression language: tokens, precedence, quoting, ids, and error positions."""

from __future__ import annotations

import pytest

from polytag.core import audience as au
from polytag.core.expr import All, AnyOf, ExprError, Neg, Ref, compile_expr, parse, parse_text
from polytag.core.models import Tag

TAGS = [Tag(ord=0, ext_id="100", name="广东"), Tag(ord=1, ext_id="101", name="vip"),
        Tag(ord=2, ext_id="102", name="星标组"), Tag(ord=3, ext_id="103", name="blacklist"),
        Tag(ord=4, ext_id="104", name="with space"), Tag(ord=5, ext_id="105", name="101")]


def test_precedence_not_over_and_over_or() -> None:
    tree = parse_text("a | b & !c")
    assert tree == AnyOf([Ref("a", 0), All([Ref("b", 4), Neg(Ref("c", 9))])])


def test_parentheses_group() -> None:
    assert parse_text("(a | b) & c") == All([AnyOf([Ref("a", 1), Ref("b", 5)]), Ref("c", 10)])


def test_the_issue_example_binds_to_ordinals() -> None:
    got = compile_expr("广东 & (vip | 星标组) & !blacklist", TAGS)
    assert got == au.And([au.TagRef(0), au.Or([au.TagRef(1), au.TagRef(2)]), au.Not(au.TagRef(3))])


def test_quotes_hashes_and_names_before_ids() -> None:
    assert compile_expr('"with space"', TAGS) == au.TagRef(4)
    assert compile_expr("101", TAGS) == au.TagRef(5)  # a tag named "101" wins over id 101
    assert compile_expr("#101", TAGS) == au.TagRef(1)
    assert compile_expr("103", TAGS) == au.TagRef(3)  # no such name: the id
    assert parse_text(r'"a\"b"') == Ref('a"b', 0)


def test_json_form() -> None:
    got = compile_expr({"and": [{"tag": "vip"}, {"not": {"id": "100"}}, "星标组 | blacklist"]}, TAGS)
    assert got == au.And([au.TagRef(1), au.Not(au.TagRef(0)), au.Or([au.TagRef(2), au.TagRef(3)])])


@pytest.mark.parametrize(("text", "position"), [
    ("a &", 3), ("(a | b", 6), ("a b", 2), ("& a", 0), ('"open', 0), ("a | )", 4), ("#", 0), ("", 0),
])
def test_syntax_errors_carry_the_position(text: str, position: int) -> None:
    with pytest.raises(ExprError) as info:
        parse_text(text)
    assert info.value.reason == "syntax" and info.value.position == position


def test_unknown_tag_carries_position_and_name() -> None:
    with pytest.raises(ExprError) as info:
        compile_expr("vip & nope", TAGS)
    assert (info.value.reason, info.value.position, info.value.value) == ("unknown_tag", 6, "nope")


@pytest.mark.parametrize(("value", "position"), [
    ({"and": [{"tag": "vip"}, {"tag": "zzz"}]}, "/and/1/tag"), ({"nor": []}, "/"), ({"and": []}, "/and"),
    ({"tag": 1.5}, "/tag"), ([1], "/"),
])
def test_json_errors_carry_a_pointer(value: object, position: str) -> None:
    with pytest.raises(ExprError) as info:
        compile_expr(value, TAGS)
    assert info.value.position == position


def test_ambiguous_names_are_refused() -> None:
    tags = [Tag(ord=0, ext_id="a", name="x"), Tag(ord=1, ext_id="b", name="x")]
    with pytest.raises(ExprError) as info:
        compile_expr("x", tags)
    assert info.value.reason == "ambiguous_tag"
    assert compile_expr("#b", tags) == au.TagRef(1)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(ExprError):
        parse_text("!" * 5000 + "a")
    with pytest.raises(ExprError):
        parse("(" * 5000 + "a" + ")" * 5000)
