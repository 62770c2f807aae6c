"""`polytag import` on hostile files: never a traceback, a clear message naming the line, a
non-zero exit when a row was refused, and nothing half-imported.

"Nothing half-imported": after the run the app holds either none of the file's memberships or
exactly the well-formed ones (never the rows before the point where reading broke off, never a
row in a mangled form such as a header read as data or a name holding NUL). On both backends.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from polytag import bulk
from polytag.cli import main
from polytag.core.service import Service
from tests.conftest import ROOT

Seeded = Callable[[dict[str, Any]], list[Any]]
APP = "crm"
FLAGS = ("--create-subjects", "--create-tags")
AFTER_A_BATCH = bulk.BATCH + 20_000  # rows before the hostile one: the first batch is already written


@pytest.fixture
def db(service: Service, seeded: Seeded) -> str:
    seeded({"apps": [{"dialect": "native", "name": APP}]})
    return service.store.url


def members(service: Service) -> set[tuple[str, str]]:
    app = service.apps.get(APP)
    idx = service.memberships.index(app)
    out = set()
    for tag in service.tags.all(app):
        for ext in service.subjects.ext_ids(app, list(idx.members(tag.ord))):
            out.add((ext, tag.name))
    return out


def names(service: Service) -> list[str]:
    """Every tag name of the app and every subject that belongs to a tag."""
    app = service.apps.get(APP)
    return [*{s for s, _ in members(service)}, *(t.name for t in service.tags.all(app))]


def run_import(db: str, path: Path, *extra: str) -> Result:
    return CliRunner().invoke(main, ["import", str(path), "--app", APP, "--db", db, *FLAGS, *extra])


def no_traceback(result: Result) -> None:
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{type(result.exception).__name__}: {result.exception}", result.output[-500:])
    assert "Traceback" not in result.output, result.output[-2000:]


def refused_clearly(result: Result) -> None:
    """Exit non-zero, and the message says where (a line, or a byte offset)."""
    no_traceback(result)
    assert result.exit_code != 0, result.output[-500:]
    assert re.search(r"\b(line|row|byte)s? \d+", result.output), result.output[-500:]


def whole_or_nothing(service: Service, good: set[tuple[str, str]]) -> None:
    got = members(service)
    assert got in (set(), good), (
        f"{len(got)} memberships held, expected 0 or {len(good)}; extra: {sorted(got - good)[:5]}, "
        f"missing: {len(good - got)}")


def _rows(n: int, prefix: str = "s") -> bytes:
    return b"".join(b"%s%d,t%d\n" % (prefix.encode(), i, i % 3) for i in range(n))


def _pairs(n: int, prefix: str = "s") -> set[tuple[str, str]]:
    return {(f"{prefix}{i}", f"t{i % 3}") for i in range(n)}


# (name, file bytes, the well-formed memberships in it, suffix)
REFUSED_ROWS: list[tuple[str, bytes, set[tuple[str, str]], str]] = [
    ("invalid-utf8-mid-file", b"u1,a\nu2,\xff\xfe\nu3,b\n", {("u1", "a"), ("u3", "b")}, ".csv"),
    ("invalid-utf8-first-byte", b"\xff,a\nu3,b\n", {("u3", "b")}, ".csv"),
    ("surrogate-as-utf8", b"u1,a\n\xed\xa0\x80,b\n", {("u1", "a")}, ".csv"),
    ("latin1-file", "u1,caf\u00e9\nu2,a\n".encode("latin-1"), {("u2", "a")}, ".csv"),
    ("huge-quoted-field", b'u1,a\nu2,"' + b"x" * 200_000 + b'"\nu3,b\n', {("u1", "a"), ("u3", "b")}, ".csv"),
    ("unclosed-quote", b'u1,a\nu2,"never closed\nu3,b\n', {("u1", "a")}, ".csv"),
    ("ragged-rows", b"u1,a\nu2\nu3,b,c\n,\nu4,\xe4\xb8\xad\n,,\n", {("u1", "a"), ("u4", "\u4e2d")}, ".csv"),
    ("nul-in-names", b"u1,a\nu\x002,a\nu3,b\x00c\nu4,b\n", {("u1", "a"), ("u4", "b")}, ".csv"),
    ("hundred-thousand-brackets", b"u1,a\n" + b"[" * 100_000 + b"\n", {("u1", "a")}, ".csv"),
    ("ndjson-invalid-utf8", b'{"subject": "u1", "tags": ["a"]}\n{"subject": "\xff", "tags": ["b"]}\n',
     {("u1", "a")}, ".ndjson"),
    ("ndjson-surrogate-escape", b'{"subject": "u1", "tags": ["a"]}\n{"subject": "\\ud800", "tags": ["b"]}\n',
     {("u1", "a")}, ".ndjson"),
    ("ndjson-deep", b'{"subject": "u1", "tags": ["a"]}\n' + b"[" * 100_000 + b"\n", {("u1", "a")}, ".ndjson"),
    ("ndjson-huge-numbers", b'{"subject": "u1", "tags": ["a"]}\n{"subject": 1e400, "tags": [' + b"9" * 5000
     + b"]}\n", {("u1", "a")}, ".ndjson"),
    ("ndjson-nul", b'{"subject": "u1", "tags": ["a"]}\n{"subject": "x\\u0000y", "tags": ["a\\u0000"]}\n',
     {("u1", "a")}, ".ndjson"),
]


@pytest.mark.parametrize("case", REFUSED_ROWS, ids=[c[0] for c in REFUSED_ROWS])
def test_hostile_rows_are_refused_clearly(db: str, service: Service, tmp_path: Path,
                                         case: tuple[str, bytes, set[tuple[str, str]], str]) -> None:
    name, data, good, suffix = case
    f = tmp_path / f"{name}{suffix}"
    f.write_bytes(data)
    result = run_import(db, f)
    refused_clearly(result)
    whole_or_nothing(service, good)
    assert not [n for n in names(service) if "\x00" in n or "\ufffd" in n], names(service)


@pytest.mark.parametrize("tail", [b"u-bad,\xff\n", b'u-bad,"' + b"x" * 200_000 + b'"\n'],
                         ids=["invalid-utf8", "huge-field"])
def test_a_bad_row_after_the_first_batch_leaves_no_half_import(db: str, service: Service, tmp_path: Path,
                                                              tail: bytes) -> None:
    """The first batch is already with the writer when reading breaks off: all or nothing."""
    f = tmp_path / "big.csv"
    f.write_bytes(_rows(AFTER_A_BATCH) + tail + b"u-last,t0\n")
    result = run_import(db, f)
    whole_or_nothing(service, _pairs(AFTER_A_BATCH) | {("u-last", "t0")})
    refused_clearly(result)


@pytest.mark.parametrize("data", [b"\xef\xbb\xbfsubject,tag\nu1,a\nu2,b\n", b"\xef\xbb\xbfu1,a\nu2,b\n",
                                  b"\xef\xbb\xbfsubject,tag\r\nu1,a\r\nu2,\"b\"\r\n"],
                         ids=["bom-header", "bom-no-header", "bom-header-crlf-quoted"])
def test_a_bom_is_not_data(db: str, service: Service, tmp_path: Path, data: bytes) -> None:
    """A UTF-8 BOM (what spreadsheets write) starts the file: the header is not imported as a row,
    and the first subject's id does not begin with U+FEFF."""
    f = tmp_path / "bom.csv"
    f.write_bytes(data)
    result = run_import(db, f)
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert members(service) == {("u1", "a"), ("u2", "b")}
    assert not [n for n in names(service) if "\ufeff" in n or n in ("subject", "tag")], names(service)


