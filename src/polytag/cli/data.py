"""Bulk import/export and audiences, straight on the database."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

import click

from polytag.cli import _service, main  # noqa: F401
from polytag.config import DEFAULT_DB
from polytag.errors import PolytagError

if TYPE_CHECKING:
    from polytag.bulk import Report


# --- bulk import / export and audiences (native API's CLI face) ---------------------------
def _app_or_fail(service, app_name: str):
    from polytag.errors import NotFound

    try:
        return service.apps.get(app_name)
    except NotFound as exc:
        service.store.close()
        raise click.ClickException(f"no app {app_name[:100]!r}") from exc


def _text_in(file: str) -> IO[str]:
    """The file (or stdin) as text; bytes that are not UTF-8 become lone surrogates, which the
    reader reports line by line instead of stopping with a UnicodeDecodeError."""
    if file == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="surrogateescape", newline="")
    return open(file, encoding="utf-8", errors="surrogateescape", newline="")


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True))
@click.option("--app", "app_name", required=True, help="the app's name (appid, sdkappid, name)")
@click.option("--format", "fmt", type=click.Choice(["csv", "ndjson"]), default=None,
              help="default: by the file's extension (.ndjson/.jsonl: NDJSON, else CSV)")
@click.option("--create-subjects", is_flag=True, help="create subjects that do not exist yet")
@click.option("--create-tags", is_flag=True, help="create tags that do not exist yet")
@click.option("--dry-run", is_flag=True, help="check and count everything, change nothing")
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
def import_cmd(file: str, app_name: str, fmt: str | None, create_subjects: bool, create_tags: bool,
               dry_run: bool, db: str) -> None:
    """Import memberships from CSV (`subject,tag` rows) or NDJSON (`{"subject", "tags"}`), streamed.

    Lines that cannot be used (not UTF-8, malformed, unknown subjects or tags) are reported by
    number and skipped; the others are imported. CSV cells an export escaped for spreadsheets
    (a leading `'`) are read back unescaped."""
    import os

    from polytag import bulk

    service, _ = _service(db)
    app = _app_or_fail(service, app_name)
    report = bulk.Report()
    size = os.path.getsize(file) if file != "-" else None
    try:
        _import_file(service, app, file, size, fmt, report, create_subjects=create_subjects,
                     create_tags=create_tags, dry_run=dry_run)
    except PolytagError as exc:  # the store refused a batch (down, busy): what was done is reported
        raise click.ClickException(f"import stopped after {report.rows} rows: {exc}") from exc
    finally:
        service.store.close()
    _say_imported(report, dry_run)
    if report.errors:
        sys.exit(1)


def _import_file(service, app, file: str, size: int | None, fmt: str | None, report: Report, *,
                 create_subjects: bool, create_tags: bool, dry_run: bool) -> None:
    """The file's rows streamed into the app, with a progress bar on stderr (by bytes read, when
    the size is known); `report` counts what was done and holds the lines refused."""
    from tqdm import tqdm

    from polytag import bulk

    with _text_in(file) as stream, \
            tqdm(total=size, unit="B", unit_scale=True, desc="import", file=sys.stderr,
                 disable=None) as bar:
        rows = bulk.read_rows(stream, fmt or bulk.guess_format(file), report.errors)
        bulk.import_rows(service, app, rows, create_subjects=create_subjects, create_tags=create_tags,
                         dry_run=dry_run, report=report, progress=_progress(stream, bar, size))


def _progress(stream: IO[str], bar: Any, size: int | None) -> Callable[[int], None]:
    """Moves `bar` to the stream's position in bytes (nothing when the size is unknown)."""
    pos = [0]

    def progress(_n: int) -> None:
        if size:
            at = stream.buffer.tell() if hasattr(stream, "buffer") else 0
            bar.update(max(0, at - pos[0]))
            pos[0] = at

    return progress


def _say_imported(report: Report, dry_run: bool) -> None:
    """The lines refused on stderr, then one line of counts."""
    for line, reason in report.errors:
        click.echo(f"line {line}: {reason}", err=True)
    verb = "would add" if dry_run else "added"
    click.echo(f"{report.rows} rows: {verb} {report.added} memberships, {report.created_subjects} subjects, "
               f"{report.created_tags} tags; {len(report.errors)} errors")


@main.command("export")
@click.option("--app", "app_name", required=True, help="the app's name")
@click.option("--audience", "expr", default=None, help="an audience expression (default: everyone)")
@click.option("--format", "fmt", type=click.Choice(["csv", "ndjson"]), default="ndjson", show_default=True)
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
def export_cmd(app_name: str, expr: str | None, fmt: str, db: str) -> None:
    """Write the app's subjects (or an audience) with their tags to stdout, streamed. CSV cells a
    spreadsheet would run as formulas get a leading `'` (import reads them back unescaped)."""
    from polytag import bulk
    from polytag.core import native

    service, _ = _service(db)
    app = _app_or_fail(service, app_name)
    out = sys.stdout.buffer
    try:
        if expr is None:
            members = native.universe(service.store.read(), app)
        else:
            members = native.audience(service, app, expr).members
        for chunk in bulk.export_chunks(service, app, members, fmt):
            out.write(chunk)
    except PolytagError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        service.store.close()


@main.group("audience")
def audience_cmd() -> None:
    """Audiences: boolean expressions over tags, e.g. '广东 & (vip | 星标组) & !blacklist'."""


@audience_cmd.command("count")
@click.option("--app", "app_name", required=True)
@click.argument("expr")
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
def audience_count(app_name: str, expr: str, db: str) -> None:
    """Print how many subjects EXPR selects."""
    from polytag.core import native

    service, _ = _service(db)
    app = _app_or_fail(service, app_name)
    try:
        click.echo(native.audience_count(service, app, expr))
    except PolytagError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        service.store.close()


@audience_cmd.command("members")
@click.option("--app", "app_name", required=True)
@click.argument("expr")
@click.option("--limit", type=click.IntRange(min=0), default=None, help="at most this many (default: all)")
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
def audience_members(app_name: str, expr: str, limit: int | None, db: str) -> None:
    """Print the subjects EXPR selects, one a line, in subject order."""
    from polytag.core import native

    service, _ = _service(db)
    app = _app_or_fail(service, app_name)
    try:
        members = native.audience(service, app, expr).members
        stop = len(members) if limit is None else min(limit, len(members))
        for start in range(0, stop, 10_000):
            ords = list(members[start:min(stop, start + 10_000)])
            click.echo("\n".join(service.subjects.ext_ids(app, ords)))
    except PolytagError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        service.store.close()
