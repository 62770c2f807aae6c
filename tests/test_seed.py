"""Seed documents in process: validation messages, idempotent application, deterministic ids."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from polytag import seed
from polytag.core.ids import generated_ext_ids
from polytag.core.service import Service

Seeded = Callable[[dict[str, Any]], list[Any]]
DOC: dict[str, Any] = {"apps": [{"dialect": "wechat", "appid": "wx_seed", "secret": "s",
                                 "followers": ["o1", "o2"], "tags": [{"name": "a"}, "b"]}]}


def state(service: Service) -> list[tuple[Any, ...]]:
    rows = service.store.read()
    out = []
    for app in service.apps.list():
        subjects = [ext for _o, ext in rows.subjects_page(app.id, -1, 100_000, active_only=False)]
        out.append((app.id, app.name, subjects, [(t.ext_id, t.name) for t in service.tags.all(app)]))
    return out


def test_applying_a_seed_twice_changes_nothing(service: Service, seeded: Seeded) -> None:
    first = seeded(DOC)
    before = state(service)
    second = seeded(DOC)
    assert [a.id for a in first] == [a.id for a in second]
    assert state(service) == before
    assert before[0][2] == ["o1", "o2"]
    assert [name for _ext, name in before[0][3]] == ["星标组", "a", "b"]


def test_a_later_seed_adds_to_an_app(service: Service, seeded: Seeded) -> None:
    seeded(DOC)
    more = {"apps": [{**DOC["apps"][0], "followers": ["o2", "o3"], "tags": ["b", "c"]}]}
    seeded(more)
    (_id, _name, subjects, tags), = state(service)
    assert subjects == ["o1", "o2", "o3"]
    assert [name for _ext, name in tags] == ["星标组", "a", "b", "c"]


def test_generated_followers_are_deterministic(service: Service, seeded: Seeded) -> None:
    seeded({"apps": [{"dialect": "wechat", "appid": "wx_gen", "secret": "s", "followers": {"generate": 7}}]})
    (_id, _name, subjects, _tags), = state(service)
    assert subjects == generated_ext_ids("wechat:wx_gen", 7)
    assert len(set(subjects)) == 7 and all(len(s) == 28 for s in subjects)
    assert generated_ext_ids("wechat:wx_gen", 3) == subjects[:3]  # a prefix of a longer run


@pytest.mark.parametrize(("doc", "message"), [
    ([], "expected a mapping with an `apps:` list"),
    ({"apps": {"dialect": "wechat"}}, "expected a mapping with an `apps:` list"),
    ({"apps": ["wechat"]}, "apps[0] needs a `dialect:`"),
])
def test_validate_rejects_malformed_documents(doc: Any, message: str) -> None:
    with pytest.raises(seed.SeedError, match=message.replace("[", r"\[").replace("]", r"\]")):
        seed.validate(doc)


def test_unknown_dialect_is_an_error_not_a_skip(service: Service, seeded: Seeded) -> None:
    with pytest.raises(seed.SeedError, match="unknown dialect 'fax'.*known: .*wechat"):
        seeded({"apps": [{"dialect": "fax"}]})
    assert service.apps.list() == []


def test_a_missing_field_names_the_entry(seeded: Seeded) -> None:
    with pytest.raises(seed.SeedError, match=r"apps\[0\] \(wechat\).*appid"):
        seeded({"apps": [{"dialect": "wechat", "secret": "s"}]})


def test_load_reads_json_and_yaml(tmp_path: Path) -> None:
    (tmp_path / "s.json").write_text(json.dumps(DOC), "utf-8")
    (tmp_path / "s.yaml").write_text("apps:\n  - {dialect: wechat, appid: wx_seed, secret: s}\n", "utf-8")
    assert seed.load(tmp_path / "s.json") == DOC
    assert seed.load(tmp_path / "s.yaml")["apps"][0]["appid"] == "wx_seed"
    (tmp_path / "bad.json").write_text("{", "utf-8")
    with pytest.raises(seed.SeedError, match="not valid YAML/JSON"):
        seed.load(tmp_path / "bad.json")
