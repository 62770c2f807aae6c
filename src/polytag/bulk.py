"""Bulk import and export of memberships: streamed files in, streamed CSV/NDJSON out, constant memory.

Formats (the export of one is a valid import of the other):
- CSV: `subject,tag`, one membership a row (an optional `subject,tag` header; an empty tag
  names a subject without tags).
- NDJSON: `{"subject": "...", "tags": ["...", ...]}` one subject a line.
Tags are given by name (or id when no tag has that name).

Reading never stops with a traceback: a UTF-8 byte order mark before the first line is skipped;
a line that is not valid UTF-8 (the CLI reads with `surrogateescape`), holds NUL, or is not
well-formed is reported by its number and skipped. A quoted field may be long (up to
`CSV_FIELD_MAX`; a name that long is then refused as a row error like any other). A field past
`CSV_FIELD_MAX`, or a quote still open at the end of the file, stops reading there with the
line it started on, since what follows cannot be split into rows with any confidence.

CSV cells that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, tab or
carriage return) are written with a `'` in front (OWASP's advice), and so is a cell that starts
with `'` followed by one of those or another `'`; import removes that one `'` again, so an export
imports back to the same memberships.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np
import orjson
from pyroaring import BitMap

from polytag.core.expr import Ref, TagNames
from polytag.core.models import App
from polytag.core.service import Service
from polytag.core.tags import check_name, tag_from_row
from polytag.core.text import storable
from polytag.errors import Invalid, PolytagError
from polytag.store import Tx

NDJSON, CSV = "application/x-ndjson", "text/csv"
BATCH = 50_000
CSV_FIELD_MAX = 16 * 1024 * 1024  # characters: the csv module's own limit (128 KiB) made fatal errors of long names
csv.field_size_limit(max(csv.field_size_limit(), CSV_FIELD_MAX))
EXPORT_CHUNK = 10_000
Batch = tuple[list[int], list[str], list[str]]  # (lines, subjects, tags), one membership an index


# reading ---------------------------------------------------------------------------
def read_rows(stream: Iterable[str], fmt: str, errors: list[tuple[int, str]], size: int = BATCH
              ) -> Iterator[Batch]:
    """Membership pairs of a CSV or NDJSON stream, `size` at a time; malformed lines go to `errors`.

    A batch is three parallel lists (line, subject, tag); tag "" means "the subject, no tag".
    Flat lists rather than a tuple per row: parsing is most of an import's cost."""
    if fmt != "ndjson":
        yield from _csv_batches(stream, errors, size)
        return
    yield from _batched(_ndjson_pairs(stream, errors), size)


def _batched(pairs: Iterable[tuple[int, str, str]], size: int) -> Iterator[Batch]:
    lines: list[int] = []
    subs: list[str] = []
    tags: list[str] = []
    for n, subject, tag in pairs:
        lines.append(n)
        subs.append(subject)
        tags.append(tag)
        if len(lines) >= size:
            yield lines, subs, tags
            lines, subs, tags = [], [], []
    if lines:
        yield lines, subs, tags


BOM = "\ufeff"  # a byte order mark before the first line is skipped
# lines of two non-empty, unpadded fields, none starting with `'` (an escaped cell) nor holding
# NUL or a lone surrogate (text no store holds): any other block is read row by row
_CELL = "[^,\\s\"'\x00\ud800-\udfff][^,\\s\"\x00\ud800-\udfff]*"
_PLAIN = re.compile(f"(?:{_CELL},{_CELL}\n)*")


def _csv_batches(stream: Iterable[str], errors: list[tuple[int, str]], size: int) -> Iterator[Batch]:
    """CSV batches. A block of plain `subject,tag` lines (no quotes, blanks or padding: what
    exports and most tools write) is split in one pass of C string methods; anything else,
    from the first block that needs it on, goes through the csv module row by row."""
    lines = iter(stream)  # a file is its own iterator; a list is read once, not from the start each block
    seen = 0
    while True:
        block = list(itertools.islice(lines, size))
        if not block:
            return
        first = seen + 1
        seen += len(block)
        if first == 1 and block[0].startswith(BOM):  # Excel writes one; it is not part of the header
            block[0] = block[0][1:]
        text = "".join(block)
        if '"' in text or "\r" in text:  # quoting (maybe a field over several lines): csv module
            yield from _batched(_csv_pairs(itertools.chain(block, lines), errors, first), size)
            return
        if first == 1 and block[0].strip().lower().replace(" ", "") == "subject,tag":
            text, first = text[len(block[0]):], 2
        if not text:
            continue
        if not text.endswith("\n"):
            text += "\n"
        rows = text.count("\n")
        if _PLAIN.fullmatch(text):
            flat = text[:-1].replace("\n", ",").split(",")
            yield list(range(first, first + rows)), flat[0::2], flat[1::2]
        else:
            yield from _batched(_csv_pairs(io.StringIO(text), errors, first), size)


