"""The callback docs and the code agree: every simulate action, mode and event of each dialect's
callback face is on its compatibility page, and the handler example of docs/testing.md runs as
written."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from polytag import dialects

ROOT = Path(__file__).resolve().parents[2]
FACES = {name: d.callbacks for name, d in dialects.discover().items() if d.callbacks is not None}


def test_two_dialects_push_callbacks() -> None:
    assert set(FACES) >= {"wechat", "wecom"}


@pytest.mark.parametrize("name", sorted(FACES))
def test_the_page_lists_every_action_mode_and_event(name: str) -> None:
    face = FACES[name]
    page = (ROOT / "docs" / "compat" / f"{name}.md").read_text("utf-8")
    section = page.split("## Callbacks", 1)[1].split("\n## ", 1)[0]
    for action in face.actions:
        assert f"`{action}`" in section, action
    for mode in face.modes:
        assert f"`{mode}`" in section, mode
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    assert face.events
    for event in face.events:  # a table row whose first cell names it ("Event" or "Event ChangeType")
        words = event.split()
        assert any(all(f"`{w}`" in row.split("|")[1] for w in words) and re.search(r"\| delivered\b", row)
                   for row in rows), event


@pytest.mark.parametrize("name", ["test_welcome.py", "test_wecom_customers.py"])
def test_the_testing_guide_examples_run(tmp_path: Path, name: str) -> None:
    guide = (ROOT / "docs" / "testing.md").read_text("utf-8")
    block = guide.split(f"# {name}", 1)[1].split("```", 1)[0]
    (tmp_path / name).write_text(f"# {name}" + block, "utf-8")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop("POLYTAG_URL", None)
    got = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                          str(tmp_path / name)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=300)
    assert got.returncode == 0, got.stdout[-3000:] + got.stderr[-2000:]
    assert "1 passed" in got.stdout
