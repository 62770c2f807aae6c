"""The server and its database: serve, seed, apps, migrate."""

from __future__ import annotations

import contextlib
import gc
import signal
import socket
import sqlite3
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING

import click

from polytag import deadlines, seed
from polytag.cli import _service, main  # noqa: F401
from polytag.config import (
    DEFAULT_DB,
    DEFAULT_MAX_BODY_BYTES,
    Settings,
    default_index_memory_mb,
    env_list,
)
from polytag.errors import PolytagError
from polytag.observe import logs
from polytag.observe.logs import FORMATS, LEVELS

if TYPE_CHECKING:
    import uvicorn

    from polytag.core.service import Service


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int, help="0 takes a free port")
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
@click.option("--seed", "seeds", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="seed file applied at start (repeatable)")
@click.option("--admin-key", envvar="POLYTAG_ADMIN_KEY", default=None,
              help="Bearer key for the native API, the control plane, /metrics and the console. Prefer "
                   "the env POLYTAG_ADMIN_KEY or --admin-key-file: a flag's value shows in `ps`")
@click.option("--admin-key-file", type=click.Path(exists=True, dir_okay=False), default=None,
              help="read the admin key from this file (its first line; keep it mode 0600)")
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help="a Host name the admin surfaces answer besides localhost, *.localhost and IP addresses "
                   "(repeatable; `*.example.com` for subdomains; env POLYTAG_ALLOWED_HOSTS, comma separated)")
@click.option("--callback-host", "callback_hosts", multiple=True, metavar="NAME",
              help="a host besides loopback that apps may name in a callback URL (repeatable; "
                   "`*.example.com`; `*` for any; env POLYTAG_CALLBACK_HOSTS, comma separated)")
@click.option("--log-level", default="warning", show_default=True, type=click.Choice(list(LEVELS), case_sensitive=False),
              help="polytag's and uvicorn's loggers; at info, one line per request")
@click.option("--log-format", default="json", show_default=True, type=click.Choice(FORMATS),
              help="log lines on stderr: one JSON object each, or text")
@click.option("--tls-cert", type=click.Path(exists=True, dir_okay=False), default=None,
              help="serve HTTPS with this PEM certificate (chain); needs --tls-key")
@click.option("--tls-key", type=click.Path(exists=True, dir_okay=False), default=None,
              help="the PEM private key of --tls-cert")
@click.option("--id-seed", default="", envvar="POLYTAG_ID_SEED",
              help="make tokens and generated ids deterministic for the same sequence of calls")
@click.option("--max-body-bytes", default=DEFAULT_MAX_BODY_BYTES, show_default=True,
              type=click.IntRange(min=1), envvar="POLYTAG_MAX_BODY_BYTES",
              help="request body cap; a larger body is refused in the dialect's envelope (native API, "
                   "control plane: 413)")
@click.option("--timeout-keep-alive", default=5, show_default=True, type=click.IntRange(min=1),
              help="seconds an idle connection is kept after a response")
@click.option("--timeout-headers", default=deadlines.HEADERS_S, show_default=True, type=click.FloatRange(min=0.1),
              help="seconds a request's headers may take, from the connection or the request's first byte")
@click.option("--timeout-body", default=deadlines.BODY_S, show_default=True, type=click.FloatRange(min=0.1),
              help="seconds a request's body may take after its headers")
@click.option("--limit-concurrency", default=1000, show_default=True, type=click.IntRange(min=1),
              help="open connections (or requests in progress) past which a request gets 503")
@click.option("--index-memory", "index_memory_mb", type=click.IntRange(min=0), envvar="POLYTAG_INDEX_MEMORY_MB",
              default=None, help="MB of app indexes and subject directories kept in memory, least recently "
              "used apps dropped past it (0: no limit) [default: 1024, or a quarter of RAM when less]")
def serve(host: str, port: int, db: str, seeds: tuple[str, ...], admin_key: str | None, admin_key_file: str | None,
          allowed_hosts: tuple[str, ...], callback_hosts: tuple[str, ...], log_level: str, log_format: str, tls_cert: str | None, tls_key: str | None,
          id_seed: str, max_body_bytes: int, timeout_keep_alive: int, timeout_headers: float, timeout_body: float,
          limit_concurrency: int, index_memory_mb: int | None) -> None:
    """Start the server; prints `polytag ready on http://HOST:PORT` (https with --tls-cert) once it
    accepts connections. Logs go to stderr.

    The admin key: set POLYTAG_ADMIN_KEY in the environment or use --admin-key-file, so that it
    does not show in `ps` as a flag would."""
    import uvicorn

    from polytag.app import create_app

    check_tls(tls_cert, tls_key)
    admin_key = _admin_key(host, admin_key_file, admin_key)
    settings = Settings(db=db, host=host, port=port, seeds=seeds, admin_key=admin_key, id_seed=id_seed,
                        max_body_bytes=max_body_bytes, allowed_hosts=allowed_hosts or env_list("POLYTAG_ALLOWED_HOSTS"),
                        callback_hosts=callback_hosts or env_list("POLYTAG_CALLBACK_HOSTS"),
                        index_memory_mb=default_index_memory_mb() if index_memory_mb is None else index_memory_mb)
    service = _build_service(settings)
    app = create_app(settings, service, close_store=True)
    sock = _bind(host, port, service)
    config = uvicorn.Config(app, log_level=LEVELS[log_level.lower()], log_config=logs.config(log_level, log_format),
                            access_log=False, lifespan="on", loop="auto",
                            http=deadlines.protocol(timeout_headers, timeout_body),
                            h11_max_incomplete_event_size=deadlines.MAX_HEADER_BYTES,
                            timeout_keep_alive=timeout_keep_alive, limit_concurrency=limit_concurrency,
                            timeout_graceful_shutdown=5, ssl_certfile=tls_cert, ssl_keyfile=tls_key)
    shown = f"{'https' if tls_cert else 'http'}://{f'[{host}]' if ':' in host else host}:{sock.getsockname()[1]}"
    # uvicorn picks the loop (uvloop when installed); a plain asyncio.run() here cost 50x
    _ready_server(config, shown).run(sockets=[sock])


