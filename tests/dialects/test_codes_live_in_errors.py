"""Vendor codes live only in each dialect's errors.py: no other module builds a VendorError, and
nothing outside the dialects builds one from a literal code. Body readers raise neutral errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import polytag
from polytag.dialects import Call, Dialect, discover
from polytag.dialects._body import BodyField, EmptyBody

SRC = Path(polytag.__file__).parent
DIALECTS = SRC / "dialects"


def _vendor_errors(path: Path) -> list[tuple[int, bool]]:
    """(line, whether the first argument is a literal number) of every VendorError(...) built."""
    out = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"), str(path))):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
        if name == "VendorError":
            first = node.args[0] if node.args else None
            literal = isinstance(first, ast.Constant) or (
                isinstance(first, ast.UnaryOp) and isinstance(first.operand, ast.Constant))
            out.append((node.lineno, literal))
    return out


def test_only_errors_py_builds_a_vendor_error_in_a_dialect() -> None:
    offenders = [f"{p.relative_to(SRC)}:{line}" for p in sorted(DIALECTS.rglob("*.py")) if p.name != "errors.py"
                 for line, _ in _vendor_errors(p)]
    assert offenders == []


def test_no_module_outside_the_dialects_builds_a_vendor_error_from_a_literal_code() -> None:
    offenders = [f"{p.relative_to(SRC)}:{line}" for p in sorted(SRC.rglob("*.py"))
                 if DIALECTS not in p.parents for line, literal in _vendor_errors(p) if literal]
    assert offenders == []


def test_the_guard_sees_a_literal_code(tmp_path: Path) -> None:
    bad = tmp_path / "routes.py"
    bad.write_text("from x import VendorError\n\ndef f():\n    raise VendorError(40066, 'x')\n", "utf-8")
    assert _vendor_errors(bad) == [(4, True)]


@pytest.mark.parametrize("exc", [EmptyBody("empty body"), BodyField("name", "type", 5, "a string"),
                                 BodyField("id", "missing")])
@pytest.mark.parametrize("dialect", sorted(discover().values(), key=lambda d: d.name), ids=lambda d: d.name)
def test_every_dialect_renders_the_neutral_body_errors_as_its_own_code(dialect: Dialect, exc: Exception) -> None:
    """Never the dialect's "system error": each errors.py maps what the shared reader raises."""
    system = dialect.render_error(RuntimeError("unforeseen"), _call(dialect))
    got = dialect.render_error(exc, _call(dialect))
    assert got[0] == 200 and got != system


def _call(dialect: Dialect) -> Call:
    ep = dialect.endpoints[0]
    return Call(scope={"method": "POST", "path": "/"}, service=None, dialect=dialect,  # type: ignore[arg-type]
                endpoint=ep, body=b"", rid="r", query={})
