"""Audience expressions as text or JSON: tokenizer, recursive-descent parser, and tag binding.

String syntax (precedence: `!` over `&` over `|`; parentheses group)::

    广东 & (vip | 星标组) & !blacklist
    "name with spaces" | #101           # quoted name; `#` forces a tag id

A bare word is any run of characters other than whitespace, `&`, `|`, `!`, `(`, `)`, `"`
and `#` (so `广东`, `vip-2024`, `a.b` are words). Anything else goes in double quotes, with
`\\"` and `\\\\` as escapes. A word or quoted text names a tag by *name* first and by id when
no tag has that name; `#id` (or JSON `{"id": ...}`) means the id only.

JSON syntax: `{"tag": "name or id"}`, `{"id": "..."}`, `{"and": [E, ...]}`, `{"or": [E, ...]}`,
`{"not": E}`, or a string in the syntax above. Positions are character offsets in a string
and JSON pointers (`/and/1/tag`) in JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from polytag.core import audience as au
from polytag.core.limits import BOUNDS
from polytag.core.models import Tag
from polytag.errors import Invalid

OPERATORS = set('&|!()"#')


class ExprError(Invalid):
    """A bad audience expression: `reason` is syntax, unknown_tag, ambiguous_tag, too_deep,
    too_long (text over BOUNDS.expr_chars) or too_many_terms (over BOUNDS.expr_terms)."""

    def __init__(self, reason: str, position: int | str, value: object = None, detail: str = "") -> None:
        super().__init__("expr", reason, value, detail or f"{reason.replace('_', ' ')} at {position}"
                         + (f": {value!r}" if value is not None else ""))
        self.position = position


@dataclass(frozen=True)
class Ref:
    key: str
    at: int | str
    by_id: bool = False


@dataclass(frozen=True)
class All:
    items: Sequence[Node]


@dataclass(frozen=True)
class AnyOf:
    items: Sequence[Node]


@dataclass(frozen=True)
class Neg:
    item: Node


Node = Ref | All | AnyOf | Neg
MAX_DEPTH = 200


# text ----------------------------------------------------------------------------
def tokenize(text: str) -> list[tuple[str, str, int]]:
    """(kind, value, position) with kind in op, word, id, end."""
    out: list[tuple[str, str, int]] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c == '"':
            value, i2 = _quoted(text, i)
            out.append(("word", value, i))
            i = i2
        elif c == "#":
            j = i + 1
            if j < n and text[j] == '"':
                value, j = _quoted(text, j)
            else:
                start = j
                while j < n and not text[j].isspace() and text[j] not in OPERATORS:
                    j += 1
                value = text[start:j]
            if not value:
                raise ExprError("syntax", i, "#", f"syntax at {i}: `#` needs a tag id")
            out.append(("id", value, i))
            i = j
        elif c in OPERATORS:
            out.append(("op", c, i))
            i += 1
        else:
            j = i
            while j < n and not text[j].isspace() and text[j] not in OPERATORS:
                j += 1
            out.append(("word", text[i:j], i))
            i = j
    out.append(("end", "", n))
    return out


def _quoted(text: str, start: int) -> tuple[str, int]:
    buf: list[str] = []
    i = start + 1
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            buf.append(text[i + 1])
            i += 2
        elif c == '"':
            return "".join(buf), i + 1
        else:
            buf.append(c)
            i += 1
    raise ExprError("syntax", start, None, f"syntax at {start}: unterminated quote")


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.i = 0
        self.depth = 0

    def peek(self) -> tuple[str, str, int]:
        return self.tokens[self.i]

    def take(self) -> tuple[str, str, int]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def parse(self) -> Node:
        node = self.disjunction()
        kind, value, at = self.peek()
        if kind != "end":
            raise ExprError("syntax", at, value, f"syntax at {at}: unexpected {value!r}")
        return node

    def disjunction(self) -> Node:
        items = [self.conjunction()]
        while self.peek()[:2] == ("op", "|"):
            self.take()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else AnyOf(items)

    def conjunction(self) -> Node:
        items = [self.unary()]
        while self.peek()[:2] == ("op", "&"):
            self.take()
            items.append(self.unary())
        return items[0] if len(items) == 1 else All(items)

    def unary(self) -> Node:
        kind, value, at = self.take()
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError("too_deep", at)
        try:
            if (kind, value) == ("op", "!"):
                return Neg(self.unary())
            if (kind, value) == ("op", "("):
                node = self.disjunction()
                k2, v2, at2 = self.take()
                if (k2, v2) != ("op", ")"):
                    raise ExprError("syntax", at2, v2 or None, f"syntax at {at2}: expected ')'")
                return node
            if kind in ("word", "id"):
                return Ref(value, at, by_id=kind == "id")
            shown = value or "end of expression"
            raise ExprError("syntax", at, value or None, f"syntax at {at}: expected a tag, got {shown!r}")
        finally:
            self.depth -= 1


def parse_text(text: str, at: int | str = 0) -> Node:
    """A text expression as a tree; too_long / too_many_terms past BOUNDS (checked before any
    work that grows with the text)."""
    if len(text) > BOUNDS.expr_chars:
        raise ExprError("too_long", at, None, f"expression too long: {len(text)} characters, "
                        f"at most {BOUNDS.expr_chars} (BOUNDS.expr_chars)")
    parser = _Parser(text)
    if len(parser.tokens) - 1 > BOUNDS.expr_terms:
        raise _too_many(len(parser.tokens) - 1, at)
    return parser.parse()


def _too_many(n: int, at: int | str) -> ExprError:
    return ExprError("too_many_terms", at, None, f"expression too large: {n} terms or more, at most "
                     f"{BOUNDS.expr_terms} (BOUNDS.expr_terms)")


# JSON ----------------------------------------------------------------------------
def parse(value: Any, path: str = "") -> Node:
    """A JSON expression (or a string in the text syntax) as an unbound tree."""
    return _json(value, path, 0, [0])


def _json(value: Any, path: str, depth: int, seen: list[int]) -> Node:
    if depth > MAX_DEPTH:
        raise ExprError("too_deep", path or "/")
    seen[0] += 1
    if seen[0] > BOUNDS.expr_terms:
        raise _too_many(seen[0], path or "/")
    if isinstance(value, str):
        node = parse_text(value, path or 0)
        seen[0] += _size(node) - 1
        if seen[0] > BOUNDS.expr_terms:
            raise _too_many(seen[0], path or "/")
        return node
    if not isinstance(value, dict) or len(value) != 1:
        raise ExprError("syntax", path or "/", None, f"syntax at {path or '/'}: expected a string or an "
                        "object with one of tag, id, and, or, not")
    (key, arg), = value.items()
    here = f"{path}/{key}"
    if key in ("tag", "id"):
        if not isinstance(arg, str | int) or isinstance(arg, bool) or arg == "":
            raise ExprError("syntax", here, arg, f"syntax at {here}: a tag must be a non-empty string")
        return Ref(str(arg), here, by_id=key == "id")
    if key in ("and", "or"):
        if not isinstance(arg, list) or not arg:
            raise ExprError("syntax", here, None, f"syntax at {here}: expected a non-empty list")
        items = [_json(v, f"{here}/{i}", depth + 1, seen) for i, v in enumerate(arg)]
        return All(items) if key == "and" else AnyOf(items)
    if key == "not":
        return Neg(_json(arg, here, depth + 1, seen))
    raise ExprError("syntax", path or "/", key, f"syntax at {path or '/'}: unknown operator {key!r}")


def _size(node: Node) -> int:
    """Nodes in a parsed tree (its depth is bounded by MAX_DEPTH)."""
    match node:
        case All(items=items) | AnyOf(items=items):
            return 1 + sum(_size(i) for i in items)
        case Neg(item=item):
            return 1 + _size(item)
    return 1


# binding -------------------------------------------------------------------------
class TagNames:
    """Tag name or id -> ordinal for one app (names first; ids when no tag has the name)."""

    def __init__(self, tags: Iterable[Tag]) -> None:
        self.by_name: dict[str, list[int]] = {}
        self.by_id: dict[str, int] = {}
        for t in tags:
            self.by_name.setdefault(t.name, []).append(t.ord)
            self.by_id[t.ext_id] = t.ord

    def find(self, ref: Ref) -> int:
        if not ref.by_id:
            named = self.by_name.get(ref.key, [])
            if len(named) > 1:
                raise ExprError("ambiguous_tag", ref.at, ref.key)
            if named:
                return named[0]
        found = self.by_id.get(ref.key)
        if found is None:
            raise ExprError("unknown_tag", ref.at, ref.key)
        return found


def bind(node: Node, find: Callable[[Ref], int]) -> au.Expr:
    """The audience expression of `node`, every tag reference resolved by `find`."""
    match node:
        case Ref():
            return au.TagRef(find(node))
        case All(items=items):
            return au.And([bind(i, find) for i in items])
        case AnyOf(items=items):
            return au.Or([bind(i, find) for i in items])
        case Neg(item=item):
            return au.Not(bind(item, find))
    raise TypeError(f"not an expression node: {node!r}")


def compile_expr(value: Any, tags: Iterable[Tag]) -> au.Expr:
    """Parse `value` (JSON or text) and bind it against `tags`."""
    return bind(parse(value), TagNames(tags).find)
