"""Test helpers shared across packages."""

from __future__ import annotations

from polytag.core import ids

# the id seed of the `service` fixture: JuziBot ids are random without one, the same with one
ID_SEED = "polytag-tests"


def et_id(app_name: str, kind: str, ordinal: int) -> str:
    """The JuziBot id the `service` fixture hands out for the app's `ordinal`-th group or tag."""
    return ids.et_id(app_name, kind, ordinal, ID_SEED)
