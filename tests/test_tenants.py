"""Tenant isolation matrix: for every ordered pair of apps (X, Y), X's credentials never read or
change Y's data, whatever the two apps' dialects.

Six apps, two of each dialect, each with its own subjects, tags and memberships (names carry the
app's key, so a leak shows). For each pair, X's credentials make every call of X's dialect that
names one of Y's subjects, tag ids or group ids; each call must be refused (WeChat: 49003 for a
follower of another app, 45159 for a tag id it does not have; IM: 70107 for accounts it never
imported, and reads of them are empty; JuziBot: 40068 for ids it does not own, as for ids nobody
has, never -2, which would tell a tenant the id exists elsewhere) and answer nothing
of Y's. Then Y's whole state, read through the native API, must equal what it was before, and so
must X's. Credentials are cross-checked too: X's token, UserSig or JuziBot token never opens Y.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from itertools import permutations
from typing import Any
from urllib.parse import quote

import pytest
import TLSSigAPIv2
from starlette.testclient import TestClient

from tests import et_id

WX = [{"key": "wa", "appid": "wx000000000000aaa1", "secret": "secret-wa-0000"},
      {"key": "wb", "appid": "wx000000000000bbb2", "secret": "secret-wb-0000"}]
IM = [{"key": "ia", "sdkappid": 1400000101, "secret": "a1" * 32},
      {"key": "ib", "sdkappid": 1400000202, "secret": "b2" * 32}]
JZ = [{"key": "ja", "name": "tenant-ja", "secret": "token-ja-000000000000"},
      {"key": "jb", "name": "tenant-jb", "secret": "token-jb-000000000000"}]
ADMIN = "administrator"
APPS = WX + IM + JZ
APP_NAME = {a["key"]: str(a.get("appid") or a.get("sdkappid") or a.get("name")) for a in APPS}
DIALECT = {**{a["key"]: "wechat" for a in WX}, **{a["key"]: "tencent_im" for a in IM},
           **{a["key"]: "juzibot" for a in JZ}}


def subjects(key: str) -> list[str]:
    if DIALECT[key] == "wechat":
        return [f"o{key}Follower{i:017d}" for i in range(3)]
    return [f"{key}-user-{i}" for i in range(3)]


def seed_doc() -> dict[str, Any]:
    apps: list[dict[str, Any]] = []
    for i, a in enumerate(WX):  # the second WeChat app has more tags: ids the first does not have
        apps.append({"dialect": "wechat", "appid": a["appid"], "secret": a["secret"],
                     "followers": subjects(a["key"]),
                     "tags": [{"name": f"{a['key']}-t{n}"} for n in range(2 + 3 * i)]})
    for a in IM:
        apps.append({"dialect": "tencent_im", "sdkappid": a["sdkappid"], "key": a["secret"],
                     "admin": ADMIN, "accounts": subjects(a["key"])})
    for a in JZ:
        apps.append({"dialect": "juzibot", "name": a["name"], "token": a["secret"], "members": ["rocky"],
                     "customers": [{"unionId": u, "friends": ["rocky"]} for u in subjects(a["key"])],
                     "groups": [{"name": f"{a['key']}-g", "tags": [{"name": f"{a['key']}-t0"},
                                                                   {"name": f"{a['key']}-t1"}]}]})
    return {"apps": apps}


class Tenants:
    """Credentials and calls per app over one in-process client."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.tokens = {a["key"]: self._wechat_token(a) for a in WX}
        self.sigs = {a["key"]: str(TLSSigAPIv2.TLSSigAPIv2(a["sdkappid"], a["secret"]).gen_sig(ADMIN))
                     for a in IM}

    def _wechat_token(self, a: dict[str, Any]) -> str:
        got = self.client.get("/cgi-bin/token", params={"grant_type": "client_credential",
                                                        "appid": a["appid"], "secret": a["secret"]}).json()
        return str(got["access_token"])

    def wechat(self, key: str, path: str, body: Any = None, token: str | None = None,
               **query: str) -> dict[str, Any]:
        content = b"" if body is None else json.dumps(body).encode()
        method = "GET" if body is None else "POST"
        resp = self.client.request(method, f"/cgi-bin/{path}", content=content,
                                   params={"access_token": token or self.tokens[key], **query})
        assert resp.status_code == 200, resp.text
        out: dict[str, Any] = resp.json()
        return out

    def im(self, key: str, path: str, body: Any, sdkappid: int | None = None) -> dict[str, Any]:
        app = next(a for a in IM if a["key"] == key)
        query = {"sdkappid": str(sdkappid or app["sdkappid"]), "identifier": ADMIN,
                 "usersig": self.sigs[key], "random": "12345", "contenttype": "json"}
        resp = self.client.post(f"/v4/{path}", params=query, content=json.dumps(body).encode())
        assert resp.status_code == 200, resp.text
        out: dict[str, Any] = resp.json()
        return out

    def juzi(self, key: str, path: str, body: Any = None, token: str | None = None,
             **query: str) -> dict[str, Any]:
        secret = token or next(a for a in JZ if a["key"] == key)["secret"]
        method = "GET" if body is None else "POST"
        content = b"" if body is None else json.dumps(body).encode()
        resp = self.client.request(method, f"/api/v1/{path}", params={"token": secret, **query},
                                   content=content)
        assert resp.status_code == 200, resp.text
        out: dict[str, Any] = resp.json()
        return out

    def state(self, key: str) -> dict[str, Any]:
        """The app's whole state through the native API: tags with counts, every subject's tags."""
        name = APP_NAME[key]
        tags = self.client.get(f"/v1/apps/{name}/tags").json()
        held = {}
        for s in self.client.get(f"/v1/apps/{name}/subjects", params={"limit": 1000}).json()["items"]:
            got = self.client.get(f"/v1/apps/{name}/subjects/{quote(s, safe='')}").json()
            held[s] = sorted(t["name"] for t in got["tags"] or [])
        groups = self.client.get(f"/v1/apps/{name}/groups").json()
        return {"tags": sorted((t["id"], t["name"], t["count"]) for t in tags), "held": held,
                "groups": sorted((g["id"], g["name"]) for g in groups)}


