"""PostgreSQL-only behaviour: URL and SQL translation, the pool, concurrent migrate, errors → Unavailable.

The row contract itself is `test_contract.py`, run on every backend through `db_url`.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from pyroaring import BitMap

from polytag.errors import Unavailable
from polytag.store import Tx, migrations, open_store
from tests.conftest import IN_PROCESS, ROOT, pg_dsn

psycopg = pytest.importorskip("psycopg")
from polytag.store import postgres  # noqa: E402  (after the importorskip)

WAIT = 30  # seconds: a bound on waiting for processes, never an assertion on speed


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh schema on the test server, dropped afterwards."""
    dsn = pg_dsn()
    url = f"{dsn}{'&' if '?' in dsn else '?'}schema=pt_{uuid.uuid4().hex[:16]}"
    yield url
    postgres.drop_schema(url)


@pytest.fixture
def store(pg_url: str) -> Iterator[postgres.PostgresStore]:
    s = open_store(pg_url)
    assert isinstance(s, postgres.PostgresStore)
    yield s
    s.close()


def backend_pid(conn: Any) -> int:
    return int(conn.info.backend_pid)


def terminate(url: str, pid: int) -> None:
    with postgres.admin_connection(url) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))


def new_app(store: postgres.PostgresStore, name: str = "app") -> int:
    return store.write(lambda tx: tx.insert_app("wechat", name, "h", "s", "{}", 1.0))


# translation -----------------------------------------------------------------------------------
def test_placeholders_are_translated_and_percent_is_refused() -> None:
    assert postgres.pg_sql("SELECT a FROM t WHERE b = ? AND c IN (?,?)") == (
        "SELECT a FROM t WHERE b = %s AND c IN (%s,%s)"
    )
    with pytest.raises(AssertionError):
        postgres.pg_sql("SELECT 'x%' WHERE a = ?")


def test_url_schema_option() -> None:
    conninfo, schema = postgres.parse_url("postgresql://u@h:5/db?schema=pt_x&sslmode=disable")
    assert (conninfo, schema) == ("postgresql://u@h:5/db?sslmode=disable", "pt_x")
    assert postgres.parse_url("postgres://u@h/db")[1] == "public"
    with pytest.raises(ValueError):
        postgres.parse_url("postgresql://u@h/db?schema=x;drop")
    assert postgres.lock_key("a", "write") != postgres.lock_key("b", "write")
    assert -(1 << 63) <= postgres.lock_key("a", "write") < 1 << 63


def test_multi_host_url_keeps_every_host_and_asks_for_the_writable_one() -> None:
    url = "postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write&schema=pt_x"
    conninfo, schema = postgres.parse_url(url)
    assert (conninfo, schema) == ("postgresql://u@h1:5432,h2:5433/db?target_session_attrs=read-write", "pt_x")
    assert psycopg.conninfo.conninfo_to_dict(conninfo)["host"] == "h1,h2"
    # several hosts and no preference: a standby would take reads it lags on and refuse writes
    assert postgres.parse_url("postgresql://u@h1,h2/db")[0] == "postgresql://u@h1,h2/db?target_session_attrs=read-write"
    assert postgres.parse_url("postgresql://u@h1,h2/db?target_session_attrs=any")[0].endswith("=any")
    assert "target_session_attrs" not in postgres.parse_url("postgresql://u@h1/db")[0]


# the store -------------------------------------------------------------------------------------
def test_bytea_comes_back_as_bytes_and_bools_as_integers(store: postgres.PostgresStore) -> None:
    app = new_app(store)
    bits = BitMap([1, 5, 70_000]).serialize()

    def op(tx: Tx) -> None:
        tx.append_log(app, 1, 0, 1, bits)
        first = tx.bump_counter(app, "next_subject", 1)
        tx.insert_subjects(app, first, ["u1"], 3)
        tx.set_subject_fields(app, first, active=False)

    store.write(op)
    (row,) = store.read().log_after(app, 0)
    assert isinstance(row[3], bytes)
    assert BitMap.deserialize(row[3]) == BitMap([1, 5, 70_000])
    assert store.read().count_subjects(app) == 0
    assert store.read().count_subjects(app, active_only=False) == 1


def test_tables_live_in_the_url_schema(store: postgres.PostgresStore, pg_url: str) -> None:
    new_app(store)
    with postgres.admin_connection(pg_url) as admin:
        row = admin.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = %s AND table_name = 'apps'",
            (store.schema,),
        ).fetchone()
    assert row == (1,)


