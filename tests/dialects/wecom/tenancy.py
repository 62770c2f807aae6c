"""The WeCom dialect in the tenant matrix (tests/tenancy_profile.py).

Two corps, each with two members, three customers (followed by the first member) and one tag
group. A tag or group id the corp does not have answers 40068 (as one nobody has), a member
40003, a customer 40096; get_corp_tag_list leaves unknown ids out (so it answers ok, with none
of another corp's groups). A token names its corp: the other corp's data stays unknown to it.
"""

from __future__ import annotations

import json
from typing import Any

from tests import et_id
from tests.tenancy_profile import Answer, Profile, Request, Seed, Session

EC = "externalcontact/"  # the customer-contact APIs
NO_SUCH_ID, NO_SUCH_MEMBER, NO_SUCH_CUSTOMER = 40068, 40003, 40096
CREDENTIAL_REFUSED = frozenset({40014})  # a token nobody issued (or another dialect's)


def _seed(key: str, corpid: str) -> Seed:
    members = [f"{key}-m0", f"{key}-m1"]
    people = [f"wm{key}Customer{i:04d}" for i in range(3)]
    names = [f"{key}-t0", f"{key}-t1"]
    entry = {"dialect": "wecom", "corpid": corpid, "secret": f"secret-{key}-0000", "members": members,
             "customers": [{"external_userid": c, "unionid": f"{key}-u{i}", "name": f"{key}-n{i}",
                            "follow_users": members[:1]} for i, c in enumerate(people)],
             "groups": [{"name": f"{key}-g", "tags": [{"name": n} for n in names]}]}
    return Seed(key, entry, people, [f"{members[0]}\t{c}" for c in people], names,
                tags=[et_id(corpid, "tag", i) for i in range(2)], groups=[et_id(corpid, "group", 0)],
                members=members, more_marks=[f"{key}-u", f"{key}-n"])


A, B = _seed("ca", "ww000000000000000ca1"), _seed("cb", "ww000000000000000cb2")


def _send(session: Session, req: Request, credential: str) -> Answer:
    method = "GET" if req.body is None else "POST"
    content = b"" if req.body is None else json.dumps(req.body, ensure_ascii=False).encode()
    resp = session.client.request(method, f"/cgi-bin/{req.path}", params={"access_token": credential,
                                                                          **req.query}, content=content)
    assert resp.status_code == 200, resp.text
    out: Answer = resp.json()
    return out


def _gettoken(client: Any, seed: Seed, secret: str | None = None) -> Answer:
    params = {"corpid": str(seed.entry["corpid"]), "corpsecret": str(secret or seed.entry["secret"])}
    out: Answer = client.get("/cgi-bin/gettoken", params=params).json()
    return out


def login(client: Any, seed: Seed) -> Session:
    got = _gettoken(client, seed)
    assert got["errcode"] == 0, got
    return Session(client, seed, str(got["access_token"]), _send, "/cgi-bin/gettoken")


def setup(s: Session) -> None:
    """The first member marks each of its customers with the corp's first tag."""
    for customer in s.seed.people:
        got = s(EC + "mark_tag", {"userid": s.seed.members[0], "external_userid": customer,
                                 "add_tag": [s.seed.tags[0]]})
        assert got["errcode"] == 0, got


def _no_groups(answer: Answer) -> bool:
    return answer.get("tag_group") == []


def _tag_calls(y: Seed) -> list[Request]:
    """Y's tag and group ids (where Y's tags have ids): listed as nothing, refused otherwise."""
    calls = []
    if y.tags:
        calls += [Request(EC + "get_corp_tag_list", {"tag_id": list(y.tags)}, empty=_no_groups),
                  Request(EC + "edit_corp_tag", {"id": y.tags[0], "name": "pwned"}, code=NO_SUCH_ID),
                  Request(EC + "del_corp_tag", {"tag_id": list(y.tags)}, code=NO_SUCH_ID)]
    if y.groups:
        calls += [Request(EC + "get_corp_tag_list", {"group_id": list(y.groups)}, empty=_no_groups),
                  Request(EC + "add_corp_tag", {"group_id": y.groups[0], "tag": [{"name": "pwned"}]},
                          code=NO_SUCH_ID),
                  Request(EC + "edit_corp_tag", {"id": y.groups[0], "name": "pwned"}, code=NO_SUCH_ID),
                  Request(EC + "del_corp_tag", {"group_id": list(y.groups)}, code=NO_SUCH_ID)]
    return calls


