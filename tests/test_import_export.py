"""Bulk import and export: CSV and NDJSON, flags, per-line errors, dry runs, idempotence, round trip."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from polytag.cli import main
from polytag.core.service import Service

Seeded = Callable[[dict[str, Any]], list[Any]]
CSV_TEXT = "subject,tag\nu1,vip\nu1,广东\nu2,vip\nu3,\nbad line without comma\nu4,vip\n"


def run(*args: str) -> Any:
    result = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return result


@pytest.fixture
def db(service: Service, seeded: Seeded) -> str:
    """The test database's URL, for CLI runs beside the test's own service (either backend)."""
    seeded({"apps": [{"dialect": "native", "name": "crm"}, {"dialect": "native", "name": "copy"}]})
    return service.store.url


def members(service: Service, app_name: str) -> set[tuple[str, str]]:
    app = service.apps.get(app_name)
    idx = service.memberships.index(app)
    out = set()
    for tag in service.tags.all(app):
        for ext in service.subjects.ext_ids(app, list(idx.members(tag.ord))):
            out.add((ext, tag.name))
    return out


def test_csv_import_creates_reports_lines_and_is_idempotent(db: str, service: Service, tmp_path: Path) -> None:
    f = tmp_path / "m.csv"
    f.write_text(CSV_TEXT, encoding="utf-8")
    r = run("import", str(f), "--app", "crm", "--db", db)
    assert r.exit_code == 1
    assert "line 2: unknown subject 'u1' (use --create-subjects)" in r.output
    assert "line 6: expected two columns: subject,tag" in r.output
    r = run("import", str(f), "--app", "crm", "--db", db, "--create-subjects", "--dry-run")
    assert "line 2: unknown tag 'vip' (use --create-tags)" in r.output
    assert members(service, "crm") == set() and service.store.read().count_subjects(1) == 0

    r = run("import", str(f), "--app", "crm", "--db", db, "--create-subjects", "--create-tags", "--dry-run")
    assert "would add 4 memberships, 4 subjects, 2 tags; 1 errors" in r.output
    assert members(service, "crm") == set()

    r = run("import", str(f), "--app", "crm", "--db", db, "--create-subjects", "--create-tags")
    assert "added 4 memberships, 4 subjects, 2 tags; 1 errors" in r.output
    want = {("u1", "vip"), ("u1", "广东"), ("u2", "vip"), ("u4", "vip")}
    assert members(service, "crm") == want
    r = run("import", str(f), "--app", "crm", "--db", db, "--create-subjects", "--create-tags")
    assert "added 0 memberships, 0 subjects, 0 tags" in r.output
    assert members(service, "crm") == want


def test_unknown_subjects_are_reported_without_the_flag(db: str, service: Service, tmp_path: Path) -> None:
    f = tmp_path / "m.ndjson"
    f.write_text('{"subject": "u1", "tags": ["t"]}\nnot json\n{"subject": 5}\n', encoding="utf-8")
    r = run("import", str(f), "--app", "crm", "--db", db, "--create-tags")
    assert "line 1: unknown subject 'u1' (use --create-subjects)" in r.output
    assert "line 2: not JSON" in r.output and "line 3: expected" in r.output


def test_round_trip_through_export(db: str, service: Service, tmp_path: Path) -> None:
    lines = [json.dumps({"subject": f"s{i}", "tags": [t for t in ("a", "b", "c d") if i % (2 + "abc d".index(t[0])) == 0]},
                        ensure_ascii=False) for i in range(200)]
    f = tmp_path / "in.ndjson"
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    run("import", str(f), "--app", "crm", "--db", db, "--create-subjects", "--create-tags")
    original = members(service, "crm")
    assert len(original) > 100
    for fmt in ("csv", "ndjson"):
        out = tmp_path / f"out.{fmt}"
        out.write_bytes(run("export", "--app", "crm", "--format", fmt, "--db", db).stdout_bytes)
        run("import", str(out), "--app", "copy", "--db", db, "--create-subjects", "--create-tags")
        assert members(service, "copy") == original
    subset = run("export", "--app", "crm", "--audience", "a & !b", "--db", db).stdout
    got = {json.loads(x)["subject"] for x in subset.splitlines()}
    assert got == {s for s, t in original if t == "a"} - {s for s, t in original if t == "b"}


def test_audience_commands(db: str, service: Service, tmp_path: Path) -> None:
    f = tmp_path / "m.csv"
    f.write_text("u1,a\nu2,a\nu2,b\nu3,b\n", encoding="utf-8")
    run("import", str(f), "--app", "crm", "--db", db, "--create-subjects", "--create-tags")
    assert run("audience", "count", "--app", "crm", "a | b", "--db", db).output.strip() == "3"
    assert run("audience", "members", "--app", "crm", "a & b", "--db", db).output.split() == ["u2"]
    bad = run("audience", "count", "--app", "crm", "a & (", "--db", db)
    assert bad.exit_code == 1 and "syntax at 5" in bad.output
