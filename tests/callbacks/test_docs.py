"""The callback docs and the code agree: every simulate action and event of the WeChat face is on
its compatibility page, and the handler example of docs/testing.md runs as written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from polytag.dialects.wechat.callbacks import FACE

ROOT = Path(__file__).resolve().parents[2]


def test_the_wechat_page_lists_every_action_and_event() -> None:
    page = (ROOT / "docs" / "compat" / "wechat.md").read_text("utf-8")
    section = page.split("## Callbacks", 1)[1].split("\n## ", 1)[0]
    for action in FACE.actions:
        assert f"`{action}`" in section, action
    for event in ("subscribe", "SCAN", "unsubscribe"):
        assert re.search(rf"^\| `{event}`.*\| delivered \|", section, re.MULTILINE), event
    for mode in FACE.modes:
        assert f"`{mode}`" in section, mode


def test_the_testing_guide_example_runs(tmp_path: Path) -> None:
    guide = (ROOT / "docs" / "testing.md").read_text("utf-8")
    block = guide.split("# test_welcome.py", 1)[1].split("```", 1)[0]
    (tmp_path / "test_welcome.py").write_text("# test_welcome.py" + block, "utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop("POLYTAG_URL", None)
    got = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                          str(tmp_path / "test_welcome.py")], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert got.returncode == 0, got.stdout[-3000:] + got.stderr[-2000:]
    assert "1 passed" in got.stdout
