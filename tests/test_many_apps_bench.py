"""`bench/many_apps.py` at a tiny size: both configurations run with 0 errors, and the budget
really evicts (no timing or memory figure asserted: the machine is shared)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_the_many_apps_bench_runs_tiny() -> None:
    if shutil.which("wrk") is None:
        pytest.fail("wrk is not installed (the Makefile installs it): apt-get install wrk")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "many_apps.py"), "--apps", "8", "--subjects", "300",
                           "--tags", "5", "--seconds", "1", "--connections", "2", "--fraction", "0.25"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["apps"] == 8 and figures["budget_mb"] >= 1
    for config in ("no_budget", "budget"):
        assert figures[config]["errors"] == 0, figures[config]
        assert figures[config]["requests"] > 0, figures[config]
    assert figures["no_budget"]["evictions"] == 0
    assert figures["no_budget"]["resident_apps"] == 8
    assert figures["budget"]["budget_mb"] == figures["budget_mb"]
