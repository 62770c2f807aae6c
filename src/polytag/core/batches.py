"""Batch sizes: the first check of every batched call (an empty batch is refused too)."""

from __future__ import annotations

from polytag.core.models import App
from polytag.errors import LimitExceeded


def check_batch(app: App, kind: str, size: int) -> None:
    """LimitExceeded("batch:<kind>") for an empty batch or one over the app's cap for `kind`."""
    cap = app.limits.batch_max(kind)
    if size == 0 or (cap is not None and size > cap):
        raise LimitExceeded(f"batch:{kind}", size, cap or 0)
