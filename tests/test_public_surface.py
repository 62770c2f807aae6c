"""The public names of `polytag`: exactly these, each resolvable, each cheap to import.

Adding or removing a public name means editing PUBLIC here, on purpose.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import polytag

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "polytag"

PUBLIC = {
    "__version__",
    "Client", "Control",
    "ApiError", "NetworkError",
    "PolytagError", "NotFound", "Conflict", "Invalid", "LimitExceeded", "Unauthorized", "Forbidden",
    "Unavailable",
    "create_app", "Settings",
}
VENDORS = sorted(p.name for p in (SRC / "dialects").iterdir() if p.is_dir() and (p / "__init__.py").exists())
# what importing a public name may never pull in: test tooling, and any vendor's dialect
FORBIDDEN = ("starlette.testclient", "pytest", "_pytest", *(f"polytag.dialects.{v}" for v in VENDORS))


def test_the_public_names_are_exactly_these() -> None:
    assert set(polytag.__all__) == PUBLIC
    assert len(polytag.__all__) == len(PUBLIC)  # no name twice


def test_every_public_name_resolves_and_is_listed_by_dir() -> None:
    for name in polytag.__all__:
        assert getattr(polytag, name) is not None, name
    assert set(dir(polytag)) >= PUBLIC


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Clinet'"):
        polytag.Clinet  # type: ignore[attr-defined]  # noqa: B018


def test_the_names_are_the_documented_objects() -> None:
    from polytag import client, client_errors, config, errors
    from polytag.app import create_app
    from polytag.control import sdk

    assert polytag.Client is client.Client and polytag.Control is sdk.Control
    assert polytag.create_app is create_app and polytag.Settings is config.Settings
    assert polytag.ApiError is client_errors.ApiError and polytag.NotFound is errors.NotFound
    assert issubclass(polytag.ApiError, polytag.PolytagError)
    assert issubclass(polytag.NetworkError, polytag.PolytagError)


def test_the_version_is_the_packages() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert polytag.__version__ == project["version"]


def _loaded_after(code: str) -> set[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC.parent), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", f"{code}\nimport sys\nprint('\\n'.join(sys.modules))"],
                         capture_output=True, text=True, env=env, check=True, timeout=120).stdout
    return set(out.split())


def _forbidden(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if m.startswith(FORBIDDEN))


def test_import_polytag_loads_nothing_else() -> None:
    loaded = _loaded_after("import polytag")
    assert "polytag" in loaded
    assert sorted(m for m in loaded if m.startswith(("polytag.", "starlette", "fastapi", "httpx"))) == []


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_each_name_imports_cheaply(name: str) -> None:
    loaded = _loaded_after(f"from polytag import {name}")
    assert _forbidden(loaded) == []


@pytest.mark.parametrize("name", ["Client", "Control"])
def test_the_sdk_does_not_load_the_server(name: str) -> None:
    """A client program importing the SDK pulls in no server side: no control plane, core or store."""
    loaded = _loaded_after(f"from polytag import {name}")
    assert sorted(m for m in loaded if m.startswith(("polytag.control.plane", "polytag.core", "polytag.store"))) == []


def test_no_production_module_imports_test_tooling() -> None:
    """The SDK and the server run without starlette's test client or pytest; only the pytest
    plugin (testing.py) may import pytest."""
    found = []
    for path in sorted(SRC.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for mod in names:
                if mod.startswith("starlette.testclient") or (mod == "pytest" and path.name != "testing.py"):
                    found.append(f"{path.relative_to(ROOT)}: {mod}")
    assert found == []