def _csv_pairs(stream: Iterable[str], errors: list[tuple[int, str]], start: int = 1
               ) -> Iterator[tuple[int, str, str]]:
    reader = csv.reader(stream, strict=True)  # strict: a quote left open at the end is an error
    n = start - 1
    while True:
        n = start + reader.line_num  # the line the next record starts on
        try:
            rec = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            errors.append((n, f"unreadable CSV ({exc}; an unterminated quote?): lines from {n} on "
                              "were not read"))
            return
        if len(rec) == 2:
            subject = rec[0].strip()
            if subject and not (n == 1 and subject.lower() == "subject" and rec[1].strip().lower() == "tag"):
                tag = rec[1].strip()
                if not storable(subject) or not storable(tag):
                    errors.append((n, UNSTORABLE))
                    continue
                yield n, unescape_cell(subject), unescape_cell(tag)
                continue
            if subject:
                continue  # the header
        if rec:
            errors.append((n, "expected two columns: subject,tag"))


UNSTORABLE = "not valid UTF-8 text (or holds NUL)"


def _ndjson_pairs(stream: Iterable[str], errors: list[tuple[int, str]]) -> Iterator[tuple[int, str, str]]:
    for n, line in enumerate(stream, 1):
        if n == 1 and line.startswith(BOM):
            line = line[1:]
        if line.strip():
            row = _ndjson_row(n, line, errors)
            if row is not None:
                for tag in row[2] or [""]:
                    yield n, row[1], tag


def _ndjson_row(n: int, line: str, errors: list[tuple[int, str]]) -> tuple[int, str, list[str]] | None:
    if not storable(line):  # bytes that were not UTF-8 (orjson would say so less plainly)
        errors.append((n, UNSTORABLE))
        return None
    try:
        obj = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        errors.append((n, f"not JSON: {exc}"))
        return None
    subject, tags = (obj.get("subject"), obj.get("tags", [])) if isinstance(obj, dict) else (None, None)
    if not isinstance(subject, str) or not subject.strip():
        errors.append((n, "expected {\"subject\": \"...\", \"tags\": [...]}"))
        return None
    if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
        errors.append((n, "tags must be a list of non-empty strings"))
        return None
    if not storable(subject) or not all(storable(t) for t in tags):  # "\u0000" in the JSON
        errors.append((n, UNSTORABLE))
        return None
    return n, subject.strip(), tags


def guess_format(path: str) -> str:
    return "ndjson" if path.endswith((".ndjson", ".jsonl", ".json")) else "csv"


# importing -------------------------------------------------------------------------
@dataclass
class Report:
    """What an import did (or would do, for a dry run)."""

    rows: int = 0
    added: int = 0
    created_subjects: int = 0
    created_tags: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)


class _DryRun(Exception):
    """Raised at the end of a dry-run batch so its savepoint is rolled back."""