def test_migrate_is_idempotent_and_recorded(store: postgres.PostgresStore) -> None:
    assert store.migrate() == []
    with postgres.admin_connection(store.url) as conn:
        got = conn.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()
    assert got == [(m.version, m.name) for m in migrations.load("postgresql")]


def test_migrate_from_two_processes_at_once(pg_url: str) -> None:
    """Two `polytag migrate` on an empty schema: both succeed, each migration is applied once."""
    cmd = [sys.executable, "-m", "polytag", "migrate", "--db", pg_url]
    procs = [subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=WAIT)
        assert p.returncode == 0, err
    with postgres.admin_connection(pg_url) as conn:
        got = conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert [v for (v,) in got] == [m.version for m in migrations.load("postgresql")]


def test_reads_share_a_pool_and_survive_a_lost_connection(store: postgres.PostgresStore) -> None:
    app = new_app(store)
    rows = store.read()
    assert store.read() is rows  # one reader per thread
    terminate(store.url, backend_pid(rows.conn))
    assert rows.app_by_id(app) is not None  # retried once on a fresh pooled connection
    assert not rows.conn.broken


def test_the_urls_connect_timeout_wins_over_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[Any] = []

    def fake_connect(conninfo: str, autocommit: bool, **kwargs: Any) -> Any:
        seen.append(psycopg.conninfo.make_conninfo(conninfo, **kwargs))
        return None

    monkeypatch.setattr(postgres.connection.psycopg, "connect", fake_connect)
    postgres.connect("postgresql://u@h1,h2/db?connect_timeout=2", "s")
    postgres.connect("postgresql://u@h1/db", "s")
    assert [psycopg.conninfo.conninfo_to_dict(c)["connect_timeout"] for c in seen] == ["2", "10"]


