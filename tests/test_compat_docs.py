"""Each dialect's compatibility page (docs/compat/<name>.md) and its code agree, both ways.

Every endpoint the dialect mounts is a table row marked implemented; every error code the
dialect can answer (its `errors.MESSAGES`) has a row `| <code> |`, and every such row is a
code the dialect knows.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from polytag import dialects

DOCS = Path(__file__).resolve().parent.parent / "docs" / "compat"
FOUND = dialects.discover()
CODE_ROW = re.compile(r"^\|\s*(-?\d+)\s*\|", re.MULTILINE)


def _page(name: str) -> str:
    path = DOCS / f"{name}.md"
    assert path.is_file(), f"{path} is missing: every dialect has a compatibility page"
    return path.read_text("utf-8")


def _messages(name: str) -> dict[int, object]:
    module = importlib.import_module(f"polytag.dialects.{name}.errors")
    return dict(module.MESSAGES)


def _rows(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.lstrip().startswith("|")]


@pytest.mark.parametrize("name", sorted(FOUND))
def test_every_endpoint_is_documented_as_implemented(name: str) -> None:
    rows = _rows(_page(name))
    for ep in FOUND[name].endpoints:
        mine = [r for r in rows if f"`{ep.path}`" in r]
        assert mine, f"{name}: endpoint `{ep.path}` has no row in docs/compat/{name}.md"
        assert any(re.search(r"\bimplemented\b", r) and "not implemented" not in r for r in mine), (
            f"{name}: the row for `{ep.path}` does not say implemented: {mine}")


@pytest.mark.parametrize("name", sorted(FOUND))
def test_every_error_code_is_documented(name: str) -> None:
    documented = {int(c) for c in CODE_ROW.findall(_page(name))}
    missing = sorted(set(_messages(name)) - documented)
    assert not missing, f"{name}: codes without a `| <code> |` row in docs/compat/{name}.md: {missing}"


@pytest.mark.parametrize("name", sorted(FOUND))
def test_every_documented_code_exists(name: str) -> None:
    documented = [int(c) for c in CODE_ROW.findall(_page(name))]
    unknown = sorted(set(documented) - set(_messages(name)))
    assert not unknown, f"{name}: docs/compat/{name}.md lists codes the dialect cannot answer: {unknown}"


def test_every_page_is_a_dialect() -> None:
    pages = {p.stem for p in DOCS.glob("*.md")} - {"README", "index"}
    assert "wechat" in FOUND
    assert pages <= set(FOUND), f"pages for no dialect: {sorted(pages - set(FOUND))}"
