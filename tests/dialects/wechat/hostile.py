"""The WeChat dialect for the hostile-input suite (tests/hostile_profile.py)."""

from tests.dialects.wechat.conftest import F1, MAIN, get_token
from tests.hostile_profile import Profile

PROFILE = Profile(
    entry={"dialect": "wechat", **MAIN, "followers": [F1], "tags": [{"name": "广东"}]},
    auth=lambda client: {"access_token": get_token(client, MAIN)},
    auth_keys=["access_token", "openid", "tagid", "next_openid", "grant_type", "appid", "secret"],
    system_errors=frozenset({-1}), cap_code=47001, envelope=("errcode", "errmsg"), always_coded=False,
    body_keys=["tag", "id", "name", "tagid", "openid", "openid_list", "next_openid", "user_list", "lang",
               "remark", "begin_openid", "grant_type", "appid", "secret", "force_refresh", "filter",
               "msgtype", "text", "touser", "msg_id", "clientmsgid", "speed"],
    ids=[F1], cap_path="tags/create",
)
