"""README.md tells the truth: its examples run as written against `polytag serve` on the demo
seed and print what their comments say; the commands, flags, environment variables, endpoints,
files and Python names it mentions exist."""

from __future__ import annotations

import ast
import inspect
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from polytag.testing import start_server, stop_server

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
README_URL = "http://127.0.0.1:8080"  # where the README's examples expect `make serve`
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.M | re.S)


def fenced(lang: str) -> list[str]:
    return [body for kind, body in FENCE.findall(README) if kind == lang]


def prose() -> str:
    """The README without its fenced blocks."""
    return FENCE.sub("", README)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`polytag serve --port 0` on the demo seed, no admin key (as `make serve` runs it)."""
    db = tmp_path_factory.mktemp("readme") / "polytag.db"
    proc, url = start_server(f"sqlite:///{db}", None, ("--seed", str(ROOT / "examples" / "demo-seed.yaml")))
    try:
        yield url
    finally:
        stop_server(proc)


@pytest.fixture
def fresh(demo: str) -> str:
    """The demo server back to its startup seed: every example starts from `make serve`'s state."""
    httpx.post(demo + "/_polytag/reset", json={}, timeout=60).raise_for_status()
    return demo


# -- the examples -------------------------------------------------------------------------

def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text.strip())
    except (ValueError, SyntaxError):
        return NotImplemented


def with_checks(code: str) -> tuple[str, int]:
    """`print(E)  # V` and `name = E  # V`, where V is a Python literal, become checks that E
    (or name) equals V; returns the code and how many checks it holds."""
    out, checks = [], 0
    for line in code.splitlines():
        m = re.match(r"^(\s*)(\S.*?)\s+#\s*(.+)$", line)
        want = _literal(m[3]) if m else NotImplemented
        if m is None or want is NotImplemented:
            out.append(line)
            continue
        indent, stmt = m[1], m[2]
        if printed := re.fullmatch(r"print\((.*)\)", stmt):
            out.append(f"{indent}__expect({printed[1]}, {m[3].strip()})")
        elif bound := re.fullmatch(r"(\w+) = .*", stmt):
            out += [f"{indent}{stmt}", f"{indent}__expect({bound[1]}, {m[3].strip()})"]
        else:
            out.append(line)
            continue
        checks += 1
    return "\n".join(out), checks


def _expect(got: Any, want: Any) -> None:
    assert got == want, f"the README says {want!r}, the code gives {got!r}"


