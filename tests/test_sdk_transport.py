"""The SDKs over their two transports: a server's refusals are the neutral errors with their
fields, the same in process and over the network; an unreachable server is a NetworkError."""

from __future__ import annotations

import os
import secrets
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

import polytag
from polytag import Client, Control, Settings, create_app
from polytag.client_errors import ApiError, ForbiddenError
from polytag.control.sdk import ControlError
from polytag.testing import PolytagServer
from polytag.transport import InProcessTransport

KEY = "k3y"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def in_process(tmp_path: Path) -> Iterator[Client]:
    with Client.in_process(create_app(Settings(db=f"sqlite:///{tmp_path / 'p.db'}", admin_key=KEY)), KEY) as c:
        yield c


@pytest.fixture
def over_network(polytag_server: PolytagServer) -> Iterator[Client]:
    with Client(polytag_server.url, polytag_server.admin_key) as c:
        yield c


@pytest.fixture(params=["in_process", "over_network"])
def sdk(request: pytest.FixtureRequest) -> Client:
    c: Client = request.getfixturevalue(request.param)
    return c


def _app(sdk: Client) -> str:
    name = f"surface-{id(sdk):x}-{secrets.token_hex(4)}"
    sdk.create_app(name)
    return name


def test_a_missing_tag_is_not_found_with_kind_and_key(sdk: Client) -> None:
    app = _app(sdk)
    with pytest.raises(polytag.NotFound) as caught:
        sdk.tag(app, "nope")
    err = caught.value
    assert isinstance(err, ApiError) and err.status == 404
    assert (err.kind, err.key) == ("tag", "nope")
    assert err.type == "/problems/not-found" and "nope" in err.detail


def test_a_duplicate_is_a_conflict(sdk: Client) -> None:
    app = _app(sdk)
    sdk.create_tag(app, "vip")
    with pytest.raises(polytag.Conflict) as caught:
        sdk.create_tag(app, "vip")
    assert (caught.value.kind, caught.value.key, caught.value.status) == ("tag_name", "vip", 409)


def test_a_bad_expression_is_invalid_with_field_and_reason(sdk: Client) -> None:
    app = _app(sdk)
    with pytest.raises(polytag.Invalid) as caught:
        sdk.count(app, "vip & (")
    assert caught.value.field == "expr" and caught.value.reason == "syntax"
    assert caught.value.status == 400


def test_a_schema_mismatch_is_invalid_naming_the_field(sdk: Client) -> None:
    app = _app(sdk)
    with pytest.raises(polytag.Invalid) as caught:
        sdk.create_tag(app, "x", order="high")  # type: ignore[arg-type]
    assert caught.value.status == 422 and "order" in caught.value.field


def test_a_counted_limit_carries_limit_value_allowed(sdk: Client) -> None:
    app = _app(sdk) + "-small"
    sdk.create_app(app, limits={"tags_per_app": 1})
    sdk.create_tag(app, "a")
    with pytest.raises(polytag.LimitExceeded) as caught:
        sdk.create_tag(app, "b")
    err = caught.value
    assert err.limit == "tags_per_app" and err.allowed == 1 and err.value >= 2


def test_a_wrong_admin_key_is_unauthorized(sdk: Client) -> None:
    other = Client(http=sdk.http, admin_key="wrong")
    with pytest.raises(polytag.Unauthorized) as caught:
        other.apps()
    assert caught.value.status == 401


def test_control_refusals_are_the_same_errors(sdk: Client) -> None:
    with pytest.raises(polytag.NotFound) as caught:
        sdk.control.reset("no-such-app-" + "x" * 8)
    err = caught.value
    assert isinstance(err, ControlError) and err.status == 404 and err.message
    with pytest.raises(polytag.Invalid):
        sdk.control.add_fault("wechat", probability=7.0)


def test_control_plane_standalone(tmp_path: Path, polytag_server: PolytagServer) -> None:
    with Control(polytag_server.url, polytag_server.admin_key) as remote:
        assert remote.health()["status"] == "ok"
    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'c.db'}", admin_key=KEY))
    with Control.in_process(app, KEY) as local:
        assert local.health()["status"] == "ok"
        assert local.faults() == []


