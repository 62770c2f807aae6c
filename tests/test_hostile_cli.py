"""The `polytag` command fed hostile values: a clear refusal, never a traceback, nothing changed.

The commands are found by walking the click group (the dialects' own commands, from each
Dialect record's `commands`, included), so a new command fails
`test_every_command_has_hostile_input_or_a_reason` until it gets a GOOD invocation here (or a
line in ELSEWHERE saying where its hostile input is tested). From each GOOD invocation, every
option and argument is replaced in turn by hostile values picked by its click type (text: empty,
NUL, lone surrogates, 100,000 characters; numbers: not a number, negative, NaN, infinity,
overflow; files: missing, a directory, binary, not JSON) and by values wrong for what it means
(an unknown app, a database that is a directory, a server that is not there, ...), and each
required one is left out. Every such call must exit non-zero with exactly one `Error:` line
naming the option, no traceback, and the server's state (a snapshot, the callback configuration,
the delivery journal, the faults) and the files beside the database unchanged. Values that are
right for an option are listed in ACCEPTED (not generated); refusals that are not right yet, in
files this suite does not own, in KNOWN (strict xfails: they fail loudly once fixed).

One live server (SQLite) serves the whole module; the commands run in process (click's CliRunner)
against it over HTTP (`--url`) or on its database (`--db`).
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from polytag import dialects
from polytag.callbacks.receiver import Receiver
from polytag.cli import main
from polytag.control.sdk import Control
from tests.conftest import LiveServer, start_server, stop_server
from tests.dialects.juzibot.conftest import MAIN as JZ_ENTRY
from tests.dialects.juzibot.conftest import UNION
from tests.dialects.tencent_im.conftest import SDKAPPID, app_entry

WX, IM, JZ = "wx00000000000000e1", str(SDKAPPID), str(JZ_ENTRY["name"])
FOLLOWER = "oHostileCliFollower000000001"
ADMIN_KEY = "hostile-cli-admin-key"
SEED = {"apps": [{"dialect": "wechat", "appid": WX, "secret": "cli-secret", "followers": [FOLLOWER]},
                 app_entry(), JZ_ENTRY]}
ERROR_LINE_MAX = 1000  # characters of the one `Error:` line

# --- what each command is run with when nothing is hostile ------------------------------------------
# {param name: value}; `{url}`, `{admin}` and `{db}` are added for the commands that take them.
GOOD: dict[str, dict[str, Any]] = {
    "sends": {"app_name": WX},
    "pushes": {"app_name": IM},
    "customer-tags": {"app_name": JZ, "union_id": UNION},
    "callbacks list": {"app_name": WX, "after": "0", "limit": "5"},
    "callbacks flush": {"app_name": WX, "timeout": "10"},
    "callbacks verify": {"app_name": WX},
    "callbacks config": {"app_name": WX, "callback_url": "{receiver}", "token": "{token}",
                         "encoding_aes_key": "{aes}", "mode": "safe"},
    "simulate": {"app_name": WX, "action": "scan", "openid": FOLLOWER, "scene": "7"},
    "apps": {}, "migrate": {},
    "export": {"app_name": WX},
    "audience count": {"app_name": WX, "expr": "星标组"},
    "audience members": {"app_name": WX, "expr": "星标组", "limit": "5"},
    "reset": {"app_name": JZ},
    "requests": {"app_name": WX, "dialect": "wechat", "path": "*", "limit": "5"},
    "faults list": {}, "faults add": {"dialect": "juzibot", "path": "nothing/here", "latency_ms": "1", "times": "1"},
    "faults rm": {"fault_id": "{fault}"},
    "clock": {},
    "snapshot": {"app_name": WX},
}
# commands whose hostile input is tested elsewhere, or not at all yet (say why)
ELSEWHERE: dict[str, str] = {
    "import": "tests/test_hostile_import.py",
    "seed": "tests/test_cli.py, tests/test_seed_bounds.py, tests/test_hostile_import.py",
    "serve": "tests/test_cli.py, tests/test_tls.py, tests/test_serve_timeouts.py",
}

# --- hostile values: by click type, then by what the option means ----------------------------------
TEXT = {"empty": "", "nul": "a\x00b", "lone-surrogate": "\ud800", "not-utf8-byte": "o\udcff",
        "huge": "x" * 100_000}
INT = {"not-a-number": "abc", "negative": "-1", "fraction": "1.5", "empty": ""}
FLOAT = {"not-a-number": "abc", "negative": "-1", "nan": "nan", "infinity": "inf", "overflow": "1e400",
         "empty": ""}
FILES = {"missing-file": "{tmp}/nope.json", "directory": "{tmp}/folder", "binary-file": "{tmp}/binary.bin",
         "bad-json": "{tmp}/bad.json", "not-a-snapshot": "{tmp}/list.json"}
MEANING: dict[str, dict[str, str]] = {
    "app_name": {"unknown-app": "wx_nobody_here"},
    "db": {"missing-file": "sqlite:///{tmp}/nowhere/polytag.db", "directory": "sqlite:///{tmp}/folder",
           "binary-file": "sqlite:///{tmp}/binary.bin", "unsupported": "mysql://root@127.0.0.1/polytag",
           "no-server": "postgresql://nobody@127.0.0.1:1/polytag", "bare-path": "{tmp}/binary.bin"},
    "url": {"nothing-listens": "http://127.0.0.1:1", "not-a-url": "not a url", "bad-host": "http://[::1"},
    "admin_key": {"wrong": "wrong-key", "non-ascii": "ключ", "newline": "a\nb"},
    "action": {"unknown": "explode"},
    "union_id": {"unknown": "u_nobody_here"},
    "openid": {"bad-characters": "o p/q"},
    "callback_url": {"not-http": "ftp://127.0.0.1/x", "not-loopback": "http://example.com/cb",
                     "taken-by-another-app": "{other_url}"},
    "token": {"bad-characters": "a b"},
    "encoding_aes_key": {"too-short": "short"},
    "mode": {"unknown": "weird"},
    "scene": {"zero": "0", "too-big": "99999999999999999999"},
    "timeout": {"over-the-cap": "301"},
    "expr": {"unbalanced": "((", "unknown-tag": "no_such_tag"},
    "dialect": {"unknown": "fax"},
    "fault_id": {"unknown": "f_nope"},
    "probability": {"over-one": "2"},
    "when": {"not-a-time": "yesterday"},
}
# (command, param, label): values that are right there (not generated)
ACCEPTED: dict[tuple[str, str, str], str] = {
    ("migrate", "db", "missing-file"): "migrate creates the database",
    ("clock", "advance_s", "negative"): "the clock may move back (the control plane bounds the span)",
    ("faults add", "error", "negative"): "vendors' codes can be negative (WeChat's -1: system busy)",
    ("faults add", "seed_", "negative"): "any integer seeds the dice",
    ("requests", "app_name", "unknown-app"): "the journal keeps the requests of apps since reset or dropped",
}
# how the `Error:` line may name each option (default: its name or one of its flags)
MENTIONS: dict[str, str] = {
    "app_name": r"(?i)\bapp", "db": r"database|--db", "url": r"--url|polytag at",
    "admin_key": r"--admin-key|admin key", "callback_url": r"`url`|--callback-url",
    "encoding_aes_key": r"encoding_aes_key|--aes-key", "union_id": r"(?i)customer|union_id",
    "expr": r"(?i)tag|expr|--audience", "when": r"set", "fault_id": r"(?i)fault", "load_file": r"--load|snapshot",
}
# (command, param, label): refusals that are not right yet, in files this suite does not own
KNOWN: dict[tuple[str, str, str], str] = {
    # click.Path(exists=True) runs os.stat first. No shell can pass these (argv holds no NUL; bytes
    # that are not UTF-8 arrive as \udc80-\udcff, which os.stat takes: "not-utf8-byte" passes)
    ("snapshot", "load_file", "nul"): "click.Path: os.stat raises ValueError (embedded null byte)",
    ("snapshot", "load_file", "lone-surrogate"): "click.Path: os.stat raises UnicodeEncodeError",
}


# --- the commands --------------------------------------------------------------------------------------
def walk(group: click.Group = main, prefix: str = "") -> Iterator[tuple[str, click.Command]]:
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from walk(command, f"{prefix}{name} ")
        else:
            yield f"{prefix}{name}", command


COMMANDS = dict(walk())


def good_values(name: str) -> dict[str, Any]:
    values = dict(GOOD[name])
    params = {p.name for p in COMMANDS[name].params}
    values |= {k: v for k, v in (("url", "{url}"), ("admin_key", "{admin}"), ("db", "{db}")) if k in params}
    return values


def argv(command: click.Command, values: dict[str, Any]) -> list[str]:
    """Options first (`--name=value`: a value may start with `-`), then `--` and the arguments."""
    options: list[str] = []
    arguments: list[str] = []
    for param in command.params:
        value = values.get(param.name or "")
        if value is None or value is False:
            continue
        flag = max(param.opts, key=len)
        if isinstance(param, click.Argument):
            arguments.append(value)
        else:
            options.append(flag if value is True else f"{flag}={value}")
    return [*options, "--", *arguments]


def hostile_values(param: click.Parameter) -> dict[str, str]:
    kind = param.type
    if isinstance(kind, click.Path):
        found = {**FILES, **{k: v for k, v in TEXT.items() if k != "huge"}}
    elif isinstance(kind, click.types.IntParamType):
        found = dict(INT)
    elif isinstance(kind, click.types.FloatParamType):
        found = dict(FLOAT)
    elif isinstance(kind, click.Choice):
        found = {"not-a-choice": "nope", "empty": ""}
    elif isinstance(param, click.Option) and param.is_flag:
        found = {}
    else:
        found = dict(TEXT)
    return found | MEANING.get(param.name or "", {})


def cases() -> Iterator[Any]:
    for name in sorted(GOOD):
        for param in COMMANDS[name].params:
            for label, value in hostile_values(param).items():
                if (name, param.name, label) in ACCEPTED:
                    continue
                reason = KNOWN.get((name, param.name or "", label))
                marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
                yield pytest.param(name, param.name, value, id=f"{name}-{param.name}-{label}", marks=marks)


def required() -> Iterator[Any]:
    for name in sorted(GOOD):
        for param in COMMANDS[name].params:
            if param.required:
                yield pytest.param(name, param.name, id=f"{name}-{param.name}")


# --- the live server, its receivers and the files the hostile values name ------------------------------
@dataclass
class Live:
    server: LiveServer
    control: Control
    values: dict[str, str]  # what `{name}` stands for in a value
    tmp: Path

    def fill(self, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        for key, text in self.values.items():
            value = value.replace(f"{{{key}}}", text)
        return value


def make_files(tmp: Path) -> None:
    (tmp / "folder").mkdir()
    (tmp / "binary.bin").write_bytes(random.Random(7).randbytes(4096))
    (tmp / "bad.json").write_text('{"format": "polytag-snapshot", bad', "utf-8")
    (tmp / "list.json").write_text("[1, 2, 3]", "utf-8")


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    tmp = tmp_path_factory.mktemp("hostile-cli")
    make_files(tmp)
    mine, other = Receiver(receive_id=WX).start(), Receiver().start()
    db = f"sqlite:///{tmp / 'live' / 'polytag.db'}"
    taken = {"url": other.url, "token": other.token, "mode": "plain"}
    seed = {"apps": [*SEED["apps"], {"dialect": "wechat", "appid": "wx00000000000000e2", "secret": "s2",
                                     "callback": taken}]}
    server = start_server(db, seed, ["--admin-key", ADMIN_KEY])
    control = Control(server.url, ADMIN_KEY)
    try:
        control.set_callback_config(WX, {"url": mine.url, "token": mine.token, "mode": "safe",
                                         "encoding_aes_key": mine.encoding_aes_key})
        values = {"fault": control.add_fault("juzibot", path="nothing/here", latency_ms=1), "url": server.url, "admin": ADMIN_KEY, "db": db, "tmp": str(tmp), "receiver": mine.url,
                  "token": mine.token, "aes": mine.encoding_aes_key, "other_url": other.url}
        yield Live(server, control, values, tmp)
    finally:
        control.close()
        stop_server(server)
        mine.stop()
        other.stop()


def state(live: Live) -> dict[str, Any]:
    """What a refused call must leave as it was."""
    c = live.control
    snapshot = c.snapshot()
    snapshot.pop("taken_at", None)
    files = {str(p.relative_to(live.tmp)): p.is_dir() or hashlib.sha256(p.read_bytes()).hexdigest()
             for p in live.tmp.rglob("*") if p.relative_to(live.tmp).parts[0] != "live"}
    return {"snapshot": snapshot, "config": c.callback_config(WX), "faults": c.faults(),
            "journal": [(d["id"], d["app"], d["event"]) for d in c.callbacks()], "files": files}


def run(live: Live, name: str, values: dict[str, Any]) -> Result:
    filled = {k: live.fill(v) for k, v in values.items()}
    env = {"POLYTAG_URL": None, "POLYTAG_DB": None, "POLYTAG_ADMIN_KEY": None}
    return CliRunner().invoke(main, [*name.split(), *argv(COMMANDS[name], filled)], env=env)


def mention(param: click.Parameter) -> str:
    names = [param.name or "", *param.opts, param.human_readable_name]
    return MENTIONS.get(param.name or "", "|".join(re.escape(n) for n in names if n))


def assert_refused(result: Result, named: str) -> None:
    """Non-zero, by a click exit (no other exception), one `Error:` line naming the problem."""
    out = result.output
    assert "Traceback" not in out and isinstance(result.exception, SystemExit), (repr(result.exception), out)
    assert result.exit_code not in (0, None), out
    lines = [ln for ln in out.splitlines() if ln]
    errors = [ln for ln in lines if ln.startswith("Error:")]
    assert len(errors) == 1 and all(ln.startswith(("Error:", "Usage:", "Try ")) for ln in lines), out
    assert len(errors[0]) <= ERROR_LINE_MAX, f"an error line of {len(errors[0])} characters"
    assert re.search(named, errors[0]), f"{errors[0]!r} does not name {named!r}"


def param_of(name: str, param_name: str) -> click.Parameter:
    return next(p for p in COMMANDS[name].params if p.name == param_name)


# --- the tests -------------------------------------------------------------------------------------------
def test_every_command_has_hostile_input_or_a_reason() -> None:
    from_dialects = {c.name for d in dialects.discover().values() for c in d.commands}
    assert from_dialects and from_dialects <= set(COMMANDS), "the dialects' commands are not registered"
    uncovered = sorted(set(COMMANDS) - set(GOOD) - set(ELSEWHERE))
    assert not uncovered, f"no hostile input for {uncovered}: add a GOOD invocation (or an ELSEWHERE reason)"
    assert not (set(GOOD) | set(ELSEWHERE)) - set(COMMANDS), "GOOD or ELSEWHERE names a command that is gone"
    assert not set(GOOD) & set(ELSEWHERE)


@pytest.mark.parametrize("name", sorted(GOOD))
def test_the_good_invocation_works(live: Live, name: str) -> None:
    """What the hostile values replace must work: a refusal then comes from the value alone."""
    result = run(live, name, good_values(name))
    assert result.exit_code == 0 and result.exception is None, (result.output, result.exception)


@pytest.mark.parametrize(("name", "param_name", "value"), list(cases()))
def test_a_hostile_value_is_refused_clearly(live: Live, name: str, param_name: str, value: str) -> None:
    before = state(live)
    result = run(live, name, {**good_values(name), param_name: value})
    assert_refused(result, mention(param_of(name, param_name)))
    assert state(live) == before


@pytest.mark.parametrize(("name", "param_name"), list(required()))
def test_a_missing_value_is_refused_clearly(live: Live, name: str, param_name: str) -> None:
    before = state(live)
    param = param_of(name, param_name)
    gone = {param_name}
    if isinstance(param, click.Argument):  # the ones after it too: they would shift into its place
        names = [p.name for p in COMMANDS[name].params if isinstance(p, click.Argument)]
        gone |= set(names[names.index(param_name):])
    values = {k: v for k, v in good_values(name).items() if k not in gone}
    assert_refused(run(live, name, values), mention(param))
    assert state(live) == before


def test_clear_with_a_new_configuration_is_refused(live: Live) -> None:
    """`--clear` beside --token used to clear and ignore the token: the configuration was lost."""
    before = state(live)
    result = run(live, "callbacks config", {**good_values("callbacks config"), "clear": True})
    assert_refused(result, "--clear")
    assert state(live) == before


@pytest.mark.parametrize(("name", "values"), [
    ("simulate", {"scene": "²"}),  # a digit to str.isdigit, not to int(): sent as a string scene
    ("callbacks list", {"limit": "99999999999999999999", "after": "99999999999999999999"}),
    ("audience members", {"limit": "0"}),
], ids=["superscript-scene", "huge-limit", "zero-limit"])
def test_edge_values_that_are_right_are_taken(live: Live, name: str, values: dict[str, str]) -> None:
    result = run(live, name, {**good_values(name), **values})
    assert result.exit_code == 0 and result.exception is None, (result.output, result.exception)


@pytest.mark.parametrize("where", ["folder", "binary.bin"])
def test_serve_on_a_file_that_is_no_database_is_refused(live: Live, where: str) -> None:
    """`serve` is tested elsewhere, but it opens --db its own way: a folder was a traceback."""
    before = state(live)
    result = CliRunner().invoke(main, ["serve", "--port", "0", f"--db=sqlite:///{live.tmp / where}"])
    assert_refused(result, "database")
    assert state(live) == before
