"""pytest fixtures and client helpers of this dialect (registered by `polytag.testing` through
the record's `testing`): an app with one member and one customer."""

from __future__ import annotations

import pytest

from polytag.testing import AppFactory, PolytagApp

__all__ = []


@pytest.fixture
def polytag_juzibot_app(polytag_app: AppFactory) -> PolytagApp:
    return polytag_app("juzibot", members=["m1"], customers=[{"unionId": "c1", "friends": ["m1"]}])
