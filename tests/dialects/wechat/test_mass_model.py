"""A hypothesis state machine: random tagging, untagging and blacklisting through the WeChat wire,
then mass sends; the audience each send recorded (read from `/_polytag/sends`) equals the tag
algebra of a plain Python model at send time: tag members (or every follower, or the listed
followers) minus the blacklist."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, rule, run_state_machine_as_test
from starlette.testclient import TestClient

from tests.dialects.wechat.conftest import call, get_token

FOLLOWERS = [f"oMassModelFollower{i:010d}" for i in range(6)]
STRANGER = "oNotAFollower000000000000000"
TAGS = [100, 101, 102]
SOME = st.lists(st.sampled_from(FOLLOWERS), min_size=1, max_size=4, unique=True)
LIST = st.lists(st.sampled_from([*FOLLOWERS, STRANGER]), min_size=2, max_size=6)
TXT = {"msgtype": "text", "text": {"content": "m"}}
_apps = itertools.count()
SENDS: list[int] = []  # audience sizes the run recorded (the run reached empty and non-empty ones)


class MassModel(RuleBasedStateMachine):
    client: TestClient
    seed: Callable[[dict[str, Any]], list[Any]]

    def __init__(self) -> None:
        super().__init__()
        self.app = {"appid": f"wxmass{next(_apps):012x}", "secret": "model-secret"}
        self.seed({"apps": [{"dialect": "wechat", **self.app, "followers": FOLLOWERS,
                             "tags": [{"name": n} for n in ("a", "b", "c")],
                             "limits": {"sends_per_period": None}}]})
        self.token = get_token(self.client, self.app)
        self.members: dict[int, set[str]] = {t: set() for t in TAGS}
        self.black: set[str] = set()

    def call(self, path: str, body: Any) -> dict[str, Any]:
        return call(self.client, path, self.token, body)

    def ack(self, path: str, body: Any) -> None:
        assert self.call(path, body) == {"errcode": 0, "errmsg": "ok"}

    def recorded(self, msg_id: int) -> list[str]:
        got = self.client.get("/_polytag/sends", params={"app": self.app["appid"]})
        assert got.status_code == 200, got.text
        (send,) = [s for s in got.json()["sends"] if s["id"] == str(msg_id)]
        return list(send["audience"])

    def check(self, answer: dict[str, Any], expected: set[str]) -> None:
        assert answer["errcode"] == 0, answer
        assert self.recorded(answer["msg_id"]) == [f for f in FOLLOWERS if f in expected]
        SENDS.append(len(expected))

    @rule(tag=st.sampled_from(TAGS), who=SOME)
    def tag(self, tag: int, who: list[str]) -> None:
        self.ack("tags/members/batchtagging", {"openid_list": who, "tagid": tag})
        self.members[tag] |= set(who)

    @rule(tag=st.sampled_from(TAGS), who=SOME)
    def untag(self, tag: int, who: list[str]) -> None:
        self.ack("tags/members/batchuntagging", {"openid_list": who, "tagid": tag})
        self.members[tag] -= set(who)

    @rule(who=SOME, flag=st.booleans())
    def blacklist(self, who: list[str], flag: bool) -> None:
        self.ack(f"tags/members/batch{'' if flag else 'un'}blacklist", {"openid_list": who})
        self.black = self.black | set(who) if flag else self.black - set(who)

    @rule(tag=st.sampled_from(TAGS), old_key=st.booleans())
    def sendall_tag(self, tag: int, old_key: bool) -> None:
        flt = {"group_id" if old_key else "tag_id": tag, "is_to_all": False}
        self.check(self.call("message/mass/sendall", {"filter": flt, **TXT}), self.members[tag] - self.black)

    @rule()
    def sendall_everyone(self) -> None:
        answer = self.call("message/mass/sendall", {"filter": {"is_to_all": True}, **TXT})
        self.check(answer, set(FOLLOWERS) - self.black)

    @rule(who=LIST)
    def send_list(self, who: list[str]) -> None:
        answer = self.call("message/mass/send", {"touser": who, **TXT})
        self.check(answer, (set(who) & set(FOLLOWERS)) - self.black)


def test_recorded_audience_is_the_tag_algebra(client: TestClient,
                                              seeded: Callable[[dict[str, Any]], list[Any]]) -> None:
    MassModel.client = client
    MassModel.seed = staticmethod(seeded)  # type: ignore[assignment]
    SENDS.clear()
    run_state_machine_as_test(MassModel, settings=settings(
        max_examples=20, stateful_step_count=30, deadline=None, database=None, derandomize=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))
    assert 0 in SENDS and any(n >= 3 for n in SENDS), SENDS
