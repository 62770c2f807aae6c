"""The Dialect record is the only door: a fake dialect on a shared prefix, parts built from
explicit deps and forgotten at reset, the record's other fields, and no vendor named outside
`src/polytag/dialects/`."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from polytag import dialects
from polytag.control.reset import Resetter
from polytag.core.limits import Limits
from polytag.core.models import App
from polytag.core.parts import Deps
from polytag.core.service import Service
from polytag.dialects import Call, Console, Dialect, DialectApp, Endpoint, VendorError
from polytag.dialects.tencent_im.parts import im
from polytag.dialects.wechat import DIALECT as WECHAT
from polytag.errors import LimitExceeded, NotFound, Unauthorized
from polytag.store import Tx, open_store

SRC = Path(__file__).resolve().parents[2] / "src" / "polytag"
# files outside dialects/ that may name a vendor (user-facing text only); none today
ALLOWED: frozenset[str] = frozenset()


# --- a tiny fake dialect on WeChat's prefix -------------------------------------------------------
class Recorder:
    """Fake parts: remembers what it was built from and which apps it was told to forget."""

    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self.forgotten: list[int] = []

    def forget(self, app_id: int) -> None:
        self.forgotten.append(app_id)


async def _ping(call: Call) -> Any:
    assert call.app is not None
    return {"code": 0, "app": call.app.name, "dialect": call.dialect.name}


async def _fake_auth(call: Call) -> App:
    owner = call.token_owner()
    if owner is None:
        raise Unauthorized("invalid")
    row, app = owner
    call.service.tokens.check(call.query["access_token"], {"fake": 7200}, row)
    if app.dialect != "fake":
        raise Unauthorized("invalid")
    return app


def _fake_render(exc: BaseException, call: Call) -> tuple[int, Any]:
    code = exc.code if isinstance(exc, VendorError) else 1
    return 200, {"code": code, "from": "fake"}


def _fake_seed(service: Service, entry: Mapping[str, Any]) -> App:
    def op(tx: Tx) -> App:
        app, _ = service.apps.upsert(tx, "fake", str(entry["name"]), secret="s", config={}, now=0.0)
        return app

    return service.write_sync(op)


def fake_dialect(paths: tuple[str, ...] = ("fake/ping",)) -> Dialect:
    return Dialect(
        name="fake", prefix="/cgi-bin", limits=Limits(),
        endpoints=[Endpoint(p, ("GET", "POST"), _ping) for p in paths],
        authenticate=_fake_auth, render_error=_fake_render,
        wrong_method=lambda ep: VendorError(2), unknown_path=lambda path: VendorError(404, path),
        seed_app=_fake_seed, new_rid=lambda: "rid", parts=Recorder,
        code_of=lambda payload: int(payload.get("code", 0)) if isinstance(payload, dict) else 0,
        fixture_entry=lambda tag: {"name": f"fake-{tag}", "secret": "s"},
        console=Console(grouped=True, hue="grey"),
    )


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[tuple[Service, TestClient, dict[str, str]]]:
    """WeChat and the fake on `/cgi-bin`, one app each with a token: (service, client, tokens)."""
    fake = fake_dialect()
    found = {"wechat": WECHAT, "fake": fake}
    svc = dialects.build_service(open_store(f"sqlite:///{tmp_path / 'p.db'}"), found)
    wx = WECHAT.seed_app(svc, {"appid": "wx0000000000000001", "secret": "a" * 32})
    other = fake.seed_app(svc, {"name": "fake-app"})
    tokens = {app.dialect: svc.write_sync(lambda tx, a=app: svc.tokens.issue(tx, a.id, a.dialect, 7200, 0)).token
              for app in (wx, other)}
    client = TestClient(DialectApp([WECHAT, fake], svc))  # no lifespan: the calls only read
    yield svc, client, tokens
    client.close()
    svc.store.close()


def test_shared_prefix_routes_each_path_to_its_dialect(shared: tuple[Service, TestClient, dict[str, str]]) -> None:
    _, client, tokens = shared
    got = client.get("/cgi-bin/fake/ping", params={"access_token": tokens["fake"]}).json()
    assert got == {"code": 0, "app": "fake-app", "dialect": "fake"}
    tags = client.get("/cgi-bin/tags/get", params={"access_token": tokens["wechat"]}).json()
    assert "tags" in tags  # WeChat's own answer, on the same prefix
    # each dialect judges its own tokens: the other's token is refused in the endpoint's envelope
    assert client.get("/cgi-bin/fake/ping", params={"access_token": tokens["wechat"]}).json() == \
        {"code": 1, "from": "fake"}
    assert client.get("/cgi-bin/tags/get", params={"access_token": tokens["fake"]}).json()["errcode"] == 40001


def test_unknown_path_answers_in_the_token_owners_envelope(shared: tuple[Service, TestClient, dict[str, str]]) -> None:
    _, client, tokens = shared
    assert client.get("/cgi-bin/nowhere", params={"access_token": tokens["fake"]}).json() == \
        {"code": 404, "from": "fake"}
    assert client.get("/cgi-bin/nowhere", params={"access_token": tokens["wechat"]}).json()["errcode"] == 40066
    # no token, or one nobody holds: the first dialect registered for the prefix answers
    assert client.get("/cgi-bin/nowhere").json()["errcode"] == 40066
    assert client.get("/cgi-bin/nowhere", params={"access_token": "x" * 40}).json()["errcode"] == 40066


def test_a_path_claimed_twice_is_a_startup_error(tmp_path: Path) -> None:
    svc = Service(open_store(f"sqlite:///{tmp_path / 'p.db'}"))
    try:
        with pytest.raises(ValueError, match=r"/cgi-bin/tags/get is claimed by both 'wechat' and 'fake'"):
            DialectApp([WECHAT, fake_dialect(("fake/ping", "tags/get"))], svc)
        with pytest.raises(ValueError, match="one prefix"):
            DialectApp([WECHAT, dialects.discover()["juzibot"]], svc)
    finally:
        svc.store.close()


def test_every_prefix_of_the_real_dialects_mounts() -> None:
    found = dialects.discover()
    for prefix, mounted in dialects.by_prefix(found).items():
        table = dialects.endpoint_table(mounted)
        assert sum(len(d.endpoints) for d in mounted) == len(table), prefix


# --- parts and reset -----------------------------------------------------------------------------
def test_parts_are_built_from_deps_and_reset_forgets_them(shared: tuple[Service, TestClient, dict[str, str]]) -> None:
    svc, _, _ = shared
    part = svc.parts["fake"]
    assert isinstance(part, Recorder) and isinstance(part.deps, Deps)
    assert part.deps.subjects is svc.subjects and part.deps.memberships is svc.memberships
    app = svc.apps.get("fake-app")
    resetter = Resetter(svc, {"wechat": WECHAT}, [], lambda _app: None)
    resetter.forget(app)  # what control/reset.py does for every app it resets
    assert part.forgotten == [app.id]


def test_reset_forgets_the_call_frequency_windows_of_an_app(service: Service) -> None:
    found = dialects.discover()
    app = found["tencent_im"].seed_app(service, {"sdkappid": 1400000077, "key": "k" * 32,
                                                 "rate_limits": {"*": 1}})
    im(service).quotas.hit(app, "any/api")
    with pytest.raises(LimitExceeded):
        im(service).quotas.hit(app, "any/api")
    service.forget(app.id)
    im(service).quotas.hit(app, "any/api")  # a fresh window


def test_core_modules_import_no_dialect() -> None:
    for path in sorted((SRC / "core").glob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith("polytag.dialects"), f"{path.name} imports {node.module}"


# --- the one resolver ----------------------------------------------------------------------------
def test_one_rule_for_a_missing_id(service: Service) -> None:
    found = dialects.discover()
    one = found["tencent_im"].seed_app(service, {"sdkappid": 1400000071, "key": "k" * 32, "accounts": ["a", "b"],
                                                 "reimport_cooldown": 0})
    two = found["tencent_im"].seed_app(service, {"sdkappid": 1400000072, "key": "k" * 32, "accounts": ["z"]})
    assert service.subjects.resolve(one, ["b", "a"]) == [1, 0]
    with pytest.raises(NotFound) as nobody:
        service.subjects.resolve(one, ["a", "nobody"])
    assert (nobody.value.kind, nobody.value.key) == ("subject", "nobody")
    with pytest.raises(Exception) as elsewhere:
        service.subjects.resolve(one, ["z"])
    assert getattr(elsewhere.value, "reason", None) == "other_app"
    assert service.subjects.find(two, ["a", "z"]) == {"z": 0}
    # a deleted account is known but not active
    service.write_sync(lambda tx: im(service).accounts.delete_one(tx, one, "a"))
    assert service.subjects.find(one, ["a", "b"]) == {"a": 0, "b": 1}
    assert service.subjects.find(one, ["a", "b"], active=True) == {"b": 1}
    with pytest.raises(NotFound):
        service.subjects.resolve(one, ["a"], active=True)
    service.write_sync(lambda tx: im(service).accounts.import_one(tx, one, "a"))
    assert service.subjects.find(one, ["a", "b"], active=True) == {"a": 0, "b": 1}


# --- the record's other fields -------------------------------------------------------------------
def test_every_dialect_fills_the_record() -> None:
    for name, d in dialects.discover().items():
        assert d.fixture_entry is not None, name
        entry = d.fixture_entry("abc")
        assert set(d.seed_keys) <= set(entry), name
        assert d.fixture_entry("abc") != d.fixture_entry("abc") or name == "fake", "fresh credentials"
        assert d.code_of({}) == 0 and d.code_of([1]) == 0 and d.code_of("x") == 0
        assert d.testing is None or d.testing.startswith(f"polytag.dialects.{name}.")


def test_unknown_dialect_fixture_is_refused() -> None:
    from polytag.testing import unique_entry

    with pytest.raises(ValueError, match="unknown dialect"):
        unique_entry("nobody")
    doc, app = unique_entry("juzibot", members=["m"])
    assert doc["dialect"] == "juzibot" and doc["members"] == ["m"] and app.name == doc["name"]


def test_health_carries_each_records_console_hints(client: TestClient) -> None:
    got = client.get("/_polytag/health").json()["console"]
    found = dialects.discover()
    assert got == {n: {"grouped": d.console.grouped, "hue": d.console.hue, "callbacks": d.callbacks is not None,
                       "callback_modes": list(d.callbacks.modes) if d.callbacks else []}
                   for n, d in found.items()}
    assert got["juzibot"]["grouped"] and not got["wechat"]["grouped"]
    assert got["wechat"]["callbacks"] and not got["juzibot"]["callbacks"]
    assert got["wechat"]["callback_modes"] == ["plain", "compat", "safe"] and got["wecom"]["callback_modes"] == ["safe"]


# --- no vendor outside dialects/ -----------------------------------------------------------------
def _vendor_words() -> re.Pattern[str]:
    names = set(dialects.discover()) | {"wechat", "tencent_im", "juzibot", "wecom"}
    return re.compile("|".join(sorted(map(re.escape, names))), re.I)


def test_no_file_outside_dialects_names_a_vendor() -> None:
    words = _vendor_words()
    naming = []
    for path in sorted(SRC.rglob("*")):
        rel = path.relative_to(SRC).as_posix()
        if not path.is_file() or rel.startswith("dialects/") or path.suffix in (".so", ".pyc"):
            continue
        if rel in ALLOWED:
            continue
        if words.search(rel) or words.search(path.read_text("utf-8", "replace")):
            naming.append(rel)
    assert naming == [], f"vendor named outside src/polytag/dialects/: {naming}"
