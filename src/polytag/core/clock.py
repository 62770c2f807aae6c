"""The service's clock. Everything that expires or counts per day asks it, so tests can move it."""

from __future__ import annotations

import time


class Clock:
    """Real time plus an offset; `set`/`advance` move it, `real` returns to the wall clock."""

    def __init__(self) -> None:
        self._offset = 0.0

    def now(self) -> float:
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        self._offset += seconds

    def set(self, epoch: float) -> None:
        self._offset = epoch - time.time()

    def real(self) -> None:
        self._offset = 0.0

    @property
    def offset(self) -> float:
        return self._offset
