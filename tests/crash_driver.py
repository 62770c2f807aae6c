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

This module holds what is sent (apps, server, the batch plan, the clients); `crash_check` reads
the state back and judges every batch; `crash_trials` runs trials. Used by `bench/crash.py`
(any size) and `tests/test_crash.py` (small). No pytest imports here.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
import uuid
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
