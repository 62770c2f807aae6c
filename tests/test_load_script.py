"""`bench/load.py` (issue 9, item 6) runs end to end at a tiny size: its report is whole and nothing failed.

No timing assertions: the rate, latencies and memory figures only have to be there.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KINDS = {"wechat batchtagging", "wechat batchuntagging", "wechat tags/get", "wechat user/tag/get",
         "wechat user/info", "im im_get_tag", "native audience count"}


def load(*extra: str) -> tuple[int, dict[str, Any]]:
    args = [sys.executable, str(ROOT / "bench" / "load.py"), "--rate", "50", "--seconds", "3", "--warmup", "1",
            "--followers", "2000", "--sample-every", "1", "--json", *extra]
    done = subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.stdout.strip(), done.stderr
    return done.returncode, json.loads(done.stdout)


def test_a_tiny_run_reports_everything_and_nothing_fails() -> None:
    code, r = load()
    assert code == 0, r
    assert r["target_rate"] == 50 and r["seconds"] == 3 and r["backend"] == "sqlite"
    assert r["errors"] == 0 and r["errors_by_kind"] == {} and r["error_examples"] == [], r
    assert r["dropped"] == 0, r
    assert r["requests"] == 150, r  # 50/s for 3 s, every one answered
    assert set(r["by_kind"]) == KINDS, r  # the whole mix ran
    assert sum(k["requests"] for k in r["by_kind"].values()) == r["requests"]
    assert isinstance(r["rate_held"], bool) and r["achieved_rate"] > 0
    lat = r["latency_ms"]
    assert 0 < lat["p50"] <= lat["p90"] <= lat["p99"] <= lat["max"], lat
    mem = r["memory_mb"]
    assert len(mem["samples"]) >= 2 and mem["start"] > 0 and mem["end"] > 0, mem
    assert (mem["start"], mem["end"]) == (mem["samples"][0][1], mem["samples"][-1][1])
    assert mem["growth"] == round(mem["end"] - mem["start"], 1)


def test_memory_growth_over_the_limit_fails_the_run() -> None:
    code, r = load("--max-growth-mb", "-1000")  # any run "grows" more than -1000 MB
    assert code == 1
    assert r["errors"] == 0 and r["memory_mb"]["max_growth"] == -1000
