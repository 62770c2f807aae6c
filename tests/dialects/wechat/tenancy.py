"""The WeChat dialect in the tenant matrix (tests/tenancy_profile.py).

An openid another app on this server holds as a subject answers 49003; one nobody holds as-is
(apps whose subjects are member-customer pairs) 40003; a tag id this app does not have, though
another app does, 45159. App B has more tags than app A, so A can name ids only B has. Data
answers carry no errcode (read as 0).
"""

from __future__ import annotations

import json
from typing import Any

from tests.tenancy_profile import Answer, Profile, Request, Seed, Session

CREDENTIAL_REFUSED = frozenset({40001, 40014})  # a well-shaped token nobody issued; a malformed one


def _seed(key: str, appid: str, tags: int) -> Seed:
    people = [f"o{key}Follower{i:017d}" for i in range(3)]
    names = [f"{key}-t{n}" for n in range(tags)]
    entry = {"dialect": "wechat", "appid": appid, "secret": f"secret-{key}-0000", "followers": people,
             "tags": [{"name": n} for n in names]}
    return Seed(key, entry, people, people, names, tags=[str(100 + n) for n in range(tags)])


A, B = _seed("wa", "wx000000000000aaa1", 2), _seed("wb", "wx000000000000bbb2", 5)


def _send(session: Session, req: Request, credential: str) -> Answer:
    method = "GET" if req.body is None else "POST"
    content = b"" if req.body is None else json.dumps(req.body).encode()
    resp = session.client.request(method, f"/cgi-bin/{req.path}", content=content,
                                  params={"access_token": credential, **req.query})
    assert resp.status_code == 200, resp.text
    out: Answer = resp.json()
    return out


def _grant(seed: Seed, secret: str | None = None) -> dict[str, str]:
    return {"grant_type": "client_credential", "appid": str(seed.entry["appid"]),
            "secret": str(seed.entry["secret"] if secret is None else secret)}


def login(client: Any, seed: Seed) -> Session:
    """App A's token from `token` (the secret in the query), B's from `stable_token` (in a body)."""
    if seed.key == A.key:
        path, got = "token", client.get("/cgi-bin/token", params=_grant(seed)).json()
    else:
        body = json.dumps(_grant(seed)).encode()
        path, got = "stable_token", client.post("/cgi-bin/stable_token", content=body).json()
    assert "access_token" in got, got
    return Session(client, seed, str(got["access_token"]), _send, f"/cgi-bin/{path}")


def setup(s: Session) -> None:
    """Every follower carries the app's first tag."""
    got = s("tags/members/batchtagging", {"openid_list": list(s.seed.people), "tagid": int(s.seed.tags[0])})
    assert got["errcode"] == 0, got


def hostile(x: Seed, y: Seed) -> list[Request]:
    someone, own_tag = y.people[0], int(x.tags[0])
    code = 49003 if someone in y.subjects else 40003  # held as-is by another app, or by nobody
    calls = [
        Request("tags/members/batchtagging", {"openid_list": list(y.people), "tagid": own_tag}, code=code),
        Request("tags/members/batchuntagging", {"openid_list": list(y.people), "tagid": own_tag}, code=code),
        Request("tags/getidlist", {"openid": someone}, code=code),
        Request("user/info/updateremark", {"openid": someone, "remark": "pwned"}, code=code),
        Request("user/info/batchget", {"user_list": [{"openid": someone}]}, code=code),
        Request("tags/members/batchblacklist", {"openid_list": [someone]}, code=code),
        Request("tags/members/batchunblacklist", {"openid_list": [someone]}, code=code),
        Request("user/info", query={"openid": someone}, code=code),
    ]
    for tag in (int(t) for t in y.tags if t.isdigit() and t not in x.tags):  # ids only Y has
        calls += [Request("user/tag/get", {"tagid": tag}, code=45159),
                  Request("tags/update", {"tag": {"id": tag, "name": "pwned"}}, code=45159),
                  Request("tags/delete", {"tag": {"id": tag}}, code=45159)]
    return calls


def own_tags(s: Session) -> set[str]:
    return {t["name"] for t in s("tags/get")["tags"] if t["id"] >= 100}  # below 100: reserved tags


def cross_check(a: Session, b: Session) -> None:
    """One app's secret never buys another's token; a token only ever names its app."""
    for seed, stranger in ((a.seed, b.seed), (b.seed, a.seed)):
        wrong = _grant(seed, str(stranger.entry["secret"]))
        assert a.client.get("/cgi-bin/token", params=wrong).json()["errcode"] == 40125
        got = a.client.post("/cgi-bin/stable_token", content=json.dumps(wrong).encode()).json()
        assert got["errcode"] == 40125, got
    for own, other in ((a, b), (b, a)):
        assert "errcode" not in own("user/info", openid=own.seed.people[0])  # its own token reads it
        assert other("user/info", openid=own.seed.people[0])["errcode"] == 49003


def codes_name_the_reason(a: Session, b: Session) -> None:
    """49003 for a follower of another app on this server, 40003 for an openid nobody has,
    45159 for a tag id this app does not have (though another app does)."""
    assert a("tags/getidlist", {"openid": b.seed.people[0]})["errcode"] == 49003
    assert a("tags/getidlist", {"openid": "o" + "z" * 27})["errcode"] == 40003
    only_b = int(b.seed.tags[-1])
    assert str(only_b) not in a.seed.tags
    assert a("user/tag/get", {"tagid": only_b})["errcode"] == 45159
    own = b("user/tag/get", {"tagid": only_b})
    assert "errcode" not in own and own["count"] == 0  # data answers carry no errcode


PROFILE = Profile(
    seeds=(A, B), login=login, setup=setup, hostile=hostile, own_tags=own_tags,
    probe=lambda seed: Request("tags/get"), bad_credential=CREDENTIAL_REFUSED,
    cross_check=cross_check, checks=[codes_name_the_reason],
)
