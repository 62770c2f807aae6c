"""A dialect's table from the errors it renders to its codes, read as a `match` statement is.

Each row names an error class, the values some of its attributes must hold, and the code:
`when(NotFound, 45159, kind="tag")`. A wanted value is one value, a tuple of values any of
which will do (`kind=("tag", "group")`), or a test of the value (`limit=str.isdigit`). The
first row an error fits gives its code; rows of a subclass come before its base's, the
narrower rows of a class before the wider (as the cases of a `match` would).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_ABSENT = object()


@dataclass(frozen=True)
class Row:
    """An error of class `cls` whose attributes hold `attrs` gets `code`."""

    cls: type[BaseException]
    code: int
    attrs: tuple[tuple[str, Any], ...] = ()

    def fits(self, exc: BaseException) -> bool:
        return isinstance(exc, self.cls) and all(_holds(getattr(exc, name, _ABSENT), wanted)
                                                 for name, wanted in self.attrs)


def when(cls: type[BaseException], code: int, **attrs: Any) -> Row:
    return Row(cls, code, tuple(attrs.items()))


def _holds(value: Any, wanted: Any) -> bool:
    if value is _ABSENT:
        return False
    if isinstance(wanted, tuple):
        return value in wanted
    if callable(wanted):
        return bool(wanted(value))
    return bool(value == wanted)


def first_code(rows: Iterable[Row], exc: BaseException, default: int) -> int:
    """The code of the first row `exc` fits; `default` when it fits none."""
    return next((row.code for row in rows if row.fits(exc)), default)