def test_bom_in_ndjson(db: str, service: Service, tmp_path: Path) -> None:
    f = tmp_path / "bom.ndjson"
    f.write_bytes(b'\xef\xbb\xbf{"subject": "u1", "tags": ["a"]}\n{"subject": "u2", "tags": ["b"]}\n')
    result = run_import(db, f)
    no_traceback(result)
    assert result.exit_code == 0, result.output
    assert members(service) == {("u1", "a"), ("u2", "b")}


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"subject,tag\n", b"\n\n\n", b"\x00"],
                         ids=["empty", "only-bom", "only-header", "blank-lines", "one-nul"])
def test_files_with_no_rows(db: str, service: Service, tmp_path: Path, data: bytes) -> None:
    f = tmp_path / "none.csv"
    f.write_bytes(data)
    result = run_import(db, f)
    no_traceback(result)
    assert members(service) == set()
    assert not [n for n in names(service) if "\x00" in n or "\ufeff" in n], names(service)


def test_the_real_command_prints_no_traceback(db: str, service: Service, tmp_path: Path) -> None:
    """The installed entry point, in its own process: stderr carries a message, not a traceback."""
    f = tmp_path / "bad.csv"
    f.write_bytes(b'u1,a\nu2,\xff\nu3,"' + b"x" * 200_000 + b'"\n')
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.run([sys.executable, "-m", "polytag", "import", str(f), "--app", APP, "--db", db, *FLAGS],
                          capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)
    assert proc.returncode != 0, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    assert re.search(r"\b(line|row|byte)s? \d+", proc.stderr), proc.stderr[-500:]
    whole_or_nothing(service, {("u1", "a")})