def test_a_lost_read_connection_is_replaced_without_waiting_on_the_pool(
    store: postgres.PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a failover the pool's workers back off for seconds between attempts, and its
    `getconn` would hold the event loop meanwhile: the replacement connects by itself."""
    app = new_app(store)
    rows = store.read()
    terminate(store.url, backend_pid(rows.conn))

    def no_waiting(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("waited on the pool for a replacement read connection")

    monkeypatch.setattr(store._pool, "getconn", no_waiting)
    assert rows.app_by_id(app) is not None
    assert not rows.conn.broken and not rows.pooled
    terminate(store.url, backend_pid(rows.conn))  # and again: a replacement is replaced the same way
    assert rows.app_by_id(app) is not None


def test_writer_survives_a_lost_connection_between_groups(store: postgres.PostgresStore) -> None:
    new_app(store, "a")
    conn = store.writer._backend.conn  # type: ignore[attr-defined]
    terminate(store.url, backend_pid(conn))
    new_app(store, "b")  # BEGIN on a dead connection is safe to retry on a new one
    assert [r[2] for r in store.read().apps()] == ["a", "b"]


def test_connection_lost_inside_a_group_is_unavailable_and_applies_nothing(
    store: postgres.PostgresStore,
) -> None:
    def op(tx: Tx) -> None:
        tx.insert_app("wechat", "half", "h", "s", "{}", 1.0)
        assert isinstance(tx, postgres.PgTx)
        terminate(store.url, backend_pid(tx.conn))
        tx.insert_app("wechat", "other-half", "h", "s", "{}", 1.0)

    with pytest.raises(Unavailable):
        store.write(op)
    assert store.read().apps() == []
    new_app(store, "after")  # the writer thread lives on
    assert [r[2] for r in store.read().apps()] == ["after"]


def test_lock_wait_past_the_timeout_is_unavailable(
    store: postgres.PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holding the write lock too long: `Unavailable`, not a hang and not a 500."""
    backend = store.writer._backend  # type: ignore[attr-defined]
    backend.close()
    backend.conn = None
    monkeypatch.setattr(postgres.tx, "_LOCK_TIMEOUT", "200ms")
    with postgres.admin_connection(store.url) as holder:
        holder.execute("SELECT pg_advisory_lock(%s)", (postgres.lock_key(store.schema, "write"),))
        with pytest.raises(Unavailable):
            new_app(store, "blocked")
        holder.execute("SELECT pg_advisory_unlock_all()")
    new_app(store, "free")
    assert [r[2] for r in store.read().apps()] == ["free"]


def test_database_down_at_start_is_unavailable() -> None:
    with pytest.raises(Unavailable):
        open_store("postgresql://postgres@127.0.0.1:1/none?connect_timeout=2")


def test_lazy_savepoints_in_one_group(store: postgres.PostgresStore) -> None:
    """Ops that fail before any SQL, on a database error, or after SQL: each undone alone."""
    import threading

    gate = threading.Event()
    first = store.submit(lambda tx: gate.wait(30))  # holds the writer so the rest form one group

    def no_sql(tx: Tx) -> None:
        raise ValueError("before any SQL")

    def duplicate(tx: Tx) -> None:
        tx.insert_app("wechat", "dup-ok", "h", "s", "{}", 1.0)
        tx.insert_app("wechat", "dup-ok", "h", "s", "{}", 1.0)  # UNIQUE(name): a database error

    def after_sql(tx: Tx) -> None:
        tx.insert_app("wechat", "undone", "h", "s", "{}", 1.0)
        raise ValueError("after SQL")

    futs = [store.submit(lambda tx: tx.insert_app("wechat", "a", "h", "s", "{}", 1.0)),
            store.submit(no_sql), store.submit(duplicate), store.submit(after_sql),
            store.submit(lambda tx: tx.insert_app("wechat", "b", "h", "s", "{}", 1.0))]
    gate.set()
    assert first.result(WAIT)
    assert futs[0].result(WAIT) and futs[4].result(WAIT)
    for fut in futs[1:4]:
        assert fut.exception(WAIT) is not None
    assert isinstance(futs[2].exception(), psycopg.errors.UniqueViolation)
    assert [r[2] for r in store.read().apps()] == ["a", "b"]


def test_a_busy_database_is_the_dialects_system_error_not_a_500(
    pg_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another process holds the write lock past the timeout: WeChat answers errcode -1, HTTP 200."""
    from starlette.testclient import TestClient

    from polytag import dialects, seed
    from polytag.app import create_app
    from polytag.config import Settings
    from polytag.core.service import Service

    monkeypatch.setattr(postgres.tx, "_LOCK_TIMEOUT", "200ms")
    found = dialects.discover()
    svc = Service(open_store(pg_url), dialects.presets(found))
    app_doc = {"dialect": "wechat", "appid": "wx00000000000busy1", "secret": "busy-secret",
               "followers": ["oBusyFollower"], "tags": ["busy"]}
    seed.apply(svc, seed.validate({"apps": [app_doc]}), found)
    with TestClient(create_app(Settings(db=pg_url, **IN_PROCESS), svc)) as client:
        token = client.get("/cgi-bin/token", params={
            "grant_type": "client_credential", "appid": app_doc["appid"], "secret": app_doc["secret"],
        }).json()["access_token"]
        tag_id = client.get("/cgi-bin/tags/get", params={"access_token": token}).json()["tags"][-1]["id"]
        body = {"openid_list": ["oBusyFollower"], "tagid": tag_id}
        with postgres.admin_connection(pg_url) as holder:
            holder.execute("SELECT pg_advisory_lock(%s)", (postgres.lock_key(svc.store.schema, "write"),))  # type: ignore[attr-defined]
            resp = client.post("/cgi-bin/tags/members/batchtagging", params={"access_token": token}, json=body)
            assert resp.status_code == 200
            assert resp.json()["errcode"] == -1
            holder.execute("SELECT pg_advisory_unlock_all()")
        resp = client.post("/cgi-bin/tags/members/batchtagging", params={"access_token": token}, json=body)
        assert resp.json() == {"errcode": 0, "errmsg": "ok"}
        got = client.post("/cgi-bin/tags/getidlist", params={"access_token": token},
                          json={"openid": "oBusyFollower"}).json()
        assert got["tagid_list"] == [tag_id]


def test_nul_in_text_is_a_missing_id_not_a_database_error(store: postgres.PostgresStore) -> None:
    app = new_app(store)
    assert store.read().subject_ords(app, ["a\x00b"]) == []
    store.write(lambda tx: tx.insert_subjects(app, 0, ["a\x00b"], 0))
    assert store.read().subject_ords(app, ["a\x00b"]) == [("a\ufffdb", 0)]


def test_a_snapshot_sees_one_committed_state(store: postgres.PostgresStore) -> None:
    """What a cache loading from several tables needs (core/memberships.py `_load`): a write
    committed mid-way is not seen half."""
    app = new_app(store)
    rows = store.read()
    with rows.snapshot():
        assert rows.app_head(app) == (0, 0, 0, 0)
        store.write(lambda tx: tx.bump_counter(app, "mseq"))
        with rows.snapshot():  # nested: the same snapshot
            assert rows.app_head(app) == (0, 0, 0, 0)
        assert rows.app_head(app) == (0, 0, 0, 0)
    assert rows.app_head(app) == (1, 0, 0, 0)


def test_group_writes_go_with_the_commit_and_a_failing_one_fails_the_group(
        store: postgres.PostgresStore) -> None:
    """`before_commit` writes are queued and sent in COMMIT's pipeline: applied with the group,
    and one that the database refuses fails the whole group (nothing of it applied), after
    which the writer goes on."""
    a = new_app(store)

    def op(fail: bool) -> Any:
        def run(tx: Tx) -> None:
            tx.set_counter(a, "next_tag", 7)

            def hook() -> None:
                tx.set_counter(a, "mseq", 3)
                if fail:  # UNIQUE(dialect, name): refused when the COMMIT's pipeline runs
                    tx.insert_app("wechat", "app", "h", "s", "{}", 1.0)

            tx.before_commit.append(hook)
        return run

    with pytest.raises(Unavailable):
        store.submit(op(True), app=a).result(WAIT)
    assert store.read().app_head(a) == (0, 0, 0, 0)
    store.submit(op(False), app=a).result(WAIT)
    assert store.read().app_head(a) == (3, 0, 7, 0)


def test_an_apps_head_is_read_with_begin_and_again_only_after_the_group_writes(
    store: postgres.PostgresStore,
) -> None:
    a = new_app(store)
    statements: list[str] = []

    def op(tx: Tx) -> list[Any]:
        conn = tx.conn  # type: ignore[attr-defined]
        real = conn.execute

        def counting(sql: Any, *args: Any, **kwargs: Any) -> Any:
            statements.append(str(sql))
            return real(sql, *args, **kwargs)

        conn.execute = counting
        try:
            heads = [tx.app_head(a), tx.app_head(a)]
            tx.set_counter(a, "next_tag", 4)  # a write: the next read goes to the database again
            heads.append(tx.app_head(a))
            return heads
        finally:
            del conn.execute

    heads = store.submit(op, app=a).result(WAIT)
    assert heads == [(0, 0, 0, 0), (0, 0, 0, 0), (0, 0, 4, 0)]
    assert sum("FROM apps" in s for s in statements) == 1  # BEGIN's pipeline read the first


def test_a_vendor_call_reads_its_token_and_app_in_one_statement(
    pg_url: str, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A call reads its token and app with one statement (the control plane's app hint and
    authentication share it); later calls use that copy while the database's generation holds,
    and a revoked token is refused at once."""
    from starlette.testclient import TestClient

    from polytag import dialects, seed
    from polytag.app import create_app
    from polytag.config import Settings
    from polytag.core.service import Service

    found = dialects.discover()
    svc = Service(open_store(pg_url), dialects.presets(found))
    app_doc = {"dialect": "wechat", "appid": "wx0000000000reads1", "secret": "reads-secret",
               "followers": ["oReader"], "tags": ["t"]}
    seed.apply(svc, seed.validate({"apps": [app_doc]}), found)
    statements: list[str] = []
    real = psycopg.Connection.execute

    def counting(self: Any, query: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(str(query))
        return real(self, query, *args, **kwargs)

    with TestClient(create_app(Settings(db=pg_url), svc)) as client:
        token = client.get("/cgi-bin/token", params={
            "grant_type": "client_credential", "appid": app_doc["appid"], "secret": app_doc["secret"],
        }).json()["access_token"]
        monkeypatch.setattr(psycopg.Connection, "execute", counting)
        got = client.get("/cgi-bin/tags/get", params={"access_token": token}).json()
        assert [t["name"] for t in got["tags"]][-1] == "t"
        assert sum("FROM tokens" in s for s in statements) == 1, statements
        assert not any("secret_hash" in s and "FROM tokens" not in s for s in statements), statements  # no app read
        statements.clear()
        assert client.get("/cgi-bin/tags/get", params={"access_token": token}).json()["tags"]
        assert not any("FROM tokens" in s for s in statements), statements  # the copy served
        assert any("FROM generation" in s for s in statements), statements  # checked against the row
        svc.store.write(lambda tx: tx.cap_token_expiry(svc.apps.get(app_doc["appid"]).id, "token", 0.0, ""))
        assert client.get("/cgi-bin/tags/get", params={"access_token": token}).json()["errcode"] == 40001  # revoked
