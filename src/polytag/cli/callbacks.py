"""`polytag callbacks ...` and `polytag simulate`: a running server's callbacks, over HTTP."""

from __future__ import annotations

import json
from typing import Any

import click

from polytag.cli import main
from polytag.cli.remote import _echo_json, _remote


@main.group("callbacks")
def callbacks_cmd() -> None:
    """The callbacks a running server sends to the developer's server (journal, config, URL check)."""


@callbacks_cmd.command("list")
@click.option("--app", "app_name", default=None)
@click.option("--after", default=None, type=int, help="only deliveries after this id")
@click.option("--limit", default=None, type=int)
@_remote
def callbacks_list(ctl, app_name, after, limit) -> None:
    """Print the delivery journal, one JSON object per line."""
    for entry in ctl.callbacks(app=app_name, after=after, limit=limit):
        click.echo(json.dumps(entry, ensure_ascii=False))


@callbacks_cmd.command("flush")
@click.option("--app", "app_name", default=None)
@click.option("--timeout", default=30.0, show_default=True, type=float, help="seconds to wait at most")
@_remote
def callbacks_flush(ctl, app_name, timeout) -> None:
    """Wait until deliveries settle (exit 1 when they did not in time)."""
    if not ctl.flush_callbacks(app_name, timeout):
        raise click.ClickException(f"deliveries still pending after {timeout:g} s")
    click.echo("settled")


@callbacks_cmd.command("verify")
@click.argument("app_name")
@_remote
def callbacks_verify(ctl, app_name) -> None:
    """Run the vendor's URL check against the app's callback URL (exit 1 when the server fails it)."""
    got = ctl.verify_callback(app_name)
    _echo_json(got)
    if not got.get("ok"):
        raise SystemExit(1)


@callbacks_cmd.command("config")
@click.argument("app_name")
@click.option("--callback-url", "callback_url", default=None, help="the developer's callback URL")
@click.option("--token", default=None)
@click.option("--aes-key", "encoding_aes_key", default=None, help="the EncodingAESKey (43 characters)")
@click.option("--mode", default=None, help="the dialect's modes (plain, compat or safe)")
@click.option("--clear", is_flag=True, help="stop the app's callbacks")
@_remote
def callbacks_config(ctl, app_name, callback_url, token, encoding_aes_key, mode, clear) -> None:
    """Show the app's callback configuration, or set it (--callback-url and --token at least), or
    --clear it."""
    doc = {"url": callback_url, "token": token, "encoding_aes_key": encoding_aes_key, "mode": mode}
    given = {k: v for k, v in doc.items() if v is not None}  # "" too: the server says what is wrong
    if clear and given:
        raise click.UsageError("--clear stops the app's callbacks: give it alone")
    if clear:
        ctl.set_callback_config(app_name, None)
    elif given:
        ctl.set_callback_config(app_name, given)
    _echo_json(ctl.callback_config(app_name))


def _field(text: str) -> tuple[str, Any]:
    """FIELD=VALUE: the value as JSON when it is JSON (a number, a list, ...), else as text."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text[:60]!r}: expected FIELD=VALUE", param_hint="[FIELD=VALUE]...")
    if name in ("app", "action"):
        raise click.BadParameter(f"{name} is an argument, not a field", param_hint="[FIELD=VALUE]...")
    try:
        return name, json.loads(value)
    except ValueError:
        return name, value


@main.command("simulate")
@click.argument("app_name")
@click.argument("action")
@click.argument("fields", nargs=-1, metavar="[FIELD=VALUE]...")
@click.option("--openid", default=None, help="the same as openid=...")
@click.option("--scene", default=None, help="a QR code's scene (a number or a string): the same as scene=...")
@_remote
def simulate_cmd(ctl, app_name, action, fields, openid, scene) -> None:
    """Make a vendor-side event happen (the dialect's actions: see its compatibility page) and send
    its callback, e.g. `simulate APP add_customer userid=zhangsan 'add_tag=["et..."]'`."""
    doc = dict(_field(f) for f in fields)
    digits = scene is not None and scene.isascii() and scene.isdigit()  # not "²": int() refuses it
    doc |= {k: v for k, v in {"openid": openid, "scene": int(scene) if digits else scene}.items() if v is not None}
    _echo_json(ctl.simulate(app_name, action, **doc))
