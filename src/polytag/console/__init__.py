"""The admin web console under `/console`: static pages that call the native API and the control
plane from the browser (no build step, nothing fetched from outside the machine)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.routing import BaseRoute

from polytag.config import Settings
from polytag.core.service import Service


def routes(service: Service, settings: Settings, dialects: Mapping[str, Any]) -> list[BaseRoute]:
    """The page, its assets and `/console/session`; mounted before the native API's catch-all."""
    from polytag.console.site import build

    return build(settings)


__all__ = ["routes"]