@pytest.fixture
def tenants(client: TestClient, seeded: Callable[[dict[str, Any]], list[Any]]) -> Iterator[Tenants]:
    seeded(seed_doc())
    t = Tenants(client)
    for a in WX:  # memberships: each follower carries its app's first tag
        assert t.wechat(a["key"], "tags/members/batchtagging",
                        {"openid_list": subjects(a["key"]), "tagid": 100})["errcode"] == 0
    for a in IM:
        body = {"UserTags": [{"To_Account": s, "Tags": [f"{a['key']}-t0"]} for s in subjects(a["key"])]}
        assert t.im(a["key"], "all_member_push/im_add_tag", body)["ErrorCode"] == 0
        names = {"AttrNames": {"0": "a"}}
        assert t.im(a["key"], "all_member_push/im_set_attr_name", names)["ErrorCode"] == 0
        attrs = {"UserAttrs": [{"To_Account": s, "Attrs": {"a": f"{a['key']}-t-attr"}}
                               for s in subjects(a["key"])]}
        assert t.im(a["key"], "all_member_push/im_set_attr", attrs)["ErrorCode"] == 0
    for a in JZ:
        tag = et_id(a["name"], "tag", 0)
        marks = [{"userId": "rocky", "unionId": s, "addTagId": [tag]} for s in subjects(a["key"])]
        assert t.juzi(a["key"], "tag/mark", {"mark_list": marks})["errcode"] == 0
    yield t


def foreign_ids(y: str) -> dict[str, list[str]]:
    """What of Y's an attacker could name: its subjects, tag ids and group ids."""
    name = APP_NAME[y]
    if DIALECT[y] == "juzibot":
        return {"subjects": subjects(y), "tags": [et_id(name, "tag", i) for i in range(2)],
                "groups": [et_id(name, "group", 0)]}
    return {"subjects": subjects(y), "tags": [], "groups": []}


