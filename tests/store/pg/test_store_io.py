"""PostgreSQL-only store behaviour: types, the URL schema, migrations (also from two processes), the
read pool and lost connections, lock waits, savepoints, a busy or absent database (Unavailable, or
the dialect's system error; never a 500, nothing applied).

The row contract itself is `tests/store/test_contract.py`, run on every backend through `db_url`.
"""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from pyroaring import BitMap

from polytag.errors import Unavailable
from polytag.store import Tx, migrations, open_store
from tests.conftest import IN_PROCESS, ROOT

psycopg = pytest.importorskip("psycopg")
from polytag.store import postgres  # noqa: E402  (after the importorskip)

WAIT = 30  # seconds: a bound on waiting for processes, never an assertion on speed


from tests.store.pg.conftest import backend_pid, new_app, terminate  # noqa: E402


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


