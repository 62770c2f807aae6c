"""The JuziBot dialect for the hostile-input suite (tests/hostile_profile.py)."""

from tests.dialects.juzibot.conftest import MAIN, TOKEN
from tests.hostile_profile import Profile

PROFILE = Profile(
    entry=MAIN, auth=lambda client: {"token": TOKEN}, auth_keys=["token", "id", "groupId", "tagId"],
    system_errors=frozenset({50000}), cap_code=47001, envelope=("errcode", "errmsg"),
    body_keys=["groupId", "groupName", "tagId", "addTagId", "delTagId", "tags", "order", "unionId", "userId",
               "type", "list", "mark_list", "externalUserId"],
    ids=[MAIN["members"][0]], cap_path="tag/create",
)
