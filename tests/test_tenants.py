"""Tenant isolation matrix: for every ordered pair of apps (X, Y), X's credentials never read or
change Y's data, whatever the two apps' dialects.

Two apps of every dialect the server discovers, each with its own subjects, tags and memberships
(names carry the app's key, so a leak shows). For each pair, X's credentials make every call of
X's dialect that names one of Y's subjects, tag ids or group ids; each must answer the code X's
dialect gives for it (an id the app does not have) and nothing of Y's. Then every app's whole
state, read through the native API, must equal what it was before. Credentials are
cross-checked too: within a dialect by each dialect's own rules, and across dialects (one
dialect's credential is refused by every other, even on a shared prefix). What differs per
dialect comes from the `PROFILE` in its own test folder (tests/tenancy_profile.py): a new
dialect joins the matrix without editing this file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from itertools import permutations
from typing import Any
from urllib.parse import quote

import pytest
from starlette.testclient import TestClient

from polytag import dialects
from tests.tenancy_profile import Check, Seed, Session, profiles

FOUND = dialects.discover()
PROFILES = profiles(sorted(FOUND))
SEEDS: dict[str, tuple[str, Seed]] = {s.key: (name, s) for name, p in PROFILES.items() for s in p.seeds}
APP_NAME = {key: FOUND[name].name_of(seed.entry) for key, (name, seed) in SEEDS.items()}
PAIRS = list(permutations(SEEDS, 2))
CHECKS = [(name, check) for name, p in PROFILES.items() for check in (p.cross_check, *p.checks)]


class World:
    """Every app seeded, logged in and set up, over one in-process client."""

    def __init__(self, client: TestClient, sessions: dict[str, Session]) -> None:
        self.client, self.sessions = client, sessions

    def state(self, key: str) -> dict[str, Any]:
        """The app's whole state through the native API: tags (counts, order, version), groups,
        every subject's tags."""
        name = APP_NAME[key]
        tags = self.client.get(f"/v1/apps/{name}/tags").json()
        held = {}
        for s in self.client.get(f"/v1/apps/{name}/subjects", params={"limit": 1000}).json()["items"]:
            got = self.client.get(f"/v1/apps/{name}/subjects/{quote(s, safe='')}").json()
            held[s] = sorted(t["name"] for t in got["tags"] or [])
        groups = self.client.get(f"/v1/apps/{name}/groups").json()
        return {"tags": sorted((t["id"], t["name"], t["count"], t.get("order"), t.get("version")) for t in tags),
                "held": held, "groups": sorted((g["id"], g["name"], g.get("order")) for g in groups)}

    def pair(self, name: str) -> tuple[Session, Session]:
        a, b = PROFILES[name].seeds
        return self.sessions[a.key], self.sessions[b.key]


@pytest.fixture
def world(client: TestClient, seeded: Callable[[dict[str, Any]], list[Any]]) -> World:
    seeded({"apps": [dict(seed.entry) for _, seed in SEEDS.values()]})
    sessions = {key: PROFILES[name].login(client, seed) for key, (name, seed) in SEEDS.items()}
    for key, (name, _) in SEEDS.items():
        PROFILES[name].setup(sessions[key])
    return World(client, sessions)


def test_the_matrix_holds_every_dialect() -> None:
    """Two apps per dialect found (four dialects today), keys and names unique, names marked."""
    assert len(SEEDS) == 2 * len(PROFILES) >= 8  # keys unique across dialects
    assert len(set(APP_NAME.values())) == len(SEEDS)
    for _, seed in SEEDS.values():  # every name of the app's carries a mark, so a leak shows
        assert seed.tag_names and all(n.startswith(seed.marks) for n in seed.tag_names), seed.key


def _leaks(answer: Any, y: Seed) -> list[str]:
    """Y's names, or Y's (long, unguessable) ids, in an answer to another app."""
    text = json.dumps(answer, ensure_ascii=False)
    ids = [i for i in (*y.tags, *y.groups) if len(i) >= 16]
    return [m for m in (*y.marks, *ids) if m in text]


def attack(world: World, x: str, y: str) -> list[Any]:
    """Every call X's credentials make naming Y's data; the ones answering wrong, or leaking."""
    (dialect, sx), (_, sy) = SEEDS[x], SEEDS[y]
    calls = PROFILES[dialect].hostile(sx, sy)
    assert calls, f"{x} has no call naming {y}'s data"
    bad: list[Any] = []
    for req in calls:
        answer = world.sessions[x].ask(req)
        if FOUND[dialect].code_of(answer) != req.code or not req.empty(answer):
            bad.append((x, y, req.path, req.body or req.query, f"expected {req.code}", answer))
        if _leaks(answer, sy):
            bad.append((x, y, req.path, "leak", _leaks(answer, sy), answer))
    return bad


def test_no_app_reads_or_changes_another(world: World) -> None:
    before = {k: world.state(k) for k in SEEDS}
    for key, (_, seed) in SEEDS.items():  # every app has subjects, all tagged, to protect
        assert sorted(before[key]["held"]) == sorted(seed.subjects), key
        assert all(before[key]["held"].values()), key
    bad = [problem for x, y in PAIRS for problem in attack(world, x, y)]
    assert bad == [], "\n".join(map(str, bad))
    after = {k: world.state(k) for k in SEEDS}
    assert after == before


def test_each_app_lists_its_own_tags_only(world: World) -> None:
    for key, (name, seed) in SEEDS.items():
        assert PROFILES[name].own_tags(world.sessions[key]) == set(seed.tag_names), key


@pytest.mark.parametrize(("name", "check"), CHECKS, ids=[f"{n}-{c.__name__}" for n, c in CHECKS])
def test_dialect_credentials_and_codes(world: World, name: str, check: Check) -> None:
    """Each dialect's own checks between its apps A and B (its credential cross-check first)."""
    check(*world.pair(name))


def _refused(world: World, x: str, y: str) -> list[Any]:
    """X's credential (of another dialect) on Y's probe: refused, holding nothing of Y's."""
    dialect, sy = SEEDS[y]
    probe = PROFILES[dialect].probe(sy)
    answer = world.sessions[y].ask(probe, credential=world.sessions[x].credential)
    if FOUND[dialect].code_of(answer) not in PROFILES[dialect].bad_credential or _leaks(answer, sy):
        return [(x, y, answer)]
    return []


def test_no_credential_opens_another_dialect(world: World) -> None:
    """Every app's credential on every app of another dialect (dialects may share a prefix)."""
    bad: list[Any] = []
    for y, (dialect, seed) in SEEDS.items():
        probe = PROFILES[dialect].probe(seed)
        assert FOUND[dialect].code_of(world.sessions[y].ask(probe)) == probe.code, y  # its own opens it
        bad += [p for x, (other, _) in SEEDS.items() if other != dialect for p in _refused(world, x, y)]
    assert bad == [], "\n".join(map(str, bad))


def test_secrets_never_in_the_journal(world: World) -> None:
    """Secrets and the credentials they bought appear in no journal entry: not in queries, bodies
    or answers. Every app's calls, and every vendor call that handed out a credential, are there."""
    journal = world.client.get("/_polytag/requests", params={"limit": 1000})
    entries = journal.json()["requests"]
    assert {e["app"] for e in entries} >= set(APP_NAME.values())
    logins = {s.login_path for s in world.sessions.values() if s.login_path}
    assert logins and logins <= {e["path"] for e in entries}
    secrets = [str(seed.entry[FOUND[name].seed_keys[1]]) for name, seed in SEEDS.values()]
    secrets += [s.credential for s in world.sessions.values()]
    assert [s for s in secrets if s in journal.text] == []
