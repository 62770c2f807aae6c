"""`/metrics`: what each front end answered, counted exactly (vendor codes, route templates, "other"
for unknown paths), latency histograms that agree, store errors, the index cache, the admin key."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from polytag.app import create_app
from polytag.config import Settings
from polytag.core.service import Service
from polytag.errors import Unavailable
from polytag.store import open_store
from tests.conftest import IN_PROCESS
from tests.dialects.juzibot.conftest import MAIN as JZ
from tests.dialects.juzibot.conftest import TOKEN as JZ_TOKEN
from tests.dialects.tencent_im.conftest import app_entry as im_entry
from tests.dialects.tencent_im.conftest import query as im_query

APPID, SECRET = "wx00000000000000m1", "metrics-secret"
FANS = ["oMetricsFan000000000000000001", "oMetricsFan000000000000000002"]
SEED = {"apps": [{"dialect": "wechat", "appid": APPID, "secret": SECRET, "followers": FANS,
                  "tags": [{"name": "vip"}]}, im_entry(), JZ]}

IM_BODY = b'{"To_Account": ["xiaojun012"]}'
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient, **headers: str) -> Samples:
    resp = client.get("/metrics", headers=headers)
    assert resp.status_code == 200, resp.text
    assert resp.headers["content-type"].startswith("text/plain")
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(resp.text) for s in family.samples}


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def requests_of(samples: Samples) -> dict[tuple[str, str, str, str], float]:
    """polytag_requests_total by (dialect, path, code, status)."""
    out = {}
    for (name, labels), v in samples.items():
        if name == "polytag_requests_total":
            d = dict(labels)
            out[(d["dialect"], d["path"], d["code"], d["status"])] = v
    return out


def token(client: TestClient, appid: str = APPID, secret: str = SECRET) -> dict[str, Any]:
    out: dict[str, Any] = client.get("/cgi-bin/token", params={
        "grant_type": "client_credential", "appid": appid, "secret": secret}).json()
    return out


@pytest.fixture
def env(client: TestClient, seeded: Callable[[dict[str, Any]], list[Any]]) -> TestClient:
    seeded(SEED)
    return client


def test_counts_exactly_what_each_front_end_answered(env: TestClient) -> None:
    assert token(env, appid="wx_nobody")["errcode"] == 40013
    assert token(env, appid="wx_nobody_else")["errcode"] == 40013
    tok = token(env)["access_token"]
    assert "tags" in env.get("/cgi-bin/tags/get", params={"access_token": tok}).json()
    unknown = [env.get(path, params={"access_token": tok}) for path in (
        "/cgi-bin/no/such/endpoint", "/cgi-bin/another/unknown/path")]  # one "other" series for both
    assert unknown[0].json()["errcode"] == unknown[1].json()["errcode"] != 0
    im_ok, im_bad = (env.post("/v4/all_member_push/im_get_tag", params=q, content=IM_BODY).json()
                     for q in (im_query(), im_query(sig="forged")))
    jz_ok = env.get("/api/v1/tag/list", params={"token": JZ_TOKEN}).json()
    jz_bad = env.get("/api/v1/tag/list", params={"token": "not-a-token"}).json()
    assert env.get("/v1/apps").status_code == 200
    assert env.get(f"/v1/apps/{APPID}/tags/vip").status_code == 200
    assert env.get(f"/v1/apps/{APPID}/tags/none-such").status_code == 404
    assert env.get("/v1/no/such/route").status_code == 404
    assert env.get("/_polytag/health").status_code == 200
    assert im_ok["ErrorCode"] == 0 and im_bad["ErrorCode"] != 0
    assert jz_ok["errcode"] == 0 and jz_bad["errcode"] != 0

    got = scrape(env)
    wx_unknown = ("wechat", "other", str(unknown[0].json()["errcode"]), str(unknown[0].status_code))
    assert requests_of(got) == {
        ("wechat", "/cgi-bin/token", "40013", "200"): 2,
        ("wechat", "/cgi-bin/token", "0", "200"): 1,
        ("wechat", "/cgi-bin/tags/get", "0", "200"): 1,
        wx_unknown: 2,
        ("tencent_im", "/v4/all_member_push/im_get_tag", "0", "200"): 1,
        ("tencent_im", "/v4/all_member_push/im_get_tag", str(im_bad["ErrorCode"]), "200"): 1,
        ("juzibot", "/api/v1/tag/list", "0", "200"): 1,
        ("juzibot", "/api/v1/tag/list", str(jz_bad["errcode"]), "200"): 1,
        ("native", "/v1/apps", "0", "200"): 1,
        ("native", "/v1/apps/{app}/tags/{tag}", "0", "200"): 1,
        ("native", "/v1/apps/{app}/tags/{tag}", "404", "404"): 1,
        ("native", "other", "404", "404"): 1,
        ("control", "/_polytag/health", "0", "200"): 1,
    }
    # each latency histogram counted the same requests as the counters, bucket +Inf included
    by_route: dict[tuple[str, str], float] = {}
    for (dialect, path, _, _), n in requests_of(got).items():
        by_route[(dialect, path)] = by_route.get((dialect, path), 0) + n
    for (dialect, path), n in by_route.items():
        assert value(got, "polytag_request_duration_seconds_count", dialect=dialect, path=path) == n
        assert value(got, "polytag_request_duration_seconds_bucket", dialect=dialect, path=path, le="+Inf") == n
        assert value(got, "polytag_request_duration_seconds_sum", dialect=dialect, path=path) > 0
    assert not any(name == "polytag_store_errors_total" for name, _ in got)


def test_index_cache_hits_and_misses(env: TestClient, service: Service) -> None:
    app = service.apps.get(APPID)
    tok = token(env)["access_token"]

    def tags_get() -> None:
        assert env.get("/cgi-bin/tags/get", params={"access_token": tok}).json()["tags"]

    def cache(samples: Samples) -> tuple[float, float, float]:
        return (value(samples, "polytag_index_cache_hits_total"),
                value(samples, "polytag_index_cache_misses_total", reason="load"),
                value(samples, "polytag_index_cache_misses_total", reason="catch_up"))

    service.memberships.forget(app.id)
    hits0, loads0, catch0 = cache(scrape(env))
    tags_get()  # a cold index: built
    hits1, loads1, catch1 = cache(scrape(env))
    assert (loads1 - loads0, catch1 - catch0) == (1, 0)
    tags_get()  # the same index, still at the head: reused
    hits2, loads2, catch2 = cache(scrape(env))
    assert hits2 > hits1 and (loads2, catch2) == (loads1, catch1)
    # another server process on the same database tags a follower: this one's index falls behind
    other = Service(open_store(service.store.url))
    try:
        other.write_sync(lambda tx: other.tag_subjects(tx, other.apps.get(APPID), "100", FANS[:1]))
    finally:
        other.store.close()
    tags_get()
    hits3, loads3, catch3 = cache(scrape(env))
    assert catch3 == catch2 + 1 and loads3 == loads2


def test_store_and_unexpected_errors(service: Service, seeded: Callable[[dict[str, Any]], list[Any]],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    seeded(SEED)
    app = create_app(Settings(db=service.store.url, **IN_PROCESS), service)
    with TestClient(app, raise_server_exceptions=False) as client:
        tok = token(client)["access_token"]
        for failure in (Unavailable("database unavailable: test"), RuntimeError("boom"), RuntimeError("boom")):
            def fail(*args: Any, _exc: BaseException = failure, **kw: Any) -> Any:
                raise _exc
            monkeypatch.setattr(service.tags, "all", fail)
            body = client.get("/cgi-bin/tags/get", params={"access_token": tok}).json()
            assert body["errcode"] == -1, body  # WeChat's "system busy"
        monkeypatch.setattr(service.apps, "list", lambda: (_ for _ in ()).throw(RuntimeError("boom")))
        assert client.get("/v1/apps").status_code == 500
        got = scrape(client)
    assert value(got, "polytag_store_errors_total", dialect="wechat", kind="unavailable") == 1
    assert value(got, "polytag_store_errors_total", dialect="wechat", kind="unexpected") == 2
    assert value(got, "polytag_store_errors_total", dialect="native", kind="unexpected") == 1
    assert value(got, "polytag_requests_total", dialect="native", path="/v1/apps", code="500", status="500") == 1


def test_metrics_need_the_admin_key_when_one_is_set(service: Service, client: TestClient) -> None:
    client.get("/_polytag/health")
    keyed = create_app(Settings(db=service.store.url, admin_key="k3y", **IN_PROCESS), service)  # a second app, own registry
    with TestClient(keyed) as c:
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "k3y"}):
            resp = c.get("/metrics", headers=headers)
            assert resp.status_code == 401 and "admin key" in json.loads(resp.text)["error"]
        c.get("/_polytag/health", headers={"Authorization": "Bearer k3y"})
        c.get("/_polytag/health", headers={"Authorization": "Bearer k3y"})
        got = scrape(c, Authorization="Bearer k3y")
    assert requests_of(got) == {("control", "/_polytag/health", "0", "200"): 2}  # not the other app's
    assert requests_of(scrape(client)) == {("control", "/_polytag/health", "0", "200"): 1}
