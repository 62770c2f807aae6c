"""Golden wire files of the JuziBot dialect, replayed byte for byte on a fresh seeded database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from polytag.dialects.juzibot import DIALECT
from polytag.dialects.juzibot.errors import MESSAGES
from tests import golden
from tests.dialects.juzibot.conftest import golden_vars

FOLDER = Path(__file__).parent / "golden"
CASES = golden.cases(FOLDER)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(jz: TestClient, path: Path) -> None:
    golden.replay(jz, path, golden_vars())


def _steps() -> list[dict[str, object]]:
    return [s for p in CASES for s in json.loads(p.read_text("utf-8"))["steps"]]


def test_every_endpoint_has_golden_steps() -> None:
    hit = {s["request"]["path"] for s in _steps()}  # type: ignore[index]
    assert {f"/api/v1/{ep.path}" for ep in DIALECT.endpoints} <= hit


def test_every_code_is_answered_by_some_golden_step() -> None:
    """Every code of the table but the system error is produced on the wire by a golden file;
    -2 is only for injected faults (another app's id answers 40068, as a missing one)."""
    answered = {json.loads(str(s["response"]))["errcode"] for s in _steps()}
    assert set(MESSAGES) - {50000, -2} == answered


def test_every_golden_file_names_its_source() -> None:
    for p in CASES:
        assert json.loads(p.read_text("utf-8"))["source"].strip()
