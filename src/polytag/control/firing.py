"""When an injected fault fires, the same for every kind (call faults, control/faults.py; delivery
faults, callbacks/faults.py): the first that matches and whose dice say so, counted as it fires."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar


class Firing(Protocol):
    probability: float  # of firing when it matches
    rng: random.Random  # its dice (seeded: the same calls fire on every run)
    times: int | None  # left to fire; None = forever
    fired: int


F = TypeVar("F", bound=Firing)


def first_firing(faults: Iterable[F], matches: Callable[[F], bool]) -> F | None:
    """The first of `faults` that `matches` and whose dice fire, its `fired` counted and one of its
    `times` spent; None when none fires."""
    for fault in faults:
        if not matches(fault):
            continue
        if fault.probability < 1.0 and fault.rng.random() >= fault.probability:
            continue
        fault.fired += 1
        if fault.times is not None:
            fault.times -= 1
        return fault
    return None