def import_rows(
    service: Service, app: App, batches: Iterable[Batch], *, create_subjects: bool = False,
    create_tags: bool = False, dry_run: bool = False, report: Report | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Apply batches (from `read_rows`), one write op each; idempotent; bad rows are reported by line.

    Batches are pipelined: the next one is parsed while the writer applies the previous one
    (ops run in submission order, so tags and subjects a batch creates exist for the next)."""
    report = report or Report()
    pending: tuple[Future[Report], int] | None = None

    def submit(batch: Batch) -> tuple[Future[Report], int]:
        # what needs no database is done here, while the writer is busy in SQL with the last batch
        subjects, keys = list(dict.fromkeys(batch[1])), set(batch[2]) - {""}

        def op(tx: Tx) -> Report:
            part = _apply(service, tx, app, batch, subjects, keys, create_subjects, create_tags)
            if dry_run:
                raise _DryRun(part)
            return part

        return service.store.submit(op), len(set(batch[0]))

    for batch in batches:
        if pending:
            _collect(pending, report, progress)
        pending = submit(batch)
    if pending:
        _collect(pending, report, progress)
    report.errors = sorted(set(report.errors))
    return report


def _collect(pending: tuple[Future[Report], int], report: Report,
             progress: Callable[[int], None] | None) -> None:
    fut, n = pending
    try:
        part = fut.result()
    except _DryRun as done:
        part = done.args[0]
    report.rows += n
    report.added += part.added
    report.created_subjects += part.created_subjects
    report.created_tags += part.created_tags
    report.errors += part.errors
    if progress:
        progress(n)


def _apply(service: Service, tx: Tx, app: App, batch: Batch, subjects: list[str], keys: set[str],
           create_subjects: bool, create_tags: bool) -> Report:
    """One batch; `subjects` are the batch's distinct subjects, `keys` its distinct tag keys."""
    part = Report()
    lines, subs, tags = batch
    if create_subjects:
        head = tx.app_head(app.id)
        first_new = int(head[1]) if head else 0
        ords = service.subjects.create(tx, app, subjects, service.now_s())
        known = dict(zip(subjects, ords, strict=True))
        part.created_subjects = sum(1 for o in ords if o >= first_new)
    else:
        known = service.subjects.find(app, subjects, tx)
    found = _tags(service, tx, app, keys, create_tags, part)
    codes = {k: v if isinstance(v, int) else -1 for k, v in found.items()}
    codes[""] = -2  # a subject without a tag
    # map() over C-level lookups: no Python frame per row
    o = np.fromiter(map(known.get, subs, itertools.repeat(-1)), dtype=np.int64, count=len(subs))
    t = np.fromiter(map(codes.__getitem__, tags), dtype=np.int64, count=len(tags))
    for i in np.flatnonzero(o < 0).tolist():
        part.errors.append((lines[i], f"unknown subject {subs[i]!r} (use --create-subjects)"))
    for i in np.flatnonzero((t == -1) & (o >= 0)).tolist():
        part.errors.append((lines[i], str(found[tags[i]])))
    ok = (o >= 0) & (t >= 0)
    o, t = o[ok], t[ok]
    for tag_ord in np.unique(t).tolist():
        members = BitMap(o[t == tag_ord].astype(np.uint32))
        try:
            part.added += len(service.memberships.add(tx, app, tag_ord, members, app.limits.tags_per_subject))
        except PolytagError as exc:  # a cap: the whole tag's part of the batch is refused
            part.errors.append((lines[0], f"tag #{tag_ord}, batch from line {lines[0]}: {exc}"))
    return part


def _tags(service: Service, tx: Tx, app: App, keys: set[str], create: bool,
          part: Report) -> dict[str, int | str]:
    """tag key -> ordinal, or -> the reason it cannot be used."""
    names = TagNames(tag_from_row(r) for r in tx.tags(app.id))
    out: dict[str, int | str] = {}
    for key in sorted(keys):
        try:
            out[key] = names.find(Ref(key, key))
        except Invalid as exc:
            if exc.reason != "unknown_tag":
                out[key] = f"tag {key!r}: {exc.reason.replace('_', ' ')}"
            elif not create:
                out[key] = f"unknown tag {key!r} (use --create-tags)"
            else:
                out[key] = _create_tag(service, tx, app, key, part)
    return out


def _create_tag(service: Service, tx: Tx, app: App, name: str, part: Report) -> int | str:
    try:
        check_name(app.limits, name)
        tag = service.tags.create(tx, app, name, now_ms=service.now_ms())
    except PolytagError as exc:
        return f"cannot create tag {name!r}: {exc}"
    part.created_tags += 1
    return tag.ord


# exporting -------------------------------------------------------------------------
def export_chunks(service: Service, app: App, members: BitMap, fmt: str) -> Iterator[bytes]:
    """The subjects of `members` with their tags, 10,000 subjects a chunk, in subject order."""
    if fmt == "csv":
        yield b"subject,tag\r\n"
    tags = [(r[0], r[2]) for r in service.store.read().tags(app.id)]
    for start in range(0, len(members), EXPORT_CHUNK):
        chunk = members[start:start + EXPORT_CHUNK]
        ords = list(chunk)
        carried: dict[int, list[str]] = {}
        idx = service.memberships.index(app)
        with idx.lock:
            for tag_ord, name in tags:
                for o in idx.members(tag_ord) & chunk:
                    carried.setdefault(o, []).append(name)
        ext = service.subjects.ext_ids(app, ords)
        yield _render(ext, [carried.get(o, []) for o in ords], fmt)


def _render(ext: list[str], tags: list[list[str]], fmt: str) -> bytes:
    if fmt == "ndjson":
        return b"".join(orjson.dumps({"subject": s, "tags": t}) + b"\n" for s, t in zip(ext, tags, strict=True))
    out = io.StringIO()
    w = csv.writer(out)
    cell = escape_cell
    for s, ts in zip(ext, tags, strict=True):
        w.writerows([(cell(s), cell(t)) for t in ts] if ts else [(cell(s), "")])
    return out.getvalue().encode()


FORMULA = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet may run as a formula (OWASP)


def escape_cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: `'` before formula-looking text, and before a `'`
    that precedes such text or another `'` (so `unescape_cell` can tell them apart)."""
    if text.startswith(FORMULA) or (text.startswith("'") and text[1:2] in (*FORMULA, "'") and text[1:2]):
        return "'" + text
    return text


def unescape_cell(text: str) -> str:
    """The inverse of `escape_cell`: one leading `'` removed when it precedes formula text or `'`."""
    if text.startswith("'") and text[1:2] and text[1:2] in (*FORMULA, "'"):
        return text[1:]
    return text
