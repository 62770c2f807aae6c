"""The `polytag` command. Commands live in modules by what they touch; importing them registers them."""

from __future__ import annotations

import click

from polytag import __version__, dialects
from polytag.errors import PolytagError


@click.group()
@click.version_option(__version__, prog_name="polytag")
def main() -> None:
    """polytag: a self-hostable user tag service speaking vendors' tag APIs byte for byte."""


def _service(db: str):
    from polytag.store import open_store

    found = dialects.discover()
    try:
        store = open_store(db)
    except (ValueError, PolytagError) as exc:  # a bad URL, a database that is down
        raise click.ClickException(str(exc)) from exc
    return dialects.build_service(store, found), found


def _dialect_commands() -> None:
    """Each dialect's own commands (`Dialect.commands`), added beside the built-in ones."""
    for dialect in dialects.discover().values():
        for command in dialect.commands:
            main.add_command(command)


# the command modules register themselves on `main` (they import it from here)
from polytag.cli import callbacks, data, remote, sends, server  # noqa: E402, F401

_dialect_commands()
