"""The Tencent IM dialect in the tenant matrix (tests/tenancy_profile.py).

Tags are names, not ids. An account this app never imported answers 70107, whoever holds it;
reads of such accounts answer OK and empty; account_delete answers per account (70107: not
ours, not deleted). A UserSig names its SDKAppID: at another one it fails verification (70009).
"""

from __future__ import annotations

import json
from typing import Any

import TLSSigAPIv2

from tests.tenancy_profile import Answer, Profile, Request, Seed, Session

ADMIN = "administrator"
NOT_IMPORTED = 70107
CREDENTIAL_REFUSED = frozenset({70003})  # another dialect's credential is no UserSig at all


def _seed(key: str, sdkappid: int, secret: str) -> Seed:
    people = [f"{key}-user-{i}" for i in range(3)]
    entry = {"dialect": "tencent_im", "sdkappid": sdkappid, "key": secret, "admin": ADMIN, "accounts": people}
    return Seed(key, entry, people, people, [f"{key}-t0"])


A, B = _seed("ia", 1400000101, "a1" * 32), _seed("ib", 1400000202, "b2" * 32)


def _send(session: Session, req: Request, credential: str) -> Answer:
    query = {"sdkappid": str(session.seed.entry["sdkappid"]), "identifier": ADMIN, "usersig": credential,
             "random": "12345", "contenttype": "json", **req.query}
    body = {} if req.body is None else req.body
    resp = session.client.post(f"/v4/{req.path}", params=query, content=json.dumps(body).encode())
    assert resp.status_code == 200, resp.text
    out: Answer = resp.json()
    return out


def login(client: Any, seed: Seed) -> Session:
    """The admin's UserSig, made by Tencent's own library from the app's key."""
    sig = TLSSigAPIv2.TLSSigAPIv2(seed.entry["sdkappid"], seed.entry["key"]).gen_sig(ADMIN)
    return Session(client, seed, str(sig), _send)


def setup(s: Session) -> None:
    """Every account carries the app's tag and an attribute named after the app."""
    key, people = s.seed.key, s.seed.people
    calls = [("all_member_push/im_add_tag", {"UserTags": [{"To_Account": p, "Tags": [s.seed.tag_names[0]]}
                                                          for p in people]}),
             ("all_member_push/im_set_attr_name", {"AttrNames": {"0": "a"}}),
             ("all_member_push/im_set_attr", {"UserAttrs": [{"To_Account": p, "Attrs": {"a": f"{key}-t-attr"}}
                                                            for p in people]})]
    for path, body in calls:
        got = s(path, body)
        assert got["ErrorCode"] == 0, (path, got)


def _read_empty(someone: str, items_key: str, values_key: str) -> Any:
    """The read answers the one account it was asked about, with nothing on it."""

    def empty(answer: Answer) -> bool:
        items = answer.get(items_key) or [{}]
        return [i.get("To_Account") for i in items] == [someone] and not items[0].get(values_key)

    return empty


def _not_deleted(someone: str) -> Any:
    def empty(answer: Answer) -> bool:
        return [(r.get("UserID"), r.get("ResultCode")) for r in answer.get("ResultItem", [])] == \
            [(someone, NOT_IMPORTED)]

    return empty


def hostile(x: Seed, y: Seed) -> list[Request]:
    someone, tag = y.people[0], y.tag_names[0]
    user_tags = {"UserTags": [{"To_Account": someone, "Tags": [tag]}]}
    return [
        Request("all_member_push/im_add_tag", user_tags, code=NOT_IMPORTED),
        Request("all_member_push/im_remove_tag", user_tags, code=NOT_IMPORTED),
        Request("all_member_push/im_remove_all_tags", {"To_Account": [someone]}, code=NOT_IMPORTED),
        Request("all_member_push/im_set_attr", {"UserAttrs": [{"To_Account": someone, "Attrs": {"a": "b"}}]},
                code=NOT_IMPORTED),
        Request("all_member_push/im_get_tag", {"To_Account": [someone]},
                empty=_read_empty(someone, "UserTags", "Tags")),
        Request("all_member_push/im_get_attr", {"To_Account": [someone]},
                empty=_read_empty(someone, "UserAttrs", "Attrs")),
        Request("im_open_login_svc/account_delete", {"DeleteItem": [{"UserID": someone}]},
                empty=_not_deleted(someone)),
    ]


def own_tags(s: Session) -> set[str]:
    got = s("all_member_push/im_get_tag", {"To_Account": list(s.seed.people)})
    return {t for item in got["UserTags"] for t in item["Tags"]}


def cross_check(a: Session, b: Session) -> None:
    """A UserSig signed with one app's key for its SDKAppID is refused at the other's."""
    for own, other in ((a, b), (b, a)):
        read = Request("all_member_push/im_get_tag", {"To_Account": list(own.seed.people)})
        assert own.ask(read)["ErrorCode"] == 0
        answer = own.ask(read, credential=other.credential)
        assert answer["ErrorCode"] == 70009, answer
        assert "UserTags" not in answer


PROFILE = Profile(
    seeds=(A, B), login=login, setup=setup, hostile=hostile, own_tags=own_tags,
    probe=lambda seed: Request("all_member_push/im_get_tag", {"To_Account": list(seed.people)}),
    bad_credential=CREDENTIAL_REFUSED, cross_check=cross_check,
)
