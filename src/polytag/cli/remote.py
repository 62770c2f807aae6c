"""The emulator control plane of a running server, over HTTP: reset, requests, faults, clock, snapshot."""

from __future__ import annotations

import click

from polytag.cli import _refuse_unusable, _service, main  # noqa: F401

# --- the emulator control plane, over HTTP to a running server (polytag.control) ---------------
MAX_SENT = 4096  # characters of one option's value (an app name, a path glob, a token, ...)


def _control(url: str, admin_key: str | None):  # -> polytag.control.sdk.Control
    import httpx

    from polytag.control.sdk import Control

    headers = {"Authorization": f"Bearer {admin_key}"} if admin_key else {}
    return Control(httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=60))


def _remote(fn):
    """`--url` and `--admin-key` options; control-plane refusals become click errors."""
    import functools

    @click.option("--url", default="http://127.0.0.1:8080", show_default=True, envvar="POLYTAG_URL")
    @click.option("--admin-key", envvar="POLYTAG_ADMIN_KEY", default=None)
    @functools.wraps(fn)
    def wrapper(url: str, admin_key: str | None, **kw):
        import httpx

        from polytag.control.sdk import ControlError

        _refuse_unsendable(url, admin_key)
        try:
            ctl = _control(url, admin_key)
        except httpx.InvalidURL as exc:
            raise click.BadParameter(str(exc), param_hint="'--url'") from exc
        try:
            return fn(ctl, **kw)
        except (ControlError, httpx.HTTPError) as exc:
            raise click.ClickException(str(exc)) from exc
        except httpx.InvalidURL as exc:  # e.g. a query past httpx's URL length
            raise click.ClickException(f"cannot send the request: {exc}") from exc
        finally:
            ctl.http.close()

    return wrapper


def _refuse_unsendable(url: str, admin_key: str | None) -> None:
    """Values no request can carry (or that would name nothing), refused by their option before
    anything is sent: an empty value, one past MAX_SENT characters, a URL or key HTTP cannot take."""
    _refuse_unusable()
    ctx = click.get_current_context()
    for param in ctx.command.params:
        value = ctx.params.get(param.name or "")
        if value == "" or (isinstance(value, str) and len(value) > MAX_SENT):
            raise click.BadParameter("is empty" if value == "" else f"is longer than {MAX_SENT} characters",
                                     ctx, param)
    if not url.lower().startswith(("http://", "https://")) or len(url) > 2048:
        raise click.BadParameter("must be the server's http:// or https:// URL (2048 characters at most)",
                                 param_hint="'--url'")
    if admin_key and not all(" " <= c <= "~" for c in admin_key):
        raise click.BadParameter("must be printable ASCII (an HTTP header carries it)", param_hint="'--admin-key'")


def _echo_json(doc: object) -> None:
    import json

    click.echo(json.dumps(doc, ensure_ascii=False, indent=2))


@main.command("reset")
@click.option("--app", "app_name", default=None, help="reset only this app")
@_remote
def reset_cmd(ctl, app_name: str | None) -> None:
    """Reset a running server to its startup seed files (or one app)."""
    _echo_json(ctl.reset(app_name))


@main.command("requests")
@click.option("--app", "app_name", default=None)
@click.option("--dialect", default=None)
@click.option("--path", default=None, help="exact path or glob")
@click.option("--limit", default=None, type=click.IntRange(min=0))
@click.option("--clear", is_flag=True, help="empty the journal instead")
@_remote
def requests_cmd(ctl, app_name, dialect, path, limit, clear) -> None:
    """Print the request journal, one JSON object per line (or clear it)."""
    import json

    if clear:
        click.echo(f"cleared {ctl.clear_requests(app_name)} entries")
        return
    for entry in ctl.requests(app=app_name, dialect=dialect, path=path, limit=limit):
        click.echo(json.dumps(entry, ensure_ascii=False))


@main.group("faults")
def faults_cmd() -> None:
    """Injected faults of a running server."""


@faults_cmd.command("list")
@_remote
def faults_list(ctl) -> None:
    _echo_json(ctl.faults())


@faults_cmd.command("add")
@click.option("--dialect", required=True)
@click.option("--app", "app_name", default=None)
@click.option("--path", default=None, help="glob below the dialect's prefix, e.g. 'tags/*'")
@click.option("--error", default=None, type=int, help="the vendor error code to answer")
@click.option("--latency-ms", default=None, type=float)
@click.option("--probability", default=None, type=float)
@click.option("--times", default=None, type=int)
@click.option("--seed", "seed_", default=None, type=int)
@_remote
def faults_add(ctl, dialect, app_name, path, error, latency_ms, probability, times, seed_) -> None:
    click.echo(ctl.add_fault(dialect, app=app_name, path=path, error=error, latency_ms=latency_ms,
                             probability=probability, times=times, seed=seed_))


@faults_cmd.command("rm")
@click.argument("fault_id", required=False)
@click.option("--all", "everything", is_flag=True)
@_remote
def faults_rm(ctl, fault_id, everything) -> None:
    """Remove one fault by id, or --all of them."""
    if everything and fault_id:
        raise click.UsageError("give a fault id or --all, not both")
    if everything:
        ctl.clear_faults()
    elif fault_id:
        ctl.remove_fault(fault_id)
    else:
        raise click.UsageError("give a fault id or --all")


@main.command("clock")
@click.option("--advance", "advance_s", default=None, type=float, help="seconds forward")
@click.option("--set", "when", default=None, help="an ISO 8601 time")
@click.option("--real", is_flag=True, help="back to real time")
@_remote
def clock_cmd(ctl, advance_s, when, real) -> None:
    """Show or move the emulator's clock."""
    if advance_s is not None:
        _echo_json(ctl.clock_advance(advance_s))
    elif when is not None:
        _echo_json(ctl.clock_set(when))
    elif real:
        _echo_json(ctl.clock_real())
    else:
        _echo_json(ctl.clock())


@main.command("snapshot")
@click.option("--app", "app_name", default=None)
@click.option("--load", "load_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="load this snapshot file instead of printing one")
@click.option("--secrets", is_flag=True,
              help="include plain-text secrets (signing keys, live reissuable tokens); left out by default")
@_remote
def snapshot_cmd(ctl, app_name, load_file, secrets) -> None:
    """Print a snapshot of a running server (JSON), or load one."""
    import json
    from pathlib import Path

    if load_file:
        try:
            doc = json.loads(Path(load_file).read_text("utf-8"))
        except ValueError as exc:  # not JSON, not UTF-8
            raise click.BadParameter(f"{load_file[:200]} is not a JSON snapshot: {exc}",
                                     param_hint="'--load'") from exc
        click.echo(f"loaded {', '.join(ctl.load_snapshot(doc))}")
    else:
        click.echo(json.dumps(ctl.snapshot(app_name, secrets=secrets), ensure_ascii=False))
