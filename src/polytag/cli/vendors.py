"""Dialect-specific questions answered from the database: customer-tags (JuziBot), pushes (IM)."""

from __future__ import annotations

import click

from polytag.cli import _service, main  # noqa: F401
from polytag.config import DEFAULT_DB


@main.command("customer-tags")
@click.option("--app", "app_name", required=True, help="the app's name")
@click.argument("union_id")
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
def customer_tags(app_name: str, union_id: str, db: str) -> None:
    """Print the tags a customer carries across all members: tag id, group, tag, members."""
    from polytag.core.contacts import Contacts
    from polytag.errors import NotFound

    service, _ = _service(db)
    try:
        carried = Contacts.of(service).customer_tags(service.apps.get(app_name), union_id)
    except NotFound as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        service.store.close()
    for c in carried:
        click.echo(f"{c.tag.ext_id}\t{c.group_name}\t{c.tag.name}\t{','.join(c.members)}")


@main.command("pushes")
@click.option("--app", "app_name", required=True, help="the app (an IM SDKAppID)")
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
def pushes(app_name: str, db: str) -> None:
    """Print the app's push log, one JSON object per push (TaskId, condition, audience)."""
    import json

    from polytag.core.im import im
    from polytag.errors import NotFound

    service, _ = _service(db)
    try:
        app = service.apps.get(app_name)
        for p in im(service).pushes.log(app):
            click.echo(json.dumps({
                "TaskId": p.task_id, "MsgRandom": p.msg_random, "time": p.created_at,
                "Condition": p.condition, "From_Account": p.from_account, "MsgLifeTime": p.lifetime,
                "audience_size": len(p.audience), "audience": p.audience,
            }, ensure_ascii=False))
    except NotFound as exc:
        raise click.ClickException(f"no app {app_name!r}") from exc
    finally:
        service.store.close()
