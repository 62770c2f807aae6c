"""JuziBot under contention from two processes: groups vanish with their last tag, names stay unique.

Clients create tags by group name and by group id, delete tags and whole groups, all within three
group names and eight tag names each (24 > the app's cap of 20), and list through `tag/list` as
they go; partners k and k^1 (one per process) draw the same operations at the same moment. Then,
in the store: no empty group, no tag without its group, one group per name, one tag per name in a
group, at most 20 tags; every tag whose create was acknowledged exists unless a delete that was
acknowledged (or went unanswered) covers it, and never exists when an acknowledged one does (ids
are never reused); every 40068 names an id that is gone. Mid-run listings are checked the same way.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from polytag.core.service import Service
from tests.concurrency_base import JUZI, Env, in_parallel

CAP = 20
GROUPS = ["g0", "g1", "g2"]
NAMES = list("abcdefgh")


@dataclass
class Seen:
    """Ids handed out so far (tag -> its group), and what every write was answered."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    tags: dict[str, str] = field(default_factory=dict)
    groups: set[str] = field(default_factory=set)
    created: list[str] = field(default_factory=list)  # tag ids of acknowledged creates
    deletes: list[tuple[list[str], int | None]] = field(default_factory=list)  # tag ids, code
    group_deletes: list[tuple[str, int | None]] = field(default_factory=list)
    by_id_creates: list[tuple[str, int | None]] = field(default_factory=list)

    def pick_tags(self, rng: random.Random, n: int) -> list[str]:
        with self.lock:
            ids = sorted(self.tags)
        return rng.sample(ids, min(n, len(ids)))

    def pick_group(self, rng: random.Random) -> str | None:
        with self.lock:
            ids = sorted(self.groups)
        return rng.choice(ids) if ids else None

    def learn(self, data: list[dict[str, Any]]) -> None:
        with self.lock:
            for g in data:
                self.groups.add(g["id"])
                for t in g["tags"]:
                    self.tags[t["id"]] = g["id"]
                    self.created.append(t["id"])


def run(env: Env, clients: int, ops: int, svc_of: Any) -> None:
    seen = Seen()
    in_parallel(env, clients, lambda k, http, rng: work(env, seen, k, http, ops))
    with svc_of() as svc:
        check(env, svc, seen)