def _admin_key(host: str, key_file: str | None, key: str | None) -> str | None:
    """The admin key (`key_from_file`); refused when there is none and `host` is not loopback."""
    from polytag.admin import is_loopback

    admin_key = key_from_file(key_file, key)
    if not admin_key and not is_loopback(host):
        raise click.ClickException(
            f"refusing to serve on {host} without an admin key: the native API and the control plane "
            "would be open to the network. Pass --admin-key (or POLYTAG_ADMIN_KEY), or bind 127.0.0.1.")
    return admin_key


def _build_service(settings: Settings) -> Service:
    """The Service of `settings`, seeded; what refuses to build is said as a command error."""
    from polytag.app import build_service

    try:
        return build_service(settings)[0]
    except (ValueError, seed.SeedError, PolytagError, sqlite3.Error) as exc:  # sqlite3: a folder, not a database
        raise click.ClickException(" ".join(str(exc).split())[:300]) from exc


def _bind(host: str, port: int, service: Service) -> socket.socket:
    """A socket bound to host:port (port 0: a free one); the service's store is closed if it cannot be."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        service.store.close()
        raise click.ClickException(f"cannot listen on {host}:{port}: {exc}") from exc
    return sock


def _ready_server(config: uvicorn.Config, shown: str) -> uvicorn.Server:
    """uvicorn's Server for `config`, ready to say it listens on `shown` (scheme://host:port)."""
    import uvicorn

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
            tune_gc()
            if self.started:
                click.echo(f"polytag ready on {shown}")
                sys.stdout.flush()

    return ReadyServer(config)


GC_YOUNG_THRESHOLD = 10_000  # allocations between young collections (CPython's default: 700)


def tune_gc() -> None:
    """A server allocates a few objects per request that all die young, while what lives long
    (the app directories, the indexes, the modules) is in place after startup: freeze that, and
    collect the young generation less often. Two paired in-process runs: 8-10 % less CPU per
    batchtagging request."""
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, older, oldest)


def key_from_file(path: str | None, key: str | None) -> str | None:
    """The admin key from `--admin-key-file` (its first line), or `key` when there is no file."""
    if path is None:
        return key
    if key:
        raise click.UsageError("give the admin key once: --admin-key-file, or --admin-key / POLYTAG_ADMIN_KEY")
    try:
        with open(path, encoding="utf-8") as f:
            found = f.readline().strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read the admin key from {path}: {exc}") from exc
    if not found:
        raise click.ClickException(f"{path} holds no admin key (its first line is empty)")
    return found


def check_tls(cert: str | None, key: str | None) -> None:
    """Both or neither, and a pair the TLS library accepts (said now, not as a startup traceback)."""
    if (cert is None) != (key is None):
        given, missing = ("--tls-cert", "--tls-key") if cert else ("--tls-key", "--tls-cert")
        raise click.UsageError(f"{given} needs {missing}: pass both (HTTPS) or neither (HTTP)")
    if cert is None or key is None:
        return
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, OSError) as exc:
        raise click.ClickException(f"cannot use {cert} with {key}: {exc}") from exc


class SeedRefused(click.ClickException):
    """A seed file polytag will not apply: its message, exit code 2 (as for a usage error)."""

    exit_code = 2


@main.command("seed")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--db", default=DEFAULT_DB, show_default=True, envvar="POLYTAG_DB")
def seed_cmd(file: str, db: str) -> None:
    """Apply a seed file (idempotent: apps already present are updated)."""
    try:
        doc = seed.load(file)  # checked whole (shape, counts, limits) before the database is opened
    except seed.SeedError as exc:
        raise SeedRefused(str(exc)) from exc
    service, found = _service(db, create=True)
    try:
        apps = seed.apply(service, doc, found)
    except seed.SeedError as exc:
        raise SeedRefused(str(exc)) from exc
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
    service, _ = _service(db, create=True)
    service.store.close()
    click.echo(f"schema up to date ({db})")
