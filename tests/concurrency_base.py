"""Concurrency invariants (issue 9, item 2): the tally, the two servers, and the client threads.

`bench/concurrency.py` (any size) and `tests/test_concurrency_invariants.py` (small) drive the
scenarios of `concurrency_wechat`, `concurrency_im` and `concurrency_juzibot` through
`concurrency_run`. Here: what every scenario shares. No pytest imports.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from polytag.testing import usersig
from tests.crash_driver import Server

WAIT = 60.0  # seconds: an HTTP timeout, never an assertion on speed

WX = {"appid": "wxconcurrency00001", "secret": "concurrency-secret"}
IM_CAP = {"sdkappid": 1400000881, "key": "a" * 64, "admin": "administrator"}
IM_CHURN = {"sdkappid": 1400000882, "key": "b" * 64, "admin": "administrator"}
JUZI = {"name": "concurrency-juzi", "token": "c0ncurrencyt0ken00000000000000aa"}


class Tally:
    """What was tried and answered, by kind, and every violation found (thread-safe)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.tried: Counter[str] = Counter()
        self.ok: Counter[str] = Counter()
        self.refused: dict[str, Counter[int]] = {}
        self.unknown: Counter[str] = Counter()  # no answer (transport error)
        self.violations: Counter[str] = Counter()
        self.examples: list[str] = []  # the first few violations, spelled out

    def answer(self, kind: str, code: int | None) -> None:
        with self.lock:
            self.tried[kind] += 1
            if code is None:
                self.unknown[kind] += 1
            elif code == 0:
                self.ok[kind] += 1
            else:
                self.refused.setdefault(kind, Counter())[code] += 1

    def violation(self, rule: str, detail: str) -> None:
        with self.lock:
            self.violations[rule] += 1
            if len(self.examples) < 40:
                self.examples.append(f"{rule}: {detail}")

    def refusals(self, code: int) -> int:
        return sum(c[code] for c in self.refused.values())

    @property
    def total_violations(self) -> int:
        return sum(self.violations.values())

    def to_dict(self) -> dict[str, Any]:
        kinds = sorted(self.tried)
        return {
            "operations": {k: {"tried": self.tried[k], "ok": self.ok[k], "unknown": self.unknown[k],
                               "refused": {str(c): n for c, n in sorted(self.refused.get(k, {}).items())}}
                           for k in kinds},
            "tried": sum(self.tried.values()), "ok": sum(self.ok.values()),
            "refused_by_code": {str(c): n for c, n in sorted(self._by_code().items())},
            "violations": dict(sorted(self.violations.items())),
            "violation_count": self.total_violations,
            "examples": list(self.examples),
        }

    def _by_code(self) -> Counter[int]:
        out: Counter[int] = Counter()
        for c in self.refused.values():
            out.update(c)
        return out


def seed_doc(followers: list[str], im_accounts: list[str], members: list[str],
             customers: list[str]) -> dict[str, Any]:
    return {"apps": [
        {"dialect": "wechat", **WX, "followers": followers},
        {"dialect": "tencent_im", **IM_CAP, "accounts": im_accounts, "rate_limits": {"*": 0},
         "limits": {"tags_per_app": 150}},
        {"dialect": "tencent_im", **IM_CHURN, "accounts": im_accounts, "rate_limits": {"*": 0},
         "limits": {"tags_per_app": 12}},
        {"dialect": "juzibot", **JUZI, "members": members, "limits": {"tags_per_app": 20},
         "customers": [{"unionId": c, "friends": members} for c in customers]},
    ]}


@dataclass
class Env:
    """Two servers on one database, a WeChat token, and what each scenario needs to reach them."""

    db: str
    servers: list[Server]
    token: str
    tally: Tally = field(default_factory=Tally)
    seed: int = 0

    def client(self, k: int) -> httpx.Client:
        """Client k talks to server k % 2: partners k and k^1 are always on different processes."""
        return httpx.Client(base_url=self.servers[k % 2].url, timeout=WAIT)

    def call(self, http: httpx.Client, kind: str, path: str, body: Any, params: dict[str, Any],
             code_key: str = "errcode") -> dict[str, Any] | None:
        """POST, count the answer under `kind`; None when there was no answer (counted unknown)."""
        try:
            r = http.post(path, params=params, content=json.dumps(body))
            out: dict[str, Any] = r.json()
            code = int(out.get(code_key, 0))  # WeChat answers data without errcode
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            self.tally.answer(kind, None)
            self.tally.violation("no_answer", f"{kind}: {exc!r}")
            return None
        self.tally.answer(kind, code)
        return out

    def wx(self, http: httpx.Client, kind: str, path: str, body: Any) -> dict[str, Any] | None:
        return self.call(http, kind, f"/cgi-bin/{path}", body, {"access_token": self.token})

    def im(self, http: httpx.Client, app: dict[str, Any], kind: str, action: str, body: Any) -> dict[str, Any] | None:
        query = {"sdkappid": app["sdkappid"], "identifier": app["admin"], "contenttype": "json",
                 "usersig": usersig(int(app["sdkappid"]), str(app["key"]), str(app["admin"])),
                 "random": random.randrange(2**32)}
        return self.call(http, kind, f"/v4/all_member_push/{action}", body, query, "ErrorCode")

    def juzi(self, http: httpx.Client, kind: str, path: str, body: Any) -> dict[str, Any] | None:
        return self.call(http, kind, f"/api/v1/{path}", body, {"token": JUZI["token"]})

    def expect(self, kind: str, out: dict[str, Any] | None, allowed: set[int], code_key: str = "errcode") -> int | None:
        """The answer's code; a code outside `allowed` (besides 0) is a `wrong_code` violation."""
        if out is None:
            return None
        code = int(out.get(code_key, 0))
        if code != 0 and code not in allowed:
            self.tally.violation("wrong_code", f"{kind} answered {code}: {out}")
        return code


def in_parallel(env: Env, clients: int, work: Callable[[int, httpx.Client, random.Random], None]) -> None:
    """Run `work(k, http, rng)` on `clients` threads at once (a barrier lines up their first request)."""
    barrier = threading.Barrier(clients)
    errors: list[BaseException] = []

    def body(k: int) -> None:
        rng = random.Random(env.seed * 1000 + k)
        with env.client(k) as http:
            try:
                barrier.wait()
                work(k, http, rng)
            except BaseException as exc:  # a bug in the driver: fail the run loudly
                errors.append(exc)

    threads = [threading.Thread(target=body, args=(k,), daemon=True) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
