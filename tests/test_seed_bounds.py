"""Seed documents may not ask for more than polytag will build (issue 15, findings 3 and 15):
`{generate: N}` is bounded by BOUNDS.seed_generate, integers must fit a 64-bit column, `limits:`
are checked like the native API's, and an app name another dialect holds is a clear refusal.
Each refusal comes before anything is built, in process, over the control plane and in the CLI."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from polytag import seed
from polytag.cli import main
from polytag.core.ids import generated_ext_ids
from polytag.core.limits import BOUNDS
from polytag.core.service import Service

Seeded = Callable[[dict[str, Any]], list[Any]]
HUGE = 10**12


def wx(**extra: Any) -> dict[str, Any]:
    return {"dialect": "wechat", "appid": "wxhuge", "secret": "s", **extra}


BAD_ENTRIES = [
    (wx(followers={"generate": HUGE}), "generate 1000000000000 subjects is over the limit of 10,000,000"),
    ({"dialect": "tencent_im", "sdkappid": 1400000999, "key": "k", "accounts": {"generate": HUGE}},
     "over the limit of 10,000,000"),
    (wx(followers={"generate": BOUNDS.seed_generate + 1}), "over the limit"),
    (wx(followers={"generate": "many"}), "`generate` must be a whole number"),
    (wx(followers={"generate": -1}), "`generate` must be a whole number"),
    ({"dialect": "juzibot", "name": "bot", "token": "t",
      "groups": [{"name": "g", "order": 10**30, "tags": [{"name": "x"}]}]}, "does not fit a signed 64-bit"),
    ({"dialect": "native", "name": "n", "limits": {"batch": 5}}, "limits: limit 'batch' must be an object"),
    ({"dialect": "native", "name": "n", "limits": {"bogus": 1}}, "unknown limit 'bogus': valid keys are"),
    (wx(limits={"tag_name_max": "abc"}), "limit 'tag_name_max' must be an integer"),
]


@pytest.mark.parametrize(("entry", "message"), BAD_ENTRIES)
def test_validate_refuses_what_no_server_should_build(entry: dict[str, Any], message: str) -> None:
    with pytest.raises(seed.SeedError, match="apps\\[0\\]") as info:
        seed.validate({"apps": [entry]})
    assert message in str(info.value)


def test_a_refused_seed_builds_nothing(service: Service, seeded: Seeded) -> None:
    with pytest.raises(seed.SeedError, match="BOUNDS.seed_generate"):
        seeded({"apps": [wx(), {**wx(appid="wxtwo"), "followers": {"generate": HUGE}}]})
    assert service.apps.list() == []  # the first, good entry was not applied either


def test_generate_at_the_limit_is_accepted_by_validation() -> None:
    assert seed.validate({"apps": [wx(followers={"generate": BOUNDS.seed_generate})]})
    with pytest.raises(ValueError, match="BOUNDS.seed_generate"):  # and the generator itself says no
        generated_ext_ids("x", BOUNDS.seed_generate + 1)


def test_a_native_app_named_like_a_wechat_app_is_refused(service: Service, seeded: Seeded) -> None:
    seeded({"apps": [wx()]})
    with pytest.raises(seed.SeedError, match="'wxhuge' exists with dialect 'wechat'"):
        seeded({"apps": [{"dialect": "native", "name": "wxhuge"}]})
    assert [a.dialect for a in service.apps.list()] == ["wechat"]


def test_cli_seed_says_why_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_text(yaml.safe_dump({"apps": [wx(followers={"generate": HUGE})]}), "utf-8")
    got = CliRunner().invoke(main, ["seed", str(path), "--db", f"sqlite:///{tmp_path / 'p.db'}"])
    assert got.exit_code == 2, got.output
    assert "over the limit of 10,000,000" in got.output and "Traceback" not in got.output
    assert not (tmp_path / "p.db").exists()  # refused before the database was opened


def test_serve_with_a_huge_seed_refuses_to_start(tmp_path: Path) -> None:
    from polytag.app import build_service
    from polytag.config import Settings

    path = tmp_path / "huge.yaml"
    path.write_text(yaml.safe_dump({"apps": [wx(followers={"generate": HUGE})]}), "utf-8")
    with pytest.raises(seed.SeedError, match="over the limit"):
        build_service(Settings(db=f"sqlite:///{tmp_path / 'p.db'}", seeds=(str(path),)))
