"""The `polytag` command. Commands live in modules by what they touch; importing them registers them."""

from __future__ import annotations

import click

from polytag import __version__, dialects
from polytag.errors import PolytagError


@click.group()
@click.version_option(__version__, prog_name="polytag")
def main() -> None:
    """polytag: a self-hostable user tag service speaking vendors' tag APIs byte for byte."""


def _service(db: str, create: bool = False):
    """The service over `db`. A SQLite file that is not there is refused unless `create` (seed,
    migrate): a mistyped --db must not leave a new empty database (and its folders) behind."""
    import sqlite3

    from polytag.store import open_store

    _refuse_unusable()
    found = dialects.discover()
    missing = None if create else _missing_sqlite_file(db)
    if missing is not None:
        raise click.ClickException(f"no database at {missing[:200]!r} (`polytag seed` or `polytag serve` "
                                   "creates one)")
    try:
        store = open_store(db)
    except (ValueError, PolytagError, sqlite3.Error) as exc:  # a bad URL, a database down, not a database
        raise click.ClickException(" ".join(str(exc).split())[:300]) from exc  # one line, bounded
    return dialects.build_service(store, found), found


def _missing_sqlite_file(db: str) -> str | None:
    """The path of a `sqlite:` URL when no file is there, else None."""
    import os

    from polytag.store.sqlite import sqlite_path

    if db.split(":", 1)[0].lower() != "sqlite":
        return None
    path = sqlite_path(db)[0]
    return None if path == ":memory:" or os.path.exists(path) else path


def _refuse_unusable(ctx: click.Context | None = None) -> None:
    """Refuse, naming its option, a value no server or database can take: text holding NUL or a lone
    surrogate (command-line bytes that were not UTF-8), a number that is not finite."""
    ctx = ctx or click.get_current_context(silent=True)
    if ctx is None:
        return
    for param in ctx.command.params:
        problem = _unusable(ctx.params.get(param.name or ""))
        if problem:
            raise click.BadParameter(problem, ctx, param)


def _unusable(value: object) -> str:
    """What makes `value` unusable ("" when nothing does)."""
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return "must be a finite number"
    if not isinstance(value, str):
        return ""
    if "\x00" in value:
        return "holds a NUL character"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "holds a lone surrogate (bytes that are not UTF-8)"
    return ""


def _dialect_commands() -> None:
    """Each dialect's own commands (`Dialect.commands`), added beside the built-in ones."""
    for dialect in dialects.discover().values():
        for command in dialect.commands:
            main.add_command(command)


# the command modules register themselves on `main` (they import it from here)
from polytag.cli import callbacks, data, remote, sends, server  # noqa: E402, F401

_dialect_commands()
