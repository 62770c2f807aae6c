"""bench/soak_hostile.py, a few seconds at a low rate: it completes, reports every figure in its
final JSON line, and the server answered no 5xx while legitimate calls kept succeeding."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_soak_script_runs_and_reports_no_server_error() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "soak_hostile.py"), "--rate", "20", "--seconds", "4",
         "--slow", "3", "--slow-hold", "3", "--sample", "1", "--inflight", "16"],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    lines = proc.stdout.strip().splitlines()
    assert lines, proc.stderr[-2000:]
    out = json.loads(lines[-1])
    assert {"sent", "five_xx", "legit_success_rate", "legit_p50_ms", "legit_p99_ms", "rss_mb", "fds",
            "slow", "server_tracebacks"} <= set(out), out
    assert out["sent"] > 0 and out["legit_calls"] > 0, out
    assert out["rss_mb"]["max"] and out["fds"]["max"], out
    assert sum(v for k, v in out["slow"].items() if k.endswith(":opened")) >= 3, out
    assert out["server_exit"] == 0, out
    assert out["five_xx"] == 0, proc.stdout[-3000:]
    assert out["server_tracebacks"] == 0, proc.stdout[-3000:]
    assert out["legit_success_rate"] == 1.0, proc.stdout[-3000:]
    assert proc.returncode == 0, proc.stdout[-3000:]