def test_a_host_the_guard_refuses_is_forbidden(tmp_path: Path) -> None:
    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'g.db'}", admin_key=KEY))
    with Client("http://tags.example", KEY, transport=InProcessTransport(app)) as c, \
            pytest.raises(ForbiddenError) as caught:
        c.apps()
    assert caught.value.reason == "host-not-allowed" and caught.value.status == 403


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("call", [lambda c: c.apps(), lambda c: c.control.health(),
                                  lambda c: list(c.export("a", "x"))])
def test_an_unreachable_server_is_a_clear_network_error(call: Callable[[Client], object]) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with Client(url, timeout=5) as c, pytest.raises(polytag.NetworkError) as caught:
        call(c)
    err = caught.value
    assert err.url == url and f"cannot reach polytag at {url}" in str(err)
    assert isinstance(err, httpx.TransportError) and isinstance(err.cause, httpx.ConnectError)


def test_a_server_that_does_not_answer_in_time_is_a_network_error() -> None:
    with socket.socket() as listener:  # accepts, never answers
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with Client(url, timeout=0.5) as c, pytest.raises(polytag.NetworkError, match="no answer from polytag"):
            c.apps()


@pytest.mark.parametrize("url", ["", "ftp://example.org", "localhost:8080", "http://"])
def test_a_bad_base_url_is_refused_at_once(url: str) -> None:
    with pytest.raises(ValueError, match="URL"):
        Client(url)
    with pytest.raises(ValueError, match="URL"):
        Control(url)


def test_a_non_json_error_answer_is_still_an_api_error() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="<html>bad gateway</html>")

    with Client("http://proxy.local", transport=httpx.MockTransport(handler)) as c, \
            pytest.raises(ApiError) as caught:
        c.apps()
    assert caught.value.status == 502 and "bad gateway" in caught.value.detail
    assert not isinstance(caught.value, polytag.NotFound)


def test_in_process_runs_the_lifespan_and_close_ends_it(tmp_path: Path) -> None:
    app = create_app(Settings(db=f"sqlite:///{tmp_path / 'l.db'}"))
    c = Client.in_process(app)
    c.create_app("one")
    c.add("one", [("u1", "vip")], create_subjects=True, create_tags=True)
    assert [t.name for t in c.tags("one")] == ["vip"]
    assert b'"u1"' in b"".join(c.export("one", "vip"))  # a streamed answer, whole in process
    c.close()
    c.close()  # idempotent
    with pytest.raises(RuntimeError):
        c.apps()


def test_in_process_never_loads_starlette_test_client(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from polytag import Client, Settings, create_app\n"
        f"app = create_app(Settings(db='sqlite:///{tmp_path / 's.db'}'))\n"
        "with Client.in_process(app) as c:\n"
        "    c.create_app('x'); assert c.control.health()['status'] == 'ok'\n"
        "bad = [m for m in sys.modules if m.startswith(('starlette.testclient', 'pytest'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120, cwd=ROOT,
                   env={**os.environ, "PYTHONPATH": str(ROOT / "src")})


def test_an_in_process_client_never_closed_lets_the_interpreter_exit(tmp_path: Path) -> None:
    """Its lifespan ends when it is collected, or at exit (a hang here is a TimeoutExpired)."""
    code = (
        "import gc, threading\n"
        "from polytag import Client, Settings, create_app\n"
        f"c = Client.in_process(create_app(Settings(db='sqlite:///{tmp_path / 'n.db'}')))\n"
        "c.create_app('x')\n"
        f"d = Client.in_process(create_app(Settings(db='sqlite:///{tmp_path / 'm.db'}')))\n"
        "d.create_app('y'); del d; gc.collect()\n"
        "portals = [t.name for t in threading.enumerate() if t.name.startswith('asyncio-portal')]\n"
        "assert len(portals) == 1, threading.enumerate()\n"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT,
                         env={**os.environ, "PYTHONPATH": str(ROOT / "src")})
    assert run.returncode == 0, run.stderr[-3000:]
