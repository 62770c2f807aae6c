"""`polytag import` on hostile files (issue 15, finding 17): a byte order mark, bytes that are not
UTF-8, NUL, a quoted field past the csv module's limit; and CSV export cells a spreadsheet would
run as formulas. Never a traceback (CliRunner re-raises one here), every bad line named."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from polytag import bulk
from polytag.cli import main
from polytag.core.service import Service
from tests.test_import_export import Seeded, members

FLAGS = ("--create-subjects", "--create-tags")


def run(*args: str, stdin: bytes | None = None) -> Any:
    return CliRunner().invoke(main, list(args), input=stdin, catch_exceptions=False)


@pytest.fixture
def db(service: Service, seeded: Seeded) -> str:
    seeded({"apps": [{"dialect": "native", "name": "crm"}, {"dialect": "native", "name": "copy"}]})
    return service.store.url


@pytest.mark.parametrize(("name", "data"), [
    ("bom.csv", "\ufeffsubject,tag\nu1,vip\n".encode()),
    ("bom-quoted.csv", '\ufeff"subject","tag"\r\nu1,vip\r\n'.encode()),
    ("bom.ndjson", '\ufeff{"subject": "u1", "tags": ["vip"]}\n'.encode()),
])
def test_a_byte_order_mark_is_not_data(db: str, service: Service, tmp_path: Path, name: str, data: bytes) -> None:
    f = tmp_path / name
    f.write_bytes(data)
    r = run("import", str(f), "--app", "crm", "--db", db, *FLAGS)
    assert r.exit_code == 0, r.output
    assert members(service, "crm") == {("u1", "vip")}
    assert service.subjects.find(service.apps.get("crm"), ["\ufeffsubject", "subject"]) == {}


@pytest.mark.parametrize(("name", "data", "bad_line"), [
    ("latin1.csv", b"u1,vip\nu\xff2,vip\nu3,vip\n", 2),
    ("latin1-tag.csv", b"subject,tag\nu1,vip\nu2,caf\xe9\nu3,vip\n", 3),
    ("nul.csv", b"u1,vip\nu\x002,vip\nu3,vip\n", 2),
    ("latin1.ndjson", b'{"subject": "u1", "tags": ["vip"]}\n{"subject": "u\xff2"}\n{"subject": "u3", "tags": ["vip"]}\n', 2),
    ("nul.ndjson", b'{"subject": "u1", "tags": ["vip"]}\n{"subject": "u\\u00002"}\n{"subject": "u3", "tags": ["vip"]}\n', 2),
])
def test_text_no_store_holds_is_a_line_error(db: str, service: Service, tmp_path: Path, name: str, data: bytes,
                                             bad_line: int) -> None:
    f = tmp_path / name
    f.write_bytes(data)
    r = run("import", str(f), "--app", "crm", "--db", db, *FLAGS)
    assert r.exit_code == 1 and f"line {bad_line}: not valid UTF-8 text (or holds NUL)" in r.output, r.output
    assert members(service, "crm") == {("u1", "vip"), ("u3", "vip")}


def test_the_same_from_stdin(db: str, service: Service) -> None:
    r = run("import", "-", "--app", "crm", "--format", "csv", "--db", db, *FLAGS,
            stdin=b"\xef\xbb\xbfsubject,tag\nu1,vip\nu\xff2,vip\n")
    assert r.exit_code == 1 and "line 3: not valid UTF-8" in r.output, r.output
    assert members(service, "crm") == {("u1", "vip")}


def test_a_long_quoted_field_is_a_row_error_and_reading_goes_on(db: str, service: Service, tmp_path: Path) -> None:
    f = tmp_path / "huge.csv"  # over the csv module's own 128 KiB limit, which used to end the import there
    f.write_text('u1,vip\n"' + "x" * 200_000 + '",vip\nu3,vip\n', encoding="utf-8")
    r = run("import", str(f), "--app", "crm", "--db", db, *FLAGS)
    assert r.exit_code == 0, r.output  # a long subject id is a subject id (the native rules bound tag names)
    assert members(service, "crm") == {("u1", "vip"), ("x" * 200_000, "vip"), ("u3", "vip")}


def test_a_field_past_the_field_cap_stops_reading_with_a_reason(
        db: str, service: Service, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk.csv, "field_size_limit", bulk.csv.field_size_limit)
    old = bulk.csv.field_size_limit(1000)
    try:
        f = tmp_path / "huge.csv"
        f.write_text('u1,vip\n"' + "x" * 2_000 + '",vip\nu3,vip\n', encoding="utf-8")
        r = run("import", str(f), "--app", "crm", "--db", db, *FLAGS)
    finally:
        bulk.csv.field_size_limit(old)
    assert r.exit_code == 1, r.output
    assert "line 2: unreadable CSV (field larger than field limit" in r.output
    assert "lines from 2 on were not read" in r.output


def test_a_quote_left_open_is_reported(db: str, service: Service, tmp_path: Path) -> None:
    f = tmp_path / "open.csv"
    f.write_text('u1,vip\n"u2,vip\nu3,vip\n', encoding="utf-8")
    r = run("import", str(f), "--app", "crm", "--db", db, *FLAGS)
    assert r.exit_code == 1, r.output
    assert "line 2: unreadable CSV" in r.output
    assert members(service, "crm") == {("u1", "vip")}


TRICKY = ["=SUM(A1)", "+1", "-x", "@cmd", "\tTab", "\rcr", "'=quoted", "''", "'plain", "it's", "plain"]


def test_export_neutralises_formulas_and_imports_back(db: str, service: Service, tmp_path: Path) -> None:
    rows = [(s, t) for s in ("=evil()", "-1", "s1") for t in TRICKY]
    f = tmp_path / "in.ndjson"  # NDJSON in: no escaping involved
    f.write_text("".join(f'{{"subject": {bulk.orjson.dumps(s).decode()}, "tags": [{bulk.orjson.dumps(t).decode()}]}}\n'
                         for s, t in rows), encoding="utf-8")
    assert run("import", str(f), "--app", "crm", "--db", db, *FLAGS).exit_code == 0
    assert members(service, "crm") == set(rows)
    out = run("export", "--app", "crm", "--format", "csv", "--db", db).stdout
    cells = [c for rec in csv.reader(io.StringIO(out)) for c in rec]
    assert not [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert "'=evil()" in cells and "'-1" in cells and "''=quoted" in cells and "'''" in cells
    assert "'plain" in cells and "it's" in cells  # not formula text: as it is
    back = tmp_path / "out.csv"
    back.write_text(out, encoding="utf-8", newline="")
    r = run("import", str(back), "--app", "copy", "--db", db, *FLAGS)
    assert r.exit_code == 0, r.output
    assert members(service, "copy") == set(rows)


@pytest.mark.parametrize("text", [*TRICKY, "", "'", "'x", "'''=", "=", "'\t"])
def test_escape_and_unescape_are_inverse(text: str) -> None:
    assert bulk.unescape_cell(bulk.escape_cell(text)) == text