def attack(t: Tenants, x: str, y: str) -> list[tuple[str, Any]]:
    """Every call X's credentials can make naming Y's data; returns (call, answer) of each."""
    ids, out = foreign_ids(y), []
    someone = ids["subjects"][0]
    if DIALECT[x] == "wechat":
        big_id = 104  # only the second WeChat app has tag 104
        for path, body, query in [
            ("tags/members/batchtagging", {"openid_list": ids["subjects"], "tagid": 100}, {}),
            ("tags/members/batchuntagging", {"openid_list": ids["subjects"], "tagid": 100}, {}),
            ("tags/getidlist", {"openid": someone}, {}),
            ("user/info/updateremark", {"openid": someone, "remark": "pwned"}, {}),
            ("user/info/batchget", {"user_list": [{"openid": someone}]}, {}),
            ("tags/members/batchblacklist", {"openid_list": [someone]}, {}),
            ("tags/members/batchunblacklist", {"openid_list": [someone]}, {}),
            ("user/info", None, {"openid": someone}),
        ]:
            out.append((path, t.wechat(x, path, body, **query)))
        if x == "wa":
            out.append(("user/tag/get", t.wechat(x, "user/tag/get", {"tagid": big_id})))
            out.append(("tags/update", t.wechat(x, "tags/update", {"tag": {"id": big_id, "name": "x"}})))
            out.append(("tags/delete", t.wechat(x, "tags/delete", {"tag": {"id": big_id}})))
    elif DIALECT[x] == "tencent_im":
        tag = f"{y}-t0"
        for path, body in [
            ("all_member_push/im_add_tag", {"UserTags": [{"To_Account": someone, "Tags": [tag]}]}),
            ("all_member_push/im_remove_tag", {"UserTags": [{"To_Account": someone, "Tags": [tag]}]}),
            ("all_member_push/im_remove_all_tags", {"To_Account": [someone]}),
            ("all_member_push/im_set_attr", {"UserAttrs": [{"To_Account": someone, "Attrs": {"a": "b"}}]}),
            ("all_member_push/im_get_tag", {"To_Account": [someone]}),
            ("all_member_push/im_get_attr", {"To_Account": [someone]}),
            ("im_open_login_svc/account_delete", {"DeleteItem": [{"UserID": someone}]}),
        ]:
            out.append((path, t.im(x, path, body)))
    else:
        for path, body, query in [
            ("tag/mark", {"mark_list": [{"userId": "rocky", "unionId": someone, "addTagId": ids["tags"] or
                                         [et_id(APP_NAME[x], "tag", 0)]}]}, {}),
            ("tag/edit", {"id": (ids["tags"] or ["none"])[0], "name": "pwned"}, {}),
            ("tag/delete", {"id": ids["tags"] or ["none"]}, {}),
            ("tagGroup/edit", {"id": (ids["groups"] or ["none"])[0], "name": "pwned"}, {}),
            ("tagGroup/delete", {"id": ids["groups"] or ["none"]}, {}),
            ("tag/create", {"groupId": (ids["groups"] or ["none"])[0], "tag": [{"name": "pwned"}]}, {}),
            ("tag/detail", None, {"tagId": (ids["tags"] or ["none"])[0]}),
        ]:
            out.append((path, t.juzi(x, path, body, **query)))
    return out


def refused(dialect: str, path: str, answer: dict[str, Any]) -> bool:
    """The answer refuses, or (reads) answers nothing of Y's."""
    if dialect == "wechat":
        return answer.get("errcode") in (49003, 45159, 40003)
    if dialect == "tencent_im":
        if path.endswith(("im_get_tag", "im_get_attr")):
            items = answer.get("UserTags") or answer.get("UserAttrs") or []
            return answer.get("ErrorCode") == 0 and all(not (i.get("Tags") or i.get("Attrs")) for i in items)
        if path.endswith("account_delete"):  # the vendor answers per account: not ours, not deleted
            return all(r.get("ResultCode") != 0 for r in answer.get("ResultItem", []))
        return answer.get("ErrorCode") == 70107
    return answer.get("errcode") not in (0, -2)  # -2 would say "this id exists, in another app"


