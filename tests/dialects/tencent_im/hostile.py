"""The Tencent IM dialect for the hostile-input suite (tests/hostile_profile.py)."""

from tests.dialects.tencent_im.conftest import app_entry, gen_sig, query
from tests.hostile_profile import Profile

PROFILE = Profile(
    entry=app_entry(), auth=lambda client: query(sig=gen_sig()),
    auth_keys=["sdkappid", "identifier", "usersig", "random", "contenttype"],
    system_errors=frozenset({91000, 70500}), cap_code=60002, envelope=("ActionStatus", "ErrorCode", "ErrorInfo"),
    body_keys=["From_Account", "To_Account", "MsgRandom", "MsgBody", "MsgLifeTime", "Condition", "TagsAnd",
               "TagsOr", "TagsNot", "AttrsAnd", "AttrsOr", "UserTags", "UserAttrs", "Tags", "Attrs", "AttrNames",
               "UserID", "Nick", "FaceUrl", "Accounts", "AccountList", "CheckItem", "DeleteItem", "Replace"],
    ids=["administrator"], cap_path="all_member_push/im_get_tag", checks_at_cap=True,
)
