"""The `polytag` command: serve, seed, apps, migrate."""

from __future__ import annotations

import contextlib
import signal
import socket
import sys
from collections.abc import Iterator

import click

from polytag import __version__, dialects, seed
from polytag.config import DEFAULT_DB, Settings
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


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int, help="0 takes a free port")
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
@click.option("--seed", "seeds", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="seed file applied at start (repeatable)")
@click.option("--admin-key", envvar="POLYTAG_ADMIN_KEY", default=None,
              help="Bearer key for the native API and the control plane (env POLYTAG_ADMIN_KEY)")
@click.option("--log-level", default="warning", show_default=True)
@click.option("--id-seed", default="", envvar="POLYTAG_ID_SEED",
              help="make tokens, TaskIds and JuziBot ids deterministic for the same sequence of calls")
def serve(host: str, port: int, db: str, seeds: tuple[str, ...], admin_key: str | None, log_level: str,
          id_seed: str) -> None:
    """Start the server; prints `polytag ready on http://HOST:PORT` once it accepts connections."""
    import uvicorn

    from polytag.admin import is_loopback
    from polytag.app import build_service, create_app

    if not admin_key and not is_loopback(host):
        raise click.ClickException(
            f"refusing to serve on {host} without an admin key: the native API and the control plane "
            "would be open to the network. Pass --admin-key (or POLYTAG_ADMIN_KEY), or bind 127.0.0.1.")
    settings = Settings(db=db, host=host, port=port, seeds=seeds, admin_key=admin_key, id_seed=id_seed)
    try:
        service, _ = build_service(settings)
    except (ValueError, seed.SeedError, PolytagError) as exc:
        raise click.ClickException(str(exc)) from exc
    app = create_app(settings, service, close_store=True)
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        service.store.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
    bound = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level=log_level, access_log=False, lifespan="on",
                            loop="auto", http="auto", timeout_graceful_shutdown=5)
    shown = f"[{host}]" if ":" in host else host

    class ReadyServer(uvicorn.Server):
        """Says so on stdout once it listens (tests and scripts wait for the line), and exits 0
        after a graceful shutdown on SIGINT/SIGTERM (uvicorn re-raises the signal otherwise)."""

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            previous = {s: signal.signal(s, self.handle_exit) for s in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield
            finally:
                for s, handler in previous.items():
                    signal.signal(s, handler)

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets)
            if self.started:
                click.echo(f"polytag ready on http://{shown}:{bound}")
                sys.stdout.flush()

    # uvicorn picks the loop (uvloop when installed); a plain asyncio.run() here cost 50x
    ReadyServer(config).run(sockets=[sock])


@main.command("seed")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
def seed_cmd(file: str, db: str) -> None:
    """Apply a seed file (idempotent: apps already present are updated)."""
    service, found = _service(db)
    try:
        apps = seed.apply(service, seed.load(file), found)
    except seed.SeedError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        service.store.close()
    for app in apps:
        click.echo(f"seeded {app.dialect} app {app.name}")


@main.command()
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
def apps(db: str) -> None:
    """List the apps with their dialect, subject and tag counts."""
    service, _ = _service(db)
    try:
        rows = service.store.read()
        click.echo(f"{'dialect':<12} {'app':<36} {'subjects':>10} {'tags':>6}")
        for app in service.apps.list():
            click.echo(f"{app.dialect:<12} {app.name:<36} {rows.count_subjects(app.id):>10} "
                       f"{rows.count_tags(app.id):>6}")
    finally:
        service.store.close()


@main.command()
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
def migrate(db: str) -> None:
    """Apply pending schema migrations (also done at every start)."""
    service, _ = _service(db)
    service.store.close()
    click.echo(f"schema up to date ({db})")


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


# --- the emulator control plane, over HTTP to a running server (polytag.control) ---------------


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

        ctl = _control(url, admin_key)
        try:
            return fn(ctl, **kw)
        except (ControlError, httpx.HTTPError) as exc:
            raise click.ClickException(str(exc)) from exc
        finally:
            ctl.http.close()

    return wrapper


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
@click.option("--limit", default=None, type=int)
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
@_remote
def snapshot_cmd(ctl, app_name, load_file) -> None:
    """Print a snapshot of a running server (JSON), or load one."""
    import json
    from pathlib import Path

    if load_file:
        click.echo(f"loaded {', '.join(ctl.load_snapshot(json.loads(Path(load_file).read_text('utf-8'))))}")
    else:
        click.echo(json.dumps(ctl.snapshot(app_name), ensure_ascii=False))


# --- bulk import / export and audiences (native API's CLI face) ---------------------------
def _app_or_fail(service, app_name: str):
    from polytag.errors import NotFound

    try:
        return service.apps.get(app_name)
    except NotFound as exc:
        service.store.close()
        raise click.ClickException(f"no app {app_name!r}") from exc


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
    """Import memberships from CSV (`subject,tag` rows) or NDJSON (`{"subject", "tags"}`), streamed."""
    import os

    from tqdm import tqdm

    from polytag import bulk

    service, _ = _service(db)
    app = _app_or_fail(service, app_name)
    report = bulk.Report()
    size = os.path.getsize(file) if file != "-" else None
    try:
        with (sys.stdin if file == "-" else open(file, encoding="utf-8", newline="")) as stream, \
                tqdm(total=size, unit="B", unit_scale=True, desc="import", file=sys.stderr,
                     disable=None) as bar:
            rows = bulk.read_rows(stream, fmt or bulk.guess_format(file), report.errors)
            pos = [0]

            def progress(_n: int) -> None:
                if size:
                    at = stream.buffer.tell() if hasattr(stream, "buffer") else 0
                    bar.update(max(0, at - pos[0]))
                    pos[0] = at

            bulk.import_rows(service, app, rows, create_subjects=create_subjects, create_tags=create_tags,
                             dry_run=dry_run, report=report, progress=progress)
    finally:
        service.store.close()
    for line, reason in report.errors:
        click.echo(f"line {line}: {reason}", err=True)
    verb = "would add" if dry_run else "added"
    click.echo(f"{report.rows} rows: {verb} {report.added} memberships, {report.created_subjects} subjects, "
               f"{report.created_tags} tags; {len(report.errors)} errors")
    if report.errors:
        sys.exit(1)


@main.command("export")
@click.option("--app", "app_name", required=True, help="the app's name")
@click.option("--audience", "expr", default=None, help="an audience expression (default: everyone)")
@click.option("--format", "fmt", type=click.Choice(["csv", "ndjson"]), default="ndjson", show_default=True)
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
def export_cmd(app_name: str, expr: str | None, fmt: str, db: str) -> None:
    """Write the app's subjects (or an audience) with their tags to stdout, streamed."""
    from polytag import bulk
    from polytag.core import native
    from polytag.errors import PolytagError

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
    from polytag.errors import PolytagError

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
@click.option("--limit", type=int, default=None, help="at most this many (default: all)")
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
def audience_members(app_name: str, expr: str, limit: int | None, db: str) -> None:
    """Print the subjects EXPR selects, one a line, in subject order."""
    from polytag.core import native
    from polytag.errors import PolytagError

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
