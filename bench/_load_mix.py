"""The load mix of `bench/load.py`: the apps it seeds, the data it sets up, and one request per kind.

A WeChat app (`--followers` generated openids, 20 tags: exactly the per-follower cap, so random
tagging is never refused) and a Tencent IM app (accounts, no call-rate limit). Each request is
(kind, method, path, params, body, code key); an answer is good when HTTP 200 and the code is 0.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any

import httpx

from polytag.core.ids import generated_ext_ids
from polytag.testing import usersig

APPID, SECRET = "wxload00000000001", "loadsecret"
SDKAPPID, KEY, ADMIN = 1400000999, "d" * 64, "administrator"
TAGS = 20  # = WeChat's per-follower cap: tagging any follower with any of them always fits
ACCOUNTS = 5_000

# kind -> weight (out of 100): writes 25 %, reads 75 %
MIX = {
    "wechat batchtagging": 15, "wechat batchuntagging": 10, "wechat tags/get": 10,
    "wechat user/tag/get": 15, "wechat user/info": 20, "im im_get_tag": 20, "native audience count": 10,
}
EXPRS = ["load00 & load01", "load02 | (load03 & !load04)", "load05 & !load06", "load07 | load08 | load09"]


def seed_doc(followers: int) -> dict[str, Any]:
    return {"apps": [
        {"dialect": "wechat", "appid": APPID, "secret": SECRET, "followers": {"generate": followers}},
        {"dialect": "tencent_im", "sdkappid": SDKAPPID, "key": KEY, "admin": ADMIN,
         "accounts": {"generate": ACCOUNTS}, "rate_limits": {"*": 0}},
    ]}


@dataclass
class Mix:
    """What the requests need: a token, tag ids, the subjects, and a signed IM query."""

    token: str
    tag_ids: list[int]
    followers: list[str]
    accounts: list[str]
    im_query: dict[str, Any]

    def request(self, rng: random.Random) -> tuple[str, str, str, dict[str, Any], Any, str]:
        kind = rng.choices(list(MIX), weights=list(MIX.values()))[0]
        wx = {"access_token": self.token}
        if kind in ("wechat batchtagging", "wechat batchuntagging"):
            body = {"openid_list": rng.sample(self.followers, rng.randint(1, 50)), "tagid": rng.choice(self.tag_ids)}
            return kind, "POST", f"/cgi-bin/tags/members/{kind.split()[1]}", wx, body, "errcode"
        if kind == "wechat tags/get":
            return kind, "GET", "/cgi-bin/tags/get", wx, None, "errcode"
        if kind == "wechat user/tag/get":
            return kind, "POST", "/cgi-bin/user/tag/get", wx, {"tagid": rng.choice(self.tag_ids), "next_openid": ""}, "errcode"
        if kind == "wechat user/info":
            return kind, "GET", "/cgi-bin/user/info", {**wx, "openid": rng.choice(self.followers), "lang": "zh_CN"}, None, "errcode"
        if kind == "im im_get_tag":
            query = {**self.im_query, "random": rng.randrange(2**32)}
            return kind, "POST", "/v4/all_member_push/im_get_tag", query, {"To_Account": rng.sample(self.accounts, 5)}, "ErrorCode"
        return kind, "POST", f"/v1/apps/{APPID}/audiences/count", {}, {"expr": rng.choice(EXPRS)}, ""


def setup(url: str, followers: int, rng: random.Random) -> Mix:
    """Create the 20 tags, tag a share of the followers, give IM accounts some tags."""
    subjects = generated_ext_ids(f"wechat:{APPID}", followers)
    accounts = generated_ext_ids(f"tencent_im:{SDKAPPID}", ACCOUNTS, "u", 24)
    query = {"sdkappid": SDKAPPID, "identifier": ADMIN, "contenttype": "json", "usersig": usersig(SDKAPPID, KEY, ADMIN)}
    with httpx.Client(base_url=url, timeout=120) as http:
        token = http.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID,
                                                    "secret": SECRET}).json()["access_token"]
        ids = []
        for j in range(TAGS):
            out = http.post("/cgi-bin/tags/create", params={"access_token": token}, json={"tag": {"name": f"load{j:02d}"}})
            ids.append(int(out.json()["tag"]["id"]))
        for _ in range(min(400, followers // 10)):
            body = {"openid_list": rng.sample(subjects, min(50, len(subjects))), "tagid": rng.choice(ids)}
            check(http.post("/cgi-bin/tags/members/batchtagging", params={"access_token": token}, json=body))
        for start in range(0, min(ACCOUNTS, 1_000), 100):
            body = {"UserTags": [{"To_Account": a, "Tags": rng.sample(["vip", "new", "gz", "sh", "bj"], 2)}
                                 for a in accounts[start:start + 100]]}
            check(http.post("/v4/all_member_push/im_add_tag", params={**query, "random": rng.randrange(2**32)},
                            json=body), "ErrorCode")
    return Mix(str(token), ids, subjects, accounts, query)


def check(resp: httpx.Response, key: str = "errcode") -> None:
    if resp.status_code != 200 or resp.json().get(key, 0) != 0:
        raise RuntimeError(f"setup call failed: {resp.status_code} {resp.text[:300]}")


def good(status: int, payload: Any, key: str) -> bool:
    if status != 200:
        return False
    return not key or (isinstance(payload, dict) and payload.get(key, 0) == 0)
