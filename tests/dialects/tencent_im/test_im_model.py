"""Model test: im_add_tag / im_remove_tag / im_remove_all_tags against plain Python sets.

Small limits (3 tags a user, 4 tags an app, 2 tags a user per request) make every rule fire;
a request the model says must fail has to leave the state exactly as it was.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.dialects.tencent_im.conftest import Caller, app_entry

P = "all_member_push"
REAL = ["xiaojun012", "xiaojun013", "xiaojun014"]
ACCOUNTS = [*REAL, "ghost"]
TAGS = ["a", "b", "c", "d", "e"]
PER_USER, PER_APP, PER_REQUEST = 3, 4, 2

items = st.lists(st.tuples(st.sampled_from(ACCOUNTS), st.lists(st.sampled_from(TAGS), max_size=3)),
                 min_size=1, max_size=3)
ops = st.lists(st.one_of(
    st.tuples(st.just("add"), items), st.tuples(st.just("remove"), items),
    st.tuples(st.just("remove_all"), st.lists(st.sampled_from(ACCOUNTS), min_size=1, max_size=3)),
), max_size=12)


def expect(model: dict[str, set[str]], op: str, arg: Any) -> tuple[int, dict[str, set[str]]]:
    """(ErrorCode, next state) in the core's documented order of checks."""
    if op == "add" and any(len(t) > PER_REQUEST for _, t in arg):
        return 90032, model
    accounts = arg if op == "remove_all" else [a for a, _ in arg]
    if "ghost" in accounts:
        return 70107, model
    new = {a: set(t) for a, t in model.items()}
    if op == "remove_all":
        for a in arg:
            new[a] = set()
    for a, t in arg if op != "remove_all" else []:
        new[a] = new[a] | set(t) if op == "add" else new[a] - set(t)
    if any(len(t) > PER_USER for t in new.values()) or len(set().union(*new.values())) > PER_APP:
        return 90032, model
    return 0, new


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(script=ops)
def test_tags_match_a_model_of_sets(seeded: Any, call: Caller, script: list[tuple[str, Any]]) -> None:
    seeded({"apps": [app_entry(rate_limits={"*": 0}, limits={"tags_per_subject": PER_USER, "tags_per_app": PER_APP,
                                       "batch": {"tags_per_request": PER_REQUEST}})]})
    call(f"{P}/im_remove_all_tags", {"To_Account": REAL})  # every example starts from no tags
    model: dict[str, set[str]] = {a: set() for a in REAL}
    for op, arg in script:
        if op == "remove_all":
            r = call(f"{P}/im_remove_all_tags", {"To_Account": arg})
        else:
            r = call(f"{P}/im_{op}_tag", {"UserTags": [{"To_Account": a, "Tags": t} for a, t in arg]})
        want, model = expect(model, op, arg)
        assert r["ErrorCode"] == want, (op, arg, r)
        got = call(f"{P}/im_get_tag", {"To_Account": REAL})["UserTags"]
        assert {u["To_Account"]: set(u["Tags"]) for u in got} == model
        assert all(len(u["Tags"]) == len(set(u["Tags"])) for u in got)
        assert_one_order([u["Tags"] for u in got])


def assert_one_order(lists: list[list[str]]) -> None:
    """Every answer lists tags in one app-wide order (no two tags appear both ways round)."""
    before = {(x, y) for tags in lists for i, x in enumerate(tags) for y in tags[i + 1:]}
    assert not any((y, x) in before for x, y in before)