def work(env: Env, seen: Seen, k: int, http: httpx.Client, ops: int) -> None:
    same = random.Random(env.seed * 104729 + k // 2)  # partners draw the same operations
    for _ in range(ops):
        roll = same.random()
        names = same.sample(NAMES, same.randint(1, 3))
        gid = seen.pick_group(same) if 0.45 <= roll < 0.6 or 0.8 <= roll < 0.85 else None
        if roll < 0.6:
            body: dict[str, Any] = {"tag": [{"name": n} for n in names]}
            if gid:
                body["groupId"] = gid
            else:
                body["groupName"] = same.choice(GROUPS)
            kind = "juzibot tag/create " + ("by groupId" if gid else "by groupName")
            out = env.juzi(http, kind, "tag/create", body)
            code = env.expect(kind, out, {45056, 40068} if gid else {45056})
            if code == 0 and out is not None:
                seen.learn(out["data"])
            if gid:
                seen.by_id_creates.append((gid, code))
        elif roll < 0.8:
            ids = seen.pick_tags(same, same.randint(1, 2))
            if ids:
                out = env.juzi(http, "juzibot tag/delete", "tag/delete", {"id": ids})
                seen.deletes.append((ids, env.expect("juzibot tag/delete", out, {40068})))
        elif roll < 0.85:
            if gid:
                out = env.juzi(http, "juzibot tagGroup/delete", "tagGroup/delete", {"id": [gid]})
                seen.group_deletes.append((gid, env.expect("juzibot tagGroup/delete", out, {40068})))
        else:
            observe(env, http)


def observe(env: Env, http: httpx.Client) -> None:
    """Mid-run: a listing from one process shows no empty group, unique names, at most CAP tags."""
    try:
        out = http.get("/api/v1/tag/list", params={"token": JUZI["token"]}).json()
    except (httpx.HTTPError, ValueError) as exc:
        env.tally.answer("juzibot tag/list (observer)", None)
        env.tally.violation("no_answer", f"tag/list: {exc!r}")
        return
    env.tally.answer("juzibot tag/list (observer)", int(out["errcode"]))
    if env.expect("juzibot tag/list", out, set()) == 0:
        groups = [(g["name"], [t["name"] for t in g["tags"]]) for g in out["data"]]
        judge(env, groups, "observed in tag/list: ")


def judge(env: Env, groups: list[tuple[str, list[str]]], where: str) -> None:
    """The rules a state must keep: no empty group, unique group names and tag names, the cap."""
    v = env.tally.violation
    for name, tags in groups:
        if not tags:
            v("juzibot.empty_group", f"{where}group {name!r} has no tag")
        for tag, n in Counter(tags).items():
            if n > 1:
                v("juzibot.unique_tag_name", f"{where}{n} tags {tag!r} in group {name!r}")
    for name, n in Counter(name for name, _ in groups).items():
        if n > 1:
            v("juzibot.unique_group_name", f"{where}{n} groups named {name!r}")
    total = sum(len(tags) for _, tags in groups)
    if total > CAP:
        v("juzibot.app_cap", f"{where}{total} tags (cap {CAP})")


def check(env: Env, svc: Service, seen: Seen) -> None:
    v = env.tally.violation
    app = svc.apps.get(JUZI["name"])
    rows = svc.store.read()
    groups = {int(r[0]): (str(r[1]), str(r[2])) for r in rows.groups(app.id)}
    tags = {str(r[1]): (str(r[2]), r[3]) for r in rows.tags(app.id)}
    for ext, (name, group_ord) in tags.items():
        if group_ord not in groups:
            v("juzibot.tag_without_group", f"tag {ext} ({name!r}) in group {group_ord}, which does not exist")
    judge(env, [(gname, [n for n, g in tags.values() if g == o]) for o, (_, gname) in groups.items()],
          "in the store: ")
    present_groups = {ext for ext, _ in groups.values()}
    gone, maybe_gone = covered(seen, ok_only=True), covered(seen, ok_only=False)
    for ext in set(seen.created):
        if ext in gone and ext in tags:
            v("juzibot.deleted_came_back", f"tag {ext} acknowledged deleted, still exists")
        if ext not in maybe_gone and ext not in tags:
            v("juzibot.acked_missing", f"tag {ext} acknowledged created, never deleted, absent")
    for ids, code in seen.deletes:
        if code == 40068 and all(i in tags for i in ids):
            v("juzibot.unjustified_refusal", f"tag/delete {ids} answered 40068, all exist")
    for gid, code in seen.group_deletes + seen.by_id_creates:
        if code == 40068 and gid in present_groups:
            v("juzibot.unjustified_refusal", f"40068 for group {gid}, which exists")
    listing_matches(env, [(gname, sorted(n for n, g in tags.values() if g == o)) for o, (_, gname) in groups.items()])


def covered(seen: Seen, ok_only: bool) -> set[str]:
    """Tag ids some delete took away: acknowledged ones (ok_only), or also the unanswered ones."""
    codes = {0} if ok_only else {0, None}
    out = {i for ids, code in seen.deletes if code in codes for i in ids}
    dead_groups = {g for g, code in seen.group_deletes if code in codes}
    return out | {t for t, g in seen.tags.items() if g in dead_groups}


def listing_matches(env: Env, store: list[tuple[str, list[str]]]) -> None:
    for server in env.servers:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            out = http.get("/api/v1/tag/list", params={"token": JUZI["token"]}).json()
        got = sorted((g["name"], sorted(t["name"] for t in g["tags"])) for g in out["data"])
        if got != sorted(store):
            env.tally.violation("juzibot.process_disagrees", f"{server.url} tag/list {got} != store {sorted(store)}")
