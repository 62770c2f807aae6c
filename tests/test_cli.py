"""The `polytag` command as a user runs it: serve (ready line, restarts, signals), seed, apps, migrate."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from polytag.store import open_store
from tests.conftest import ROOT, LiveServer

STOP_WITHIN = 20  # seconds: a bound on shutting down, not a timing assertion
APPID, SECRET = "wx_cli_test", "cli-secret"
SEED: dict[str, Any] = {"apps": [{"dialect": "wechat", "appid": APPID, "secret": SECRET,
                                  "followers": ["o_a", "o_b", "o_c"], "tags": [{"name": "vip"}]}]}
Start = Callable[..., LiveServer]


def polytag(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "polytag", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def write_seed(tmp_path: Path, doc: Any, name: str = "seed.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True) if not isinstance(doc, str) else doc, "utf-8")
    return str(path)


def shutdown(server: LiveServer, sig: int) -> tuple[int, str, str]:
    """Send `sig`, wait for the exit; (exit code, the rest of stdout, stderr)."""
    server.proc.send_signal(sig)
    try:
        code = server.proc.wait(timeout=STOP_WITHIN)
    except subprocess.TimeoutExpired:
        server.proc.kill()
        server.proc.wait()
        pytest.fail(f"server ignored signal {sig} for {STOP_WITHIN}s")
    assert server.proc.stdout is not None and server.proc.stderr is not None
    rest, err = server.proc.stdout.read(), server.proc.stderr.read()
    server.proc.stdout.close()
    server.proc.stderr.close()
    return code, rest, err


def token(http: httpx.Client) -> str:
    r = http.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID, "secret": SECRET})
    assert r.status_code == 200
    return str(r.json()["access_token"])


def tag_counts(http: httpx.Client, access_token: str) -> dict[str, int]:
    r = http.get("/cgi-bin/tags/get", params={"access_token": access_token})
    assert r.status_code == 200, r.text
    assert "errcode" not in r.json(), r.text
    return {t["name"]: t["count"] for t in r.json()["tags"]}


def tag_vip(http: httpx.Client, access_token: str, openids: list[str]) -> None:
    tags = http.get("/cgi-bin/tags/get", params={"access_token": access_token}).json()["tags"]
    vip = next(t["id"] for t in tags if t["name"] == "vip")
    r = http.post("/cgi-bin/tags/members/batchtagging", params={"access_token": access_token},
                  json={"openid_list": openids, "tagid": vip})
    assert r.json() == {"errcode": 0, "errmsg": "ok"}


# serve --------------------------------------------------------------------------------------------
def test_serve_prints_one_ready_line_and_is_ready(live_server: Start) -> None:
    server = live_server()
    # start_server returned right after reading the line: the very first request must be served
    r = httpx.get(f"{server.url}/_polytag/health", timeout=10)
    assert r.status_code == 200
    assert r.json()["status"] == "ok"
    assert server.url.startswith("http://127.0.0.1:") and int(server.url.rsplit(":", 1)[1]) > 0
    _code, rest, _err = shutdown(server, signal.SIGTERM)
    assert rest == ""  # exactly one line on stdout


def test_data_and_tokens_survive_a_restart(live_server: Start) -> None:
    first = live_server(SEED)
    with httpx.Client(base_url=first.url, timeout=10) as http:
        access_token = token(http)
        tag_vip(http, access_token, ["o_a", "o_b"])
    shutdown(first, signal.SIGTERM)
    second = live_server(SEED)  # the same seed again must not undo anything
    with httpx.Client(base_url=second.url, timeout=10) as http:
        assert tag_counts(http, access_token) == {"星标组": 0, "vip": 2}


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_an_acknowledged_write_survives_a_signal(live_server: Start, sig: int) -> None:
    first = live_server(SEED)
    with httpx.Client(base_url=first.url, timeout=10) as http:
        access_token = token(http)
        tag_vip(http, access_token, ["o_c"])
    shutdown(first, sig)  # right after the ack
    with httpx.Client(base_url=live_server().url, timeout=10) as http:
        assert tag_counts(http, access_token)["vip"] == 1


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_stops_the_server_cleanly(live_server: Start, sig: int) -> None:
    code, _rest, err = shutdown(live_server(), sig)
    assert "Traceback" not in err
    assert code == 0, err


# seed and apps --------------------------------------------------------------------------------------
def _followers(db: str, app_name: str) -> list[str]:
    store = open_store(db)
    try:
        rows = store.read()
        app_row = rows.app_by_name(app_name)
        assert app_row is not None
        return [ext for _ord, ext in rows.subjects_page(app_row[0], -1, 100_000)]
    finally:
        store.close()


def test_seed_is_idempotent_and_apps_lists_them(db_url: str, tmp_path: Path) -> None:
    doc = {"apps": [*SEED["apps"], {"dialect": "wechat", "appid": "wx_other", "secret": "x",
                                    "followers": {"generate": 5}, "tags": ["a", "b"]}]}
    path = write_seed(tmp_path, doc)
    outputs = []
    for _ in range(2):
        done = polytag("seed", path, "--db", db_url)
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == [f"seeded wechat app {APPID}", "seeded wechat app wx_other"]
        listed = polytag("apps", "--db", db_url)
        assert listed.returncode == 0, listed.stderr
        outputs.append(listed.stdout)
    assert outputs[0] == outputs[1]
    lines = outputs[1].splitlines()
    assert lines[0].split() == ["dialect", "app", "subjects", "tags"]
    assert [ln.split() for ln in lines[1:]] == [["wechat", APPID, "3", "2"], ["wechat", "wx_other", "5", "3"]]
    assert _followers(db_url, APPID) == ["o_a", "o_b", "o_c"]


def test_generated_followers_are_the_same_on_every_run(tmp_path: Path) -> None:
    doc = {"apps": [{"dialect": "wechat", "appid": "wx_gen", "secret": "s", "followers": {"generate": 40}}]}
    path = write_seed(tmp_path, doc)
    runs = []
    for i in range(2):
        db = f"sqlite:///{tmp_path / f'gen{i}.db'}"
        done = polytag("seed", path, "--db", db)
        assert done.returncode == 0, done.stderr
        runs.append(_followers(db, "wx_gen"))
    assert runs[0] == runs[1]
    assert len(runs[0]) == len(set(runs[0])) == 40
    assert all(len(openid) == 28 for openid in runs[0])


@pytest.mark.parametrize(("text", "message"), [
    ("apps:\n  - dialect: fax\n    appid: x\n", "unknown dialect 'fax'"),
    ("apps: [\n  - dialect: wechat\n", "not valid YAML"),
    ("apps:\n  - appid: x\n", "needs a `dialect:`"),
    ("just text\n", "expected a mapping with an `apps:` list"),
])
def test_a_bad_seed_fails_clearly(tmp_path: Path, text: str, message: str) -> None:
    done = polytag("seed", write_seed(tmp_path, text), "--db", f"sqlite:///{tmp_path / 'bad.db'}")
    assert done.returncode != 0
    assert message in done.stderr
    assert "Traceback" not in done.stderr


def test_serve_with_a_bad_seed_fails_clearly(tmp_path: Path) -> None:
    path = write_seed(tmp_path, "apps:\n  - dialect: fax\n")
    done = polytag("serve", "--port", "0", "--db", f"sqlite:///{tmp_path / 'bad.db'}", "--seed", path)
    assert done.returncode != 0
    assert "unknown dialect 'fax'" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_seed_asking_too_much_is_refused_before_anything_is_built(tmp_path: Path) -> None:
    """`{generate: 10**12}` grew a server to ~24 GB before the kernel killed it (issue 15, finding 3)."""
    path = write_seed(tmp_path, "apps:\n  - {dialect: wechat, appid: wx, secret: s, "
                                "followers: {generate: 1000000000000}}\n")
    db = f"sqlite:///{tmp_path / 'huge.db'}"
    done = polytag("seed", path, "--db", db)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "apps[0]/followers/generate: generate 1000000000000 subjects is over the limit of 10,000,000" \
        in done.stderr
    served = polytag("serve", "--port", "0", "--db", db, "--seed", path)
    assert served.returncode != 0 and served.stdout == "" and "Traceback" not in served.stderr
    assert "over the limit of 10,000,000" in served.stderr


@pytest.mark.parametrize("command", [["apps"], ["migrate"], ["serve", "--port", "0"]])
def test_an_unsupported_database_url_fails_clearly(command: list[str], tmp_path: Path) -> None:
    done = polytag(*command, "--db", "mysql://root@localhost/polytag")
    assert done.returncode != 0
    assert "unsupported database URL 'mysql://root@localhost/polytag'" in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_a_database_that_is_down_fails_clearly() -> None:
    """No traceback when PostgreSQL does not answer: one line saying so, and a non-zero exit."""
    for args in (["apps"], ["serve", "--port", "0"]):
        got = subprocess.run([sys.executable, "-m", "polytag", *args, "--db", "postgresql://postgres@127.0.0.1:1/test"],
                             capture_output=True, text=True, timeout=60)
        assert got.returncode != 0
        assert "cannot connect to the database" in got.stderr
        assert "Traceback" not in got.stderr
