"""This dialect's `polytag` commands, answered from the database (registered via the record)."""

from __future__ import annotations

import click

from polytag.config import DEFAULT_DB


@click.command("pushes")
@click.option("--app", "app_name", required=True, help="the app (an IM SDKAppID)")
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
def pushes(app_name: str, db: str) -> None:
    """Print the app's push log, one JSON object per push (TaskId, condition, audience)."""
    import json

    from polytag.cli import _service
    from polytag.dialects.tencent_im.parts import im
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
        raise click.ClickException(f"no app {app_name[:100]!r}") from exc
    finally:
        service.store.close()


COMMANDS = (pushes,)