@pytest.mark.parametrize("index", range(len(fenced("python"))))
def test_python_example_runs_and_prints_what_it_says(index: int, fresh: str, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    code, checks = with_checks(fenced("python")[index].replace(README_URL, fresh))
    assert checks > 0, "an example without a `# value` comment proves nothing here"
    monkeypatch.chdir(tmp_path)  # an example's files (sqlite:///scratch.db) land here
    exec(compile(code, f"README.md python example {index}", "exec"), {"__expect": _expect})


def _curl_script() -> tuple[str, list[str]]:
    """The curl walk-through as one script (each command's answer on a line) and the answers
    its comments show."""
    [block] = [b for b in fenced("sh") if "curl" in b]
    commands: list[str] = []
    expected: list[str] = []
    pending = ""
    for line in block.splitlines():
        if line.startswith("# "):
            expected.append(line[2:])
            continue
        pending += line[:-1] + " " if line.endswith("\\") else line
        if not line.endswith("\\"):
            pending = re.sub(r"\s+# [^'\"]*$", "", pending)  # a trailing comment would swallow the echo
            if pending.strip():
                commands.append(pending + ("; echo" if pending.lstrip().startswith("curl") else ""))
            pending = ""
    return "set -e\n" + "\n".join(commands) + "\n", expected


def _unrid(text: str) -> str:
    return re.sub(r"rid: [0-9a-f-]+", "rid: <rid>", text)


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("python3") is None, reason="needs curl and python3")
def test_curl_walk_through_answers_as_shown(fresh: str) -> None:
    script, expected = _curl_script()
    assert len(expected) >= 5
    run = subprocess.run(["bash", "-c", script.replace(README_URL, fresh)], capture_output=True,
                         text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    got = [_unrid(x) for x in run.stdout.splitlines()]
    assert len(got) == len(expected), got
    for line, want in zip(got, expected, strict=True):  # `...` in an answer shown stands for the rest
        assert re.fullmatch(re.escape(_unrid(want)).replace(re.escape("..."), ".*"), line), (line, want)


def test_the_seed_example_is_a_valid_seed_file() -> None:
    from polytag import seed

    [block] = [b for b in fenced("yaml") if "apps:" in b]
    doc = yaml.safe_load(block)
    seed.validate(doc)
    entry = {**doc["apps"][0], "limits": {"tag_delete_max_members": 3}}  # the override the README shows
    seed.validate({"apps": [entry]})


# -- what the prose names ----------------------------------------------------------------

def _commands() -> dict[str, Any]:
    from polytag.cli import main

    return dict(main.commands)


def test_the_cli_synopsis_names_real_commands_and_flags() -> None:
    [block] = [b for b in fenced("sh") if "polytag serve [" in b]
    commands, current = _commands(), None
    for line in block.splitlines():
        code = line.split("#", 1)[0]
        if m := re.match(r"polytag (\S+)", code):
            current = commands.get(m[1])
            assert current is not None, f"no command `polytag {m[1]}`"
        assert current is not None
        options = {o for p in current.params for o in getattr(p, "opts", [])}
        for flag in re.findall(r"--[a-z][a-z0-9-]*", code):
            assert flag in options, f"`polytag {current.name}` has no {flag}"


def test_every_flag_named_is_an_option_of_polytag_or_of_its_script() -> None:
    options = {o for c in _commands().values() for p in c.params for o in getattr(p, "opts", [])}
    for line in README.splitlines():
        script = re.search(r"bench/\w+\.py", line)
        for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", line):
            if script:
                assert f'"{flag}"' in (ROOT / script[0]).read_text(), f"{script[0]} has no {flag}"
            else:
                assert flag in options, f"no polytag command has {flag}"


def test_the_commands_named_inline_exist() -> None:
    commands = _commands()
    named = {w for m in re.findall(r"`polytag ([a-z|-]+)", README) for w in m.split("|")} - {"ready"}
    assert {"serve", "import", "export", "audience"} <= named
    assert sorted(named - set(commands)) == []


def test_make_targets_and_variables_exist() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in set(re.findall(r"make ([a-z]+)", README)):
        assert re.search(rf"^{target}:", makefile, re.M), f"no make target {target}"
    for var in set(re.findall(r"make serve ((?:[A-Z]+=\S+ ?)+)", README)[0].split()):
        assert re.search(rf"^{var.split('=')[0]} \?=", makefile, re.M)


def test_environment_variables_are_read() -> None:
    source = "\n".join(p.read_text() for p in (ROOT / "src" / "polytag").rglob("*.py"))
    for name in set(re.findall(r"POLYTAG_[A-Z_]+", README)):
        assert name in source, f"nothing reads {name}"


def _slug(heading: str) -> str:
    return re.sub(r"\s", "-", re.sub(r"[^\w\s-]", "", heading.strip().lower()))


def test_links_and_anchors_resolve() -> None:
    for target in re.findall(r"\]\(([^)\s]+)\)", README):
        if target.startswith(("http://", "https://")):
            continue
        path, _, anchor = target.partition("#")
        text = (ROOT / path).read_text() if path else README
        if anchor:
            headings = {_slug(h) for h in re.findall(r"^#+ (.+)$", text, re.M)}
            assert anchor in headings, f"{target}: no such heading"


def test_paths_named_exist() -> None:
    for path in set(re.findall(r"`((?:src|docs|examples|bench|tests|core|\.ci)/[^`\s]*)`", README)):
        real = path.replace("<name>", "wechat")
        assert (ROOT / real).exists() or (ROOT / "src" / "polytag" / real).exists(), path
    for path in set(re.findall(r"(?:python |\.venv/bin/pytest -q )((?:bench|tests)/[\w/.]+)", README)):
        assert (ROOT / path).exists(), path
    assert (ROOT / ".ci" / "run").exists()


def test_endpoints_named_answer(demo: str) -> None:
    named = set(re.findall(r"`(/[a-z0-9_.-]+(?:/[a-z0-9_.-]+)*/?)`", prose()))
    local = {p for p in named if not p.endswith("/") or p == "/_polytag/"} - {"/"}
    assert {"/docs", "/openapi.json", "/metrics", "/v1", "/_polytag/"} <= local
    paths = {"/v1": "/v1/apps", "/_polytag/": "/_polytag/health"}
    with httpx.Client(base_url=demo, follow_redirects=True, timeout=60) as http:
        for p in sorted(local | {"/console"}):
            assert http.get(paths.get(p, p)).status_code == 200, p


def test_the_python_names_are_as_described() -> None:
    import polytag
    from polytag.core.limits import BOUNDS
    from polytag.testing import PolytagServer  # noqa: F401  (the plugin the README points at)

    params = list(inspect.signature(polytag.Client).parameters)
    assert params[:2] == ["base_url", "admin_key"]
    assert list(inspect.signature(polytag.Control).parameters)[:2] == ["http", "admin_key"]
    assert callable(polytag.Client.in_process) and callable(polytag.Control.in_process)
    for name in re.findall(r"`(\w+)`", README[README.index("polytag.__all__"):].split("\n\n")[0]):
        if name != "__all__":
            assert name in polytag.__all__, name
    assert "65,536 characters and 10,000 terms" in README
    assert (BOUNDS.expr_chars, BOUNDS.expr_terms) == (65_536, 10_000)


def test_the_pytest_fixtures_named_exist() -> None:
    import polytag.testing as plugin

    modules = [plugin, *plugin.dialect_modules()]  # each dialect's fixtures live with the dialect
    for name in set(re.findall(r"`(polytag_\w+)`", README)):
        assert any(callable(getattr(m, name, None)) for m in modules), name
