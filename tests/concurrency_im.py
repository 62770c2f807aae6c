"""Tencent IM under contention from two processes: one tag per name, 100 tags per user, the app cap.

Two apps (`docs/compat/tencent_im.md`: both caps answer 90032; a tag exists while somebody holds it):

* add (app IM_CAP, cap 150): im_add_tag of 3..10 names of a pool of 200 onto 1..3 of four hot
  accounts; partners k and k^1 (one per process) send the same names at the same moment. Then: tag
  names unique, at most 150 tags and 100 per account, no tag nobody holds, every acknowledged pair
  present, every 90032 justified (with adds only, "held + new" only grows: some account or the app
  is still over its cap with that request).
* churn (app IM_CHURN, cap 12): adds, removals and remove-all on four accounts from a pool of 16
  names; the caps hold (also sampled mid-run), no tag row nobody holds, both processes agree.
"""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import httpx

from polytag.core.service import Service
from tests.concurrency_base import IM_CAP, IM_CHURN, Env, in_parallel

PER_USER = 100
APP_CAP = {IM_CAP["sdkappid"]: 150, IM_CHURN["sdkappid"]: 12}
ACCOUNTS = [f"conc_u{i:02d}" for i in range(8)]
HOT = ACCOUNTS[:4]
Request = tuple[list[str], list[str], int]  # (accounts, tag names, ErrorCode)


def run(env: Env, clients: int, ops: int, svc_of: Any) -> None:
    sent = add_phase(env, clients, ops)
    with svc_of() as svc:
        check(env, svc, IM_CAP, sent)
    churn_phase(env, clients, ops)
    with svc_of() as svc:
        check(env, svc, IM_CHURN, [])


def add_phase(env: Env, clients: int, ops: int) -> list[Request]:
    pool = [f"t{i:03d}" for i in range(200)]
    sent: list[Request] = []

    def work(k: int, http: httpx.Client, rng: random.Random) -> None:
        same = random.Random(env.seed * 7919 + k // 2)  # partners draw the same names
        for _ in range(ops):
            names = same.sample(pool, same.randint(3, 10))  # 10: the per-request maximum
            accounts = rng.sample(HOT, rng.randint(1, 3))
            body = {"UserTags": [{"To_Account": a, "Tags": names} for a in accounts]}
            out = env.im(http, IM_CAP, "im im_add_tag", "im_add_tag", body)
            code = env.expect("im im_add_tag", out, {90032}, "ErrorCode")
            if code is not None:
                sent.append((accounts, names, code))

    in_parallel(env, clients, work)
    return sent


def churn_phase(env: Env, clients: int, ops: int) -> None:
    pool = [f"c{i:02d}" for i in range(16)]
    kind = "im {} (churn)"

    def work(k: int, http: httpx.Client, rng: random.Random) -> None:
        for j in range(ops):
            roll, accounts = rng.random(), rng.sample(HOT, rng.randint(1, 2))
            if roll < 0.1:
                out = env.im(http, IM_CHURN, kind.format("im_remove_all_tags"), "im_remove_all_tags",
                             {"To_Account": accounts})
                env.expect("im im_remove_all_tags", out, set(), "ErrorCode")
                continue
            action = "im_add_tag" if roll < 0.65 else "im_remove_tag"
            names = rng.sample(pool, rng.randint(1, 3))
            body = {"UserTags": [{"To_Account": a, "Tags": names} for a in accounts]}
            out = env.im(http, IM_CHURN, kind.format(action), action, body)
            env.expect(f"im {action}", out, {90032} if action == "im_add_tag" else set(), "ErrorCode")
            if j % 5 == 4:
                observe(env, http)

    in_parallel(env, clients, work)


def observe(env: Env, http: httpx.Client) -> None:
    """Mid-run: one process's im_get_tag of every hot account stays within both caps."""
    out = env.im(http, IM_CHURN, "im im_get_tag (observer)", "im_get_tag", {"To_Account": HOT})
    if env.expect("im im_get_tag", out, set(), "ErrorCode") != 0 or out is None:
        return
    held = {u["To_Account"]: u["Tags"] for u in out["UserTags"]}
    union = set().union(*held.values())
    if len(union) > APP_CAP[IM_CHURN["sdkappid"]]:
        env.tally.violation("im.app_cap", f"observed {len(union)} distinct tags: {sorted(union)}")
    for a, tags in held.items():
        if len(tags) > PER_USER or len(tags) != len(set(tags)):
            env.tally.violation("im.user_cap", f"observed {a} with tags {tags}")


def check(env: Env, svc: Service, im_app: dict[str, Any], sent: list[Request]) -> None:
    v = env.tally.violation
    name, cap = f"im[{im_app['sdkappid']}]", APP_CAP[im_app["sdkappid"]]
    app = svc.apps.get(str(im_app["sdkappid"]))
    rows = [str(r[2]) for r in svc.store.read().tags(app.id)]
    for tag, n in Counter(rows).items():
        if n > 1:
            v("im.unique_name", f"{name}: {n} tag rows named {tag!r}")
    if len(rows) > cap:
        v("im.app_cap", f"{name}: {len(rows)} tags in the store (cap {cap})")
    held = {a: [t.name for t in svc.subject_tags(app, a)] for a in ACCOUNTS}
    union = set().union(*map(set, held.values()))
    for a, tags in held.items():
        if len(tags) > PER_USER:
            v("im.user_cap", f"{name}: {a} holds {len(tags)} tags")
    for tag in set(rows) - union:
        v("im.orphan_tag", f"{name}: tag {tag!r} exists but nobody holds it")
    for server in env.servers:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            out = env.im(http, im_app, "im im_get_tag (check)", "im_get_tag", {"To_Account": ACCOUNTS})
        got = {u["To_Account"]: u["Tags"] for u in (out or {}).get("UserTags", [])}
        if got != held:
            v("im.process_disagrees", f"{name}: {server.url} im_get_tag differs from the store")
    sets = {a: set(t) for a, t in held.items()}
    for accounts, names, code in sent:
        new = set(names)
        if code == 0:
            for a in accounts:
                if not new <= sets[a]:
                    v("im.acked_missing", f"{name}: im_add_tag {sorted(new - sets[a])} on {a} acknowledged, absent")
        elif code == 90032:
            full_user = any(len(sets[a]) + len(new - sets[a]) > PER_USER for a in accounts)
            if not full_user and len(union) + len(new - union) <= cap:
                v("im.unjustified_refusal", f"{name}: 90032 for {sorted(new)} on {accounts}: nothing is full")