PAIRS = list(permutations([a["key"] for a in APPS], 2))


def test_no_app_reads_or_changes_another(tenants: Tenants) -> None:
    before = {k: tenants.state(k) for k in APP_NAME}
    assert all(before[k]["held"] for k in APP_NAME)  # every app has tagged subjects to protect
    bad = []
    for x, y in PAIRS:
        for path, answer in attack(tenants, x, y):
            if not refused(DIALECT[x], path, answer):
                bad.append((x, y, path, answer))
            text = json.dumps(answer, ensure_ascii=False)
            if f"{y}-t" in text or f"{y}-g" in text:  # a name of Y's answered to X
                bad.append((x, y, path, "leak", answer))
    assert bad == [], "\n".join(map(str, bad))
    after = {k: tenants.state(k) for k in APP_NAME}
    assert after == before


def test_wechat_codes_name_the_reason(tenants: Tenants) -> None:
    """49003 for a follower of another app on this server, 40003 for an openid nobody has,
    45159 for a tag id this app does not have (though another app does)."""
    other = subjects("wb")[0]
    assert tenants.wechat("wa", "tags/getidlist", {"openid": other})["errcode"] == 49003
    assert tenants.wechat("wa", "tags/getidlist", {"openid": "o" + "z" * 27})["errcode"] == 40003
    assert tenants.wechat("wa", "user/tag/get", {"tagid": 104})["errcode"] == 45159
    own = tenants.wechat("wb", "user/tag/get", {"tagid": 104})
    assert "errcode" not in own and own["count"] == 0  # data answers carry no errcode


def test_credentials_open_only_their_own_app(tenants: Tenants) -> None:
    # WeChat: one app's secret never buys another's token; a token only ever names its app
    wa, wb = WX
    got = tenants.client.get("/cgi-bin/token", params={"grant_type": "client_credential",
                                                       "appid": wb["appid"], "secret": wa["secret"]})
    assert got.json()["errcode"] in (40125, 40001)
    tags_a = tenants.wechat("wa", "tags/get")["tags"]
    assert {t["name"] for t in tags_a if t["id"] >= 100} == {"wa-t0", "wa-t1"}
    # IM: X's UserSig is refused at Y's sdkappid (signed with X's key for X's sdkappid)
    ia, ib = IM
    answer = tenants.im("ia", "all_member_push/im_get_tag", {"To_Account": subjects("ib")},
                        sdkappid=ib["sdkappid"])
    assert answer["ErrorCode"] in (70003, 70009, 70013, 70014, 70001)
    # JuziBot: each token lists its own tags only
    listing = tenants.juzi("ja", "tag/list")
    assert "jb-" not in json.dumps(listing, ensure_ascii=False) and "ja-t0" in json.dumps(listing,
                                                                                        ensure_ascii=False)
    # cross-dialect: a WeChat token is no JuziBot token, nor the reverse
    assert tenants.juzi("ja", "tag/list", token=tenants.tokens["wa"])["errcode"] != 0
    assert tenants.wechat("wa", "tags/get", token=JZ[0]["secret"])["errcode"] in (40001, 40014, 42001)


def test_secrets_never_in_the_journal(tenants: Tenants) -> None:
    """Secrets, tokens and UserSigs appear in no journal entry: not in queries, bodies or answers."""
    a = WX[0]
    tenants.client.post("/cgi-bin/stable_token", content=json.dumps(
        {"grant_type": "client_credential", "appid": a["appid"], "secret": a["secret"]}).encode())
    tenants.im("ia", "all_member_push/im_get_tag", {"To_Account": subjects("ia")})
    journal = tenants.client.get("/_polytag/requests", params={"limit": 1000}).text
    assert "stable_token" in journal and "im_get_tag" in journal and "tag/mark" in journal
    secrets = [*(x["secret"] for x in APPS), *tenants.tokens.values(), *tenants.sigs.values()]
    assert [s for s in secrets if s in journal] == []
