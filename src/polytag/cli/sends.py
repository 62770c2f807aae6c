"""`polytag sends`: what was sent to an audience, and who it reached at send time (from the database)."""

from __future__ import annotations

import json

import click

from polytag.cli import _service, main
from polytag.config import DEFAULT_DB


@main.command("sends")
@click.option("--app", "app_name", required=True, help="the app (its name: the vendor's app id)")
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
@click.option("--json", "as_json", is_flag=True, help="one JSON document per send, audience included")
def sends_cmd(app_name: str, db: str, as_json: bool) -> None:
    """List an app's sends (mass messages, push tasks), oldest first."""
    from polytag.control.sends import select

    service, _ = _service(db)
    try:
        try:
            got = select(service, app_name)
        except LookupError:
            raise click.ClickException(f"no app {app_name[:100]!r}") from None
        if as_json:
            for s in got:
                click.echo(json.dumps(s, ensure_ascii=False))
            return
        click.echo(f"{'id':<20} {'kind':<10} {'target':<20} {'msgtype':<8} {'status':<8} {'audience':>9}")
        for s in got:
            click.echo(f"{s['id']:<20} {s['kind']:<10} {s['target'][:20]:<20} {s['msgtype']:<8} "
                       f"{s['status']:<8} {s['audience_size']:>9}")
    finally:
        service.store.close()
