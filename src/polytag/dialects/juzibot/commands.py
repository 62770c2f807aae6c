"""This dialect's `polytag` commands, answered from the database (registered via the record)."""

from __future__ import annotations

import click

from polytag.config import DEFAULT_DB


@click.command("customer-tags")
@click.option("--app", "app_name", required=True, help="the app's name")
@click.argument("union_id")
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
def customer_tags(app_name: str, union_id: str, db: str) -> None:
    """Print the tags a customer carries across all members: tag id, group, tag, members."""
    from polytag.cli import _service
    from polytag.dialects.juzibot.parts import contacts
    from polytag.errors import NotFound

    service, _ = _service(db)
    try:
        carried = contacts(service).customer_tags(service.apps.get(app_name), union_id)
    except NotFound as exc:
        raise click.ClickException(str(exc)[:300]) from exc
    finally:
        service.store.close()
    for c in carried:
        click.echo(f"{c.tag.ext_id}\t{c.group_name}\t{c.tag.name}\t{','.join(c.members)}")


COMMANDS = (customer_tags,)
