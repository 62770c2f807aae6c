"""PostgreSQL-only: URL and SQL translation; write groups, snapshots and the head read that keeps
caches honest.

The row contract itself is `tests/store/test_contract.py`, run on every backend through `db_url`.
"""

from __future__ import annotations

from typing import Any

import pytest

from polytag.errors import Unavailable
from polytag.store import Tx, open_store

psycopg = pytest.importorskip("psycopg")
from polytag.store import postgres  # noqa: E402  (after the importorskip)

WAIT = 30  # seconds: a bound on waiting for processes, never an assertion on speed


from tests.store.pg.conftest import new_app  # noqa: E402


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
