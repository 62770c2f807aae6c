"""Replays every WeChat golden wire file against the in-process app, byte for byte (rid normalised)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from tests import golden

FOLDER = Path(__file__).parent / "golden"
CASES = golden.cases(FOLDER)
_TOKEN = re.compile(r'"access_token":"[A-Za-z0-9_\-]+"')


def _normalise(text: str) -> str:
    """Issued tokens are random: compare their place, not their value."""
    return _TOKEN.sub('"access_token":"{token}"', text)


@pytest.mark.parametrize("case", CASES, ids=[p.stem for p in CASES])
def test_golden(case: Path, client: TestClient, golden_env: dict[str, str]) -> None:
    golden.replay(client, case, golden_env, normalise=_normalise)


def test_every_case_names_its_source() -> None:
    for path in CASES:
        case = json.loads(path.read_text("utf-8"))
        assert case["name"] == path.stem
        assert case["source"].strip(), path.name
        assert case["steps"], path.name


# endpoint -> the codes it must have a golden file for (spec A2-A6, seeds 000/001)
REQUIRED = {
    "token": {41002, 41004, 40013, 40125, 40002, 40001, 43001},
    "stable_token": {41002, 41004, 40013, 40125, 40002, 44002, 47001, 43002, 45011},
    "tags/create": {45157, 45158, 45056, 44002, 47001, 43002, 40001},
    "tags/get": {41001, 40014, 42001, 43001},
    "tags/update": {45157, 45158, 45058, 45159, 47001},
    "tags/delete": {45058, 45159, 45057},
    "user/tag/get": {45159, 40003},
    "tags/members/batchtagging": {40032, 45159, 45059, 40003, 49003, 44002, 47001, 43002},
    "tags/members/batchuntagging": {40032, 45159, 40003, 49003},
    "tags/getidlist": {40003, 49003, 47001, 43002},
    "user/get": {40003, 43001},
    "user/info": {40003, 43001},
    "user/info/batchget": {40032, 40003, 47001},
    "user/info/updateremark": {47001, 40003},
    "tags/members/getblacklist": {40003},
    "tags/members/batchblacklist": {40032, 40003, 49003},
    "tags/members/batchunblacklist": {40032, 40003, 49003},
    "message/mass/sendall": {40152, 40008, 44004, 40007, 40073, 45028, 45066, 45067, 44002, 47001, 43002},
    "message/mass/send": {40130, 45028},
    "message/mass/preview": {40003, 49003},
    "message/mass/get": {40059},
    "message/mass/delete": {40059},
    "message/mass/speed/get": set(),
    "message/mass/speed/set": {45083, 45084},
}


def _covered() -> tuple[dict[str, set[int]], set[str]]:
    codes: dict[str, set[int]] = {}
    ok: set[str] = set()
    for path in CASES:
        for step in json.loads(path.read_text("utf-8"))["steps"]:
            ep = step["request"]["path"].removeprefix("/cgi-bin/")
            code = json.loads(step["response"].replace("{rid}", "r")).get("errcode", 0)
            (ok.add(ep) if code == 0 else codes.setdefault(ep, set()).add(code))
    return codes, ok


def test_golden_files_cover_every_endpoint_and_error() -> None:
    from polytag.dialects.wechat import DIALECT

    codes, ok = _covered()
    for ep in DIALECT.endpoints:
        assert ep.path in ok, f"no golden success for {ep.path}"
        missing = REQUIRED[ep.path] - codes.get(ep.path, set())
        assert not missing, f"{ep.path}: no golden file for {sorted(missing)}"
