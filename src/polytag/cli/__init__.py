"""The `polytag` command. Commands live in modules by what they touch; importing them registers them."""

from __future__ import annotations

import click

from polytag import __version__, dialects
from polytag.errors import PolytagError


@click.group()
@click.version_option(__version__, prog_name="polytag")
def main() -> None:
    """polytag: a self-hostable user tag service speaking WeChat, Tencent IM and JuziBot."""


def _service(db: str):
    from polytag.core.service import Service
    from polytag.store import open_store

    found = dialects.discover()
    try:
        store = open_store(db)
    except (ValueError, PolytagError) as exc:  # a bad URL, a database that is down
        raise click.ClickException(str(exc)) from exc
    return Service(store, dialects.presets(found)), found


# the command modules register themselves on `main` (they import it from here)
from polytag.cli import callbacks, data, remote, server, vendors  # noqa: E402, F401
