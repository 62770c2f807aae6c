"""The JuziBot dialect in the tenant matrix (tests/tenancy_profile.py).

Ids it does not own answer 40068, exactly as ids nobody has (never -2, which would tell a tenant
the id exists in another app); a customer it does not have answers 40096.
"""

from __future__ import annotations

import json
from typing import Any

from tests import et_id
from tests.tenancy_profile import Answer, Profile, Request, Seed, Session

NO_SUCH_ID, NO_SUCH_CUSTOMER = 40068, 40096
CREDENTIAL_REFUSED = frozenset({40014})
MEMBER = "rocky"


def _seed(key: str) -> Seed:
    name, people = f"tenant-{key}", [f"{key}-user-{i}" for i in range(3)]
    names = [f"{key}-t0", f"{key}-t1"]
    entry = {"dialect": "juzibot", "name": name, "token": f"token-{key}-000000000000", "members": [MEMBER],
             "customers": [{"unionId": u, "friends": [MEMBER]} for u in people],
             "groups": [{"name": f"{key}-g", "tags": [{"name": n} for n in names]}]}
    return Seed(key, entry, people, [f"{MEMBER}\t{u}" for u in people], names,
                tags=[et_id(name, "tag", i) for i in range(2)], groups=[et_id(name, "group", 0)],
                members=[MEMBER])


A, B = _seed("ja"), _seed("jb")


def _send(session: Session, req: Request, credential: str) -> Answer:
    method = "GET" if req.body is None else "POST"
    content = b"" if req.body is None else json.dumps(req.body).encode()
    resp = session.client.request(method, f"/api/v1/{req.path}", params={"token": credential, **req.query},
                                  content=content)
    assert resp.status_code == 200, resp.text
    out: Answer = resp.json()
    return out


def login(client: Any, seed: Seed) -> Session:
    """The token is the seed's own (JuziBot hands it out in its console)."""
    return Session(client, seed, str(seed.entry["token"]), _send)


def setup(s: Session) -> None:
    """Every customer carries the app's first tag (marked by the member)."""
    marks = [{"userId": MEMBER, "unionId": u, "addTagId": [s.seed.tags[0]]} for u in s.seed.people]
    got = s("tag/mark", {"mark_list": marks})
    assert got["errcode"] == 0, got


def _mark(x: Seed, customer: str, add: list[str], remove: list[str] | None = None) -> dict[str, Any]:
    mark: dict[str, Any] = {"userId": x.members[0], "unionId": customer, "addTagId": add}
    return {"mark_list": [mark if remove is None else {**mark, "delTagId": remove}]}


def hostile(x: Seed, y: Seed) -> list[Request]:
    tags, groups = list(y.tags) or ["none"], list(y.groups) or ["none"]
    calls = [
        Request("tag/mark", _mark(x, y.people[0], list(y.tags) or [x.tags[0]]), code=NO_SUCH_CUSTOMER),
        Request("tag/mark", _mark(x, x.people[0], tags), code=NO_SUCH_ID),  # its own customer, Y's tags
        Request("tag/mark", _mark(x, x.people[0], [], tags), code=NO_SUCH_ID),
        Request("tag/edit", {"id": tags[0], "name": "pwned"}, code=NO_SUCH_ID),
        Request("tag/delete", {"id": tags}, code=NO_SUCH_ID),
        Request("tagGroup/edit", {"id": groups[0], "name": "pwned"}, code=NO_SUCH_ID),
        Request("tagGroup/delete", {"id": groups}, code=NO_SUCH_ID),
        Request("tag/create", {"groupId": groups[0], "tag": [{"name": "pwned"}]}, code=NO_SUCH_ID),
        Request("tag/detail", query={"tagId": tags[0]}, code=NO_SUCH_ID),
    ]
    return calls


def own_tags(s: Session) -> set[str]:
    return {t["name"] for g in s("tag/list")["data"] for t in g["tags"]}


def cross_check(a: Session, b: Session) -> None:
    """A token opens its own app only: the other's tag, readable with its own token, is refused."""
    for own, other in ((a, b), (b, a)):
        detail = Request("tag/detail", query={"tagId": own.seed.tags[0]})
        assert own.ask(detail)["errcode"] == 0
        assert own.ask(detail, credential=other.credential)["errcode"] == NO_SUCH_ID


def _asking(ext: str) -> list[Request]:
    """Calls naming `ext` as a tag id and as a group id."""
    return [Request("tag/detail", query={"tagId": ext}), Request("tag/edit", {"id": ext, "name": "x"}),
            Request("tagGroup/delete", {"id": [ext]}),
            Request("tag/create", {"groupId": ext, "tag": [{"name": "x"}]})]


def codes_name_the_reason(a: Session, b: Session) -> None:
    """Another app's id answers exactly as an id nobody has: the answer tells nothing."""
    nobody = "et" + "z" * 30
    for other in (b.seed.tags[0], b.seed.groups[0]):
        for theirs, nobodys in zip(_asking(other), _asking(nobody), strict=True):
            got, expected = a.ask(theirs), a.ask(nobodys)
            assert (got["errcode"], got["errmsg"]) == (expected["errcode"], expected["errmsg"]), \
                (got, expected)
            assert got["errcode"] == NO_SUCH_ID, got


PROFILE = Profile(
    seeds=(A, B), login=login, setup=setup, hostile=hostile, own_tags=own_tags,
    probe=lambda seed: Request("tag/list"), bad_credential=CREDENTIAL_REFUSED,
    cross_check=cross_check, checks=[codes_name_the_reason],
)
