"""WeChat under contention from two processes: unique names, the 100-tag app cap, 20 tags per follower.

Three phases, each followed by its checks on the store (a fresh Service, no server cache) and on
both servers' answers:

* create: every client walks the whole pool of CAP + 40 names; partners k and k^1 (one per
  process) walk it in the same order at the same time, so every name is raced across processes.
  One tag per name, at most CAP tags, every acknowledged id present under its name, every 45157
  names a tag that exists, every 45056 came when the app was full.
* tag (add only): batchtagging random tags onto 1..4 of a few hot followers. At most 20 tags per
  follower (also sampled mid-run through tags/getidlist), every acknowledged pair present, every
  45059 justified by a follower that is full without that tag (counts only grow in this phase).
* churn: batchtagging and batchuntagging mixed on the same followers; the cap still holds and
  both processes agree with the store.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import httpx

from polytag.core.service import Service
from tests.concurrency_base import WX, Env, in_parallel

CAP, PER_FOLLOWER = 100, 20
POOL = CAP + 40
HOT = 8  # followers everybody tags
FOLLOWERS = [f"oConcurrencyFollower000000{i:02d}" for i in range(HOT + 4)]


def run(env: Env, clients: int, ops: int, svc_of: Any) -> None:
    acked, refused = create_phase(env, clients)
    with svc_of() as svc:
        tag_ids = check_create(env, svc, acked, refused)
    batches = tag_phase(env, clients, ops, tag_ids, churn=False)
    with svc_of() as svc:
        check_tagging(env, svc, batches)
    tag_phase(env, clients, ops, tag_ids[:30], churn=True)
    with svc_of() as svc:
        check_tagging(env, svc, [])


# phases -------------------------------------------------------------------------------
def create_phase(env: Env, clients: int) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    names = [f"n{i:03d}" for i in range(POOL)]
    acked: list[tuple[str, int]] = []
    refused: list[tuple[str, int]] = []
    pairs = max(1, clients // 2)

    def work(k: int, http: httpx.Client, rng: random.Random) -> None:
        start = (k // 2) * POOL // pairs
        for j in range(POOL):
            name = names[(start + j) % POOL]
            out = env.wx(http, "wechat tags/create", "tags/create", {"tag": {"name": name}})
            code = env.expect("wechat tags/create", out, {45157, 45056})
            if code == 0 and out is not None:
                acked.append((name, int(out["tag"]["id"])))
            elif code is not None:
                refused.append((name, code))

    in_parallel(env, clients, work)
    return acked, refused


def tag_phase(env: Env, clients: int, ops: int, tag_ids: list[int], churn: bool) -> list[tuple[int, list[str], int]]:
    """Add-only (churn=False) or mixed tagging and untagging; returns (tag, openids, code) of taggings."""
    done: list[tuple[int, list[str], int]] = []
    suffix = " (churn)" if churn else ""

    def work(k: int, http: httpx.Client, rng: random.Random) -> None:
        for j in range(ops):
            tag, openids = rng.choice(tag_ids), rng.sample(FOLLOWERS[:HOT], rng.randint(1, 4))
            body = {"openid_list": openids, "tagid": tag}
            if churn and rng.random() < 0.4:
                out = env.wx(http, "wechat batchuntagging" + suffix, "tags/members/batchuntagging", body)
                env.expect("wechat batchuntagging", out, set())
            else:
                kind = "wechat batchtagging" + suffix
                code = env.expect(kind, env.wx(http, kind, "tags/members/batchtagging", body), {45059})
                if code is not None:
                    done.append((tag, openids, code))
            if j % 5 == 4:
                observe(env, http, rng.choice(FOLLOWERS[:HOT]))

    in_parallel(env, clients, work)
    return done


def observe(env: Env, http: httpx.Client, openid: str) -> None:
    """Mid-run: what one process answers for a hot follower never exceeds the cap."""
    out = env.wx(http, "wechat tags/getidlist (observer)", "tags/getidlist", {"openid": openid})
    if env.expect("wechat tags/getidlist", out, set()) == 0 and out is not None:
        held = out["tagid_list"]
        if len(held) > PER_FOLLOWER:
            env.tally.violation("wechat.follower_cap", f"observed {openid} with {len(held)} tags: {held}")


# checks -------------------------------------------------------------------------------
def store_tags(svc: Service) -> tuple[Any, list[tuple[int, str]]]:
    """The app and its custom tags as (id, name) from the store (reserved tags left out)."""
    app = svc.apps.get(WX["appid"])
    reserved = set(app.config.get("reserved_tags", ()))
    return app, [(int(r[1]), str(r[2])) for r in svc.store.read().tags(app.id) if r[1] not in reserved]


def check_create(env: Env, svc: Service, acked: list[tuple[str, int]], refused: list[tuple[str, int]]) -> list[int]:
    v = env.tally.violation
    _, tags = store_tags(svc)
    by_name = Counter(name for _, name in tags)
    for name, n in by_name.items():
        if n > 1:
            v("wechat.unique_name", f"{n} tags named {name!r} in the store")
    if len(tags) > CAP:
        v("wechat.app_cap", f"{len(tags)} custom tags in the store (cap {CAP})")
    ids = {name: tag_id for tag_id, name in tags}
    for name, tag_id in acked:
        if ids.get(name) != tag_id:
            v("wechat.acked_missing", f"create of {name!r} acknowledged as {tag_id}, store has {ids.get(name)}")
    for name, n in Counter(name for name, _ in acked).items():
        if n > 1:
            v("wechat.unique_name", f"create of {name!r} acknowledged {n} times")
    for name, code in refused:
        if code == 45157 and name not in ids:
            v("wechat.unjustified_refusal", f"45157 for {name!r}, which no tag has")
        if code == 45056 and len(tags) < CAP:
            v("wechat.unjustified_refusal", f"45056 for {name!r} with {len(tags)} tags at the end")
    for server in env.servers:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            out = http.get("/cgi-bin/tags/get", params={"access_token": env.token}).json()
        seen = sorted((int(t["id"]), t["name"]) for t in out["tags"] if int(t["id"]) >= 100)
        if seen != sorted(tags):
            v("wechat.process_disagrees", f"{server.url} tags/get differs from the store")
    return [tag_id for tag_id, _ in tags]


def check_tagging(env: Env, svc: Service, batches: list[tuple[int, list[str], int]]) -> None:
    """Per-follower cap in the store and on both servers; acked pairs present; 45059 justified."""
    v = env.tally.violation
    app, _ = store_tags(svc)
    held = {f: {int(t.ext_id) for t in svc.subject_tags(app, f)} for f in FOLLOWERS}
    for f, tags in held.items():
        if len(tags) > PER_FOLLOWER:
            v("wechat.follower_cap", f"{f} carries {len(tags)} tags in the store")
    for server in env.servers:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for f in FOLLOWERS:
                got = http.post("/cgi-bin/tags/getidlist", params={"access_token": env.token},
                                json={"openid": f}).json()["tagid_list"]
                if set(got) != held[f]:
                    v("wechat.process_disagrees", f"{server.url} getidlist {f}: {sorted(got)} != {sorted(held[f])}")
    for tag, openids, code in batches:
        if code == 0:
            for f in openids:
                if tag not in held[f]:
                    v("wechat.acked_missing", f"batchtagging {tag} on {f} acknowledged, tag absent")
        elif code == 45059 and not any(len(held[f]) + (tag not in held[f]) > PER_FOLLOWER for f in openids):
            v("wechat.unjustified_refusal", f"45059 for tag {tag} on {openids}: nobody is full")
