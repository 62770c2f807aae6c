"""Crash-safety driver (issue 9, item 1): load `polytag serve`, SIGKILL it, restart, check every write.

One trial: a fresh database is seeded with a WeChat app and a Tencent IM app, the server starts,
K client threads send distinct batches (WeChat `tags/members/batchtagging`, IM
`all_member_push/im_add_tag`), the server is killed with SIGKILL after a random delay and
restarted on the same database, and every batch is checked:

* acknowledged (errcode 0 / ErrorCode 0) -> all its pairs present, else "lost";
* not acknowledged (in flight at the kill) -> all present or all absent, else "half-applied";
* rejected with an error code -> all absent; and no pair the clients never sent -> else "phantom".

Batches are disjoint in (subject, tag) pairs, so a partial batch is visible:
WeChat batch i tags follower chunk i // 20 (50 followers) with tag i % 20 of a pool of 20 tags
(a follower carries at most 20 tags); IM batch i adds 2 tags of a pool of 100 to account chunk
i // 50 (100 accounts; an account holds at most 100 tags).

Used by `bench/crash.py` (any size) and `tests/test_crash.py` (small). No pytest imports here.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from polytag.core.ids import generated_ext_ids
from polytag.testing import usersig

ROOT = Path(__file__).resolve().parent.parent

APPID, SECRET = "wxcrash0000000001", "crashsecret"
SDKAPPID, KEY, ADMIN = 1400000777, "c" * 64, "administrator"

WX_BATCH, WX_TAGS = 50, 20  # followers per batchtagging, tags in the pool (= tags a follower may carry)
IM_BATCH, IM_TAGS, IM_TAGS_PER_CALL = 100, 100, 2  # accounts per im_add_tag, pool, tags per call
IM_CALLS_PER_CHUNK = IM_TAGS // IM_TAGS_PER_CALL


@dataclass
class TrialResult:
    sent: int = 0
    acked: int = 0
    acked_wechat: int = 0
    acked_im: int = 0
    rejected: int = 0
    lost: int = 0          # acknowledged batches with a pair missing after the restart
    lost_pairs: int = 0
    half: int = 0          # batches with some pairs present and some absent
    phantom: int = 0       # pairs present that no accepted-or-in-flight batch could have written
    unacked_present: int = 0  # in flight at the kill and found fully applied (allowed)
    kill_after: float = 0.0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (f"sent {self.sent}, acknowledged {self.acked} (wechat {self.acked_wechat}, im "
                f"{self.acked_im}), in-flight applied {self.unacked_present}, rejected {self.rejected}, "
                f"lost {self.lost}, half-applied {self.half}, phantom {self.phantom}, "
                f"killed after {self.kill_after:.2f}s")


class Server:
    """`polytag serve --port 0` in a subprocess, output to a log file (no pipe to fill up)."""

    def __init__(self, db: str, workdir: Path, seed_doc: dict[str, Any] | None = None) -> None:
        args = [sys.executable, "-m", "polytag", "serve", "--port", "0", "--db", db]
        if seed_doc is not None:
            seed_path = workdir / "seed.yaml"
            seed_path.write_text(yaml.safe_dump(seed_doc))
            args += ["--seed", str(seed_path)]
        self.log = workdir / f"server-{uuid.uuid4().hex[:8]}.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        self.url = self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.log.read_text(errors="replace")
            for line in text.splitlines():
                if line.startswith("polytag ready on "):
                    return line.split(" on ", 1)[1].strip()
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.kill()
        raise RuntimeError(f"server did not start:\n{self.log.read_text(errors='replace')}")

    def kill(self) -> None:
        """SIGKILL, and reap it."""
        self.proc.kill()
        self.proc.wait()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()


def seed_doc(followers: int, accounts: int) -> dict[str, Any]:
    return {"apps": [
        {"dialect": "wechat", "appid": APPID, "secret": SECRET, "followers": {"generate": followers}},
        {"dialect": "tencent_im", "sdkappid": SDKAPPID, "key": KEY, "admin": ADMIN,
         "accounts": {"generate": accounts}, "rate_limits": {"*": 0}},
    ]}


class Plan:
    """The batches of one trial: deterministic by index, handed out by a shared counter."""

    def __init__(self, followers: int, accounts: int, tag_ids: list[int]) -> None:
        self.followers = generated_ext_ids(f"wechat:{APPID}", followers)
        self.accounts = generated_ext_ids(f"tencent_im:{SDKAPPID}", accounts, "u", 24)
        self.tag_ids = tag_ids
        self.im_tags = [f"crash{j:03d}" for j in range(IM_TAGS)]
        self.wx_max = followers // WX_BATCH * WX_TAGS
        self.im_max = accounts // IM_BATCH * IM_CALLS_PER_CHUNK
        self._next = {"wechat": 0, "im": 0}
        self._lock = threading.Lock()
        # (kind, index) -> state: "sent" | "acked" | "rejected"
        self.state: dict[tuple[str, int], str] = {}
        self.rejections: list[str] = []

    def take(self, kind: str) -> int | None:
        with self._lock:
            i = self._next[kind]
            if i >= (self.wx_max if kind == "wechat" else self.im_max):
                return None
            self._next[kind] = i + 1
            self.state[(kind, i)] = "sent"
            return i

    def mark(self, kind: str, i: int, state: str) -> None:
        with self._lock:
            self.state[(kind, i)] = state

    def acked_both(self) -> bool:
        with self._lock:
            kinds = {kind for (kind, _), state in self.state.items() if state == "acked"}
        return kinds == {"wechat", "im"}

    def wx_batch(self, i: int) -> tuple[int, list[str]]:
        chunk = i // WX_TAGS
        return self.tag_ids[i % WX_TAGS], self.followers[chunk * WX_BATCH:(chunk + 1) * WX_BATCH]

    def im_batch(self, i: int) -> tuple[list[str], list[str]]:
        chunk, j = divmod(i, IM_CALLS_PER_CHUNK)
        tags = self.im_tags[j * IM_TAGS_PER_CALL:(j + 1) * IM_TAGS_PER_CALL]
        return tags, self.accounts[chunk * IM_BATCH:(chunk + 1) * IM_BATCH]


def im_query() -> dict[str, str]:
    return {"sdkappid": str(SDKAPPID), "identifier": ADMIN, "contenttype": "json",
            "usersig": usersig(SDKAPPID, KEY, ADMIN), "random": str(random.randrange(2**32))}


def wx_token(http: httpx.Client) -> str:
    r = http.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID,
                                           "secret": SECRET})
    return str(r.json()["access_token"])


def client_loop(url: str, token: str, plan: Plan, first: str, stop: threading.Event) -> None:
    """Alternate WeChat and IM batches until `stop`, the plan runs out, or the server is gone."""
    kinds = ["wechat", "im"] if first == "wechat" else ["im", "wechat"]
    query = im_query()
    n = 0
    with httpx.Client(base_url=url, timeout=30) as http:
        while not stop.is_set():
            for kind in (kinds[n % 2], kinds[(n + 1) % 2]):
                i = plan.take(kind)
                if i is not None:
                    break
            else:
                return  # the plan ran out
            n += 1
            try:
                if kind == "wechat":
                    tag_id, openids = plan.wx_batch(i)
                    r = http.post("/cgi-bin/tags/members/batchtagging", params={"access_token": token},
                                  content=json.dumps({"openid_list": openids, "tagid": tag_id}))
                    out = r.json()
                    ok = out.get("errcode") == 0
                else:
                    tags, accounts = plan.im_batch(i)
                    body = {"UserTags": [{"To_Account": a, "Tags": tags} for a in accounts]}
                    r = http.post("/v4/all_member_push/im_add_tag", params=query,
                                  content=json.dumps(body))
                    out = r.json()
                    ok = out.get("ErrorCode") == 0
            except (httpx.HTTPError, ValueError):
                return  # the server is gone (or answered garbage while dying): the batch stays "sent"
            plan.mark(kind, i, "acked" if ok else "rejected")
            if not ok:
                plan.rejections.append(f"{kind} batch {i}: HTTP {r.status_code} {out}")


def read_wechat(http: httpx.Client, token: str, tag_ids: list[int]) -> dict[int, set[str]]:
    members: dict[int, set[str]] = {}
    for tag_id in tag_ids:
        got: set[str] = set()
        after = ""
        while True:
            r = http.post("/cgi-bin/user/tag/get", params={"access_token": token},
                          content=json.dumps({"tagid": tag_id, "next_openid": after})).json()
            if r.get("errcode", 0) != 0:
                raise RuntimeError(f"user/tag/get {tag_id}: {r}")
            page = r.get("data", {}).get("openid", [])
            got.update(page)
            after = r.get("next_openid", "")
            if not page or not after:
                break
        members[tag_id] = got
    return members


def read_im(http: httpx.Client, accounts: list[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for k in range(0, len(accounts), IM_BATCH):
        part = accounts[k:k + IM_BATCH]
        r = http.post("/v4/all_member_push/im_get_tag", params=im_query(),
                      content=json.dumps({"To_Account": part})).json()
        if r.get("ErrorCode") != 0:
            raise RuntimeError(f"im_get_tag: {r}")
        for item in r["UserTags"]:
            out[item["To_Account"]] = set(item["Tags"])
    return out


def judge(res: TrialResult, state: str, present: int, total: int) -> None:
    """Count one batch: `present` of its `total` pairs were found after the restart."""
    if 0 < present < total:
        res.half += 1
    if state == "acked" and present < total:
        res.lost += 1
        res.lost_pairs += total - present
    elif state == "rejected" and present:
        res.phantom += 1
    elif state == "sent" and present == total:
        res.unacked_present += 1


def verify(url: str, token: str, plan: Plan, res: TrialResult) -> None:
    with httpx.Client(base_url=url, timeout=60) as http:
        probe = http.get("/cgi-bin/tags/get", params={"access_token": token}).json()
        if probe.get("errcode", 0) != 0:  # the token was issued (acknowledged) before the kill
            res.lost += 1
            res.errors.append(f"access_token issued before the kill is gone: {probe}")
            token = wx_token(http)
            probe = http.get("/cgi-bin/tags/get", params={"access_token": token}).json()
        have_tags = {t["id"] for t in probe.get("tags", [])}
        for tag_id in plan.tag_ids:
            if tag_id not in have_tags:
                res.lost += 1
                res.errors.append(f"tag {tag_id} created before the load is gone")
        tag_ids = [t for t in plan.tag_ids if t in have_tags]
        wx = read_wechat(http, token, tag_ids)
        im_chunks = {i // IM_CALLS_PER_CHUNK for (kind, i) in plan.state if kind == "im"}
        im_accounts = [a for c in sorted(im_chunks) for a in plan.accounts[c * IM_BATCH:(c + 1) * IM_BATCH]]
        im = read_im(http, im_accounts)

    expected_wx: dict[int, set[str]] = {t: set() for t in plan.tag_ids}
    expected_im: dict[str, set[str]] = {}
    for (kind, i), state in sorted(plan.state.items()):
        res.sent += 1
        if state == "acked":
            res.acked += 1
            if kind == "wechat":
                res.acked_wechat += 1
            else:
                res.acked_im += 1
        elif state == "rejected":
            res.rejected += 1
        if kind == "wechat":
            tag_id, openids = plan.wx_batch(i)
            found = wx.get(tag_id, set())
            judge(res, state, sum(o in found for o in openids), len(openids))
            if state != "rejected":
                expected_wx[tag_id].update(openids)
        else:
            tags, accounts = plan.im_batch(i)
            present = sum(t in im.get(a, set()) for a in accounts for t in tags)
            judge(res, state, present, len(accounts) * len(tags))
            if state != "rejected":
                for a in accounts:
                    expected_im.setdefault(a, set()).update(tags)
    res.errors += plan.rejections[:5]
    for tag_id, found in wx.items():
        res.phantom += len(found - expected_wx.get(tag_id, set()))
    for a, found in im.items():
        res.phantom += len(found - expected_im.get(a, set()))


def trial_db(backend: str, workdir: Path, base: str, n: int) -> str:
    """Trial `n`'s fresh database: a SQLite file in `workdir`, or schema `<base's schema>_<n>`."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'polytag.db'}"
    return f"{base}_{n}"


Tamper = Callable[[str, str, Plan], None]


def run_trial(db: str, workdir: Path, *, clients: int, seconds: float, followers: int, accounts: int,
              rng: random.Random, tamper: Tamper | None = None) -> TrialResult:
    """One trial on database `db` (fresh and empty): seed, load, SIGKILL, restart, verify.

    `tamper(url, token, plan)` runs on the restarted server before the check (to prove the check
    can fail).
    """
    res = TrialResult()
    server = Server(db, workdir, seed_doc(followers, accounts))
    try:
        with httpx.Client(base_url=server.url, timeout=30) as http:
            token = wx_token(http)
            tag_ids = []
            for j in range(WX_TAGS):
                r = http.post("/cgi-bin/tags/create", params={"access_token": token},
                              content=json.dumps({"tag": {"name": f"crash{j:02d}"}})).json()
                tag_ids.append(int(r["tag"]["id"]))
        plan = Plan(followers, accounts, tag_ids)
        stop = threading.Event()
        threads = [threading.Thread(target=client_loop, daemon=True,
                                    args=(server.url, token, plan, "wechat" if k % 2 == 0 else "im", stop))
                   for k in range(clients)]
        started = time.monotonic()
        for t in threads:
            t.start()
        # the random moment is counted from the first acknowledgement of each dialect (so a slow
        # warm-up cannot leave a trial with nothing to check); 30 s without one: kill anyway
        deadline = started + 30
        while not plan.acked_both() and time.monotonic() < deadline and any(t.is_alive() for t in threads):
            time.sleep(0.01)
        time.sleep(rng.uniform(0.3, 1.0) * seconds)
        server.kill()
        res.kill_after = time.monotonic() - started
        stop.set()
        for t in threads:
            t.join(timeout=60)
        if any(t.is_alive() for t in threads):
            raise RuntimeError("a client thread did not stop after the kill")
    except BaseException:
        server.kill()
        raise
    server = Server(db, workdir)  # the same database, no seed: only what was committed
    try:
        if tamper is not None:
            tamper(server.url, token, plan)
        verify(server.url, token, plan, res)
    finally:
        server.stop()
    return res


@dataclass
class Summary:
    trials: int = 0
    acked: int = 0
    lost: int = 0
    half: int = 0
    phantom: int = 0
    results: list[TrialResult] = field(default_factory=list)

    def add(self, res: TrialResult) -> None:
        self.trials += 1
        self.acked += res.acked
        self.lost += res.lost
        self.half += res.half
        self.phantom += res.phantom
        self.results.append(res)

    def line(self) -> str:
        return (f"trials {self.trials}, acknowledged batches {self.acked}, lost writes {self.lost}, "
                f"half-applied batches {self.half}, phantom pairs {self.phantom}")

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.half == 0 and self.phantom == 0


def run(backend: str, *, trials: int, clients: int, seconds: float, followers: int = 20_000,
        accounts: int = 20_000, pg_url: str = "", seed: int | None = None,
        log: Callable[[str], None] = print, tamper: Tamper | None = None) -> Summary:
    """`trials` trials on `backend` ("sqlite" | "postgresql"), each on a fresh database.

    PostgreSQL: `pg_url` names a schema (`...?schema=S`); trial n uses schema `S_n`, dropped after.
    """
    from polytag.store.postgres import drop_schema

    if backend == "postgresql" and "schema=" not in pg_url:
        raise ValueError(f"pg_url must name a schema (?schema=...): {pg_url!r}")
    rng = random.Random(seed)
    summary = Summary()
    for n in range(trials):
        with tempfile.TemporaryDirectory(prefix="polytag-crash-") as tmp:
            workdir = Path(tmp)
            db = trial_db(backend, workdir, pg_url, n)
            try:
                res = run_trial(db, workdir, clients=clients, seconds=seconds, followers=followers,
                                accounts=accounts, rng=rng, tamper=tamper)
            finally:
                if backend == "postgresql":
                    drop_schema(db)
            summary.add(res)
            log(f"trial {n + 1}/{trials} [{backend}]: {res.line()}")
            for e in res.errors:
                log(f"  ! {e}")
    return summary


def pg_schema_url(dsn: str) -> str:
    """`dsn` with a schema of its own (`pt_crash_<random>`)."""
    sep = "&" if "?" in dsn else "?"
    return f"{dsn}{sep}schema=pt_crash_{uuid.uuid4().hex[:12]}"


def default_pg_dsn() -> str:
    return os.environ.get("POLYTAG_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
