"""The WeCom dialect for the hostile-input suite (tests/hostile_profile.py)."""

from tests.dialects.wecom.conftest import MAIN, token
from tests.hostile_profile import Profile

PROFILE = Profile(
    entry=MAIN, auth=lambda client: {"access_token": token(client)},
    auth_keys=["access_token", "corpid", "corpsecret", "userid", "external_userid"],
    system_errors=frozenset({-1}), cap_code=47001, envelope=("errcode", "errmsg"),
    body_keys=["tag_id", "group_id", "group_name", "add_tag", "remove_tag", "userid", "external_userid",
               "userid_list", "cursor", "limit", "tag", "name", "order", "id"],
    ids=[MAIN["members"][0]], cap_path="externalcontact/add_corp_tag",
)