def _mark(member: str, customer: str, add: list[str], remove: list[str] | None = None) -> dict[str, Any]:
    return {"userid": member, "external_userid": customer, "add_tag": add, "remove_tag": remove or []}


def _contact_calls(x: Seed, y: Seed) -> list[Request]:
    """Y's members, customers and tags, named alone and beside X's own."""
    staff, someone = (y.members or y.people)[0], y.people[0]
    member, customer = x.members[0], x.people[0]  # X's own
    calls = [
        Request(EC + "mark_tag", _mark(staff, someone, list(y.tags[:1]) or [x.tags[0]]), code=NO_SUCH_MEMBER),
        Request(EC + "mark_tag", _mark(member, someone, [x.tags[0]]), code=NO_SUCH_CUSTOMER),
        Request(EC + "mark_tag", _mark(staff, customer, [x.tags[0]]), code=NO_SUCH_MEMBER),
        Request(EC + "get", query={"external_userid": someone}, code=NO_SUCH_CUSTOMER),
        Request(EC + "list", query={"userid": staff}, code=NO_SUCH_MEMBER),
        Request(EC + "batch/get_by_user", {"userid_list": [staff]}, code=NO_SUCH_MEMBER),
        Request(EC + "batch/get_by_user", {"userid_list": [member, staff]}, code=NO_SUCH_MEMBER),
    ]
    if y.tags:  # X's own member and customer, Y's tags
        calls += [Request(EC + "mark_tag", _mark(member, customer, list(y.tags)), code=NO_SUCH_ID),
                  Request(EC + "mark_tag", _mark(member, customer, [], list(y.tags)), code=NO_SUCH_ID)]
    return calls


def hostile(x: Seed, y: Seed) -> list[Request]:
    return _tag_calls(y) + _contact_calls(x, y)


def own_tags(s: Session) -> set[str]:
    return {t["name"] for g in s(EC + "get_corp_tag_list", {})["tag_group"] for t in g["tag"]}


def cross_check(a: Session, b: Session) -> None:
    """One corp's secret buys no token of the other's; a token opens its own corp's data only."""
    for own, other in ((a, b), (b, a)):
        assert _gettoken(a.client, own.seed, str(other.seed.entry["secret"]))["errcode"] == 40001
        customer, member = own.seed.people[0], own.seed.members[0]
        named = own(EC + "get", external_userid=customer)["external_contact"]["name"]
        assert named == own.seed.entry["customers"][0]["name"]
        assert other(EC + "get", external_userid=customer)["errcode"] == NO_SUCH_CUSTOMER
        assert own(EC + "list", userid=member)["external_userid"] == list(own.seed.people)
        assert other(EC + "list", userid=member)["errcode"] == NO_SUCH_MEMBER
        edit = Request(EC + "edit_corp_tag", {"id": own.seed.tags[1], "order": 1})
        assert own.ask(edit, credential=other.credential)["errcode"] == NO_SUCH_ID


def unknown_ids_are_left_out(a: Session, b: Session) -> None:
    """Listing its own tag beside the other corp's shows its own only; deleting both deletes neither."""
    mixed = [a.seed.tags[0], b.seed.tags[0]]
    got = a(EC + "get_corp_tag_list", {"tag_id": mixed})["tag_group"]
    assert [[t["id"] for t in g["tag"]] for g in got] == [[a.seed.tags[0]]], got
    assert a(EC + "del_corp_tag", {"tag_id": mixed})["errcode"] == NO_SUCH_ID
    assert a(EC + "del_corp_tag", {"group_id": [a.seed.groups[0], b.seed.groups[0]]})["errcode"] == NO_SUCH_ID
    assert own_tags(a) == set(a.seed.tag_names)


PROFILE = Profile(
    seeds=(A, B), login=login, setup=setup, hostile=hostile, own_tags=own_tags,
    probe=lambda seed: Request(EC + "get_corp_tag_list", {}), bad_credential=CREDENTIAL_REFUSED,
    cross_check=cross_check, checks=[unknown_ids_are_left_out],
)
