"""What the hostile-input suite needs to know of a dialect, kept in the dialect's own test folder.

Each dialect's `tests/dialects/<name>/hostile.py` exports `PROFILE`; tests/test_hostile_input.py
finds them through the dialects the server discovers (`polytag.dialects.discover()`), so a new
dialect is covered by adding that one file beside its other tests, never by editing the suite.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Profile:
    entry: Mapping[str, Any]  # a seed entry (with its `dialect:`): the app every request goes to
    auth: Callable[[Any], dict[str, str]]  # query parameters that authenticate a call (given the client)
    auth_keys: Sequence[str]  # query parameters to replace by edge values
    system_errors: frozenset[int]  # the codes of "an exception nobody foresaw": never expected
    cap_code: int  # what a body over the cap answers
    envelope: tuple[str, ...]  # keys every answer carrying a code holds
    always_coded: bool = True  # False: data answers carry no code (then no envelope is checked)
    body_keys: Sequence[str] = ()  # field names its bodies use (wrong types reach the validators)
    ids: Sequence[str] = ()  # ids that exist in `entry` (edge values that are also real)
    cap_path: str = ""  # an endpoint for the default-cap test
    checks_at_cap: bool = False  # a body exactly at the cap is also sent, and must not be refused
    extra: Mapping[str, Any] = field(default_factory=dict)


def profiles(names: Sequence[str]) -> dict[str, Profile]:
    """Each named dialect's PROFILE; a dialect without one fails loudly (add the file)."""
    out: dict[str, Profile] = {}
    for name in names:
        try:
            module = importlib.import_module(f"tests.dialects.{name}.hostile")
        except ModuleNotFoundError as exc:
            raise AssertionError(f"dialect {name!r} has no tests/dialects/{name}/hostile.py (PROFILE)") from exc
        out[name] = module.PROFILE
    return out
