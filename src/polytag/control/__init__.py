"""The emulator control plane under `/_polytag/`: health, reset, seed, snapshots, journal, faults,
quotas, the clock and the send log (guarded by the admin key when one is set; health is open).

Importing the package costs nothing: the plane is loaded when `routes` is called, so the client
SDK (`polytag.control.sdk`, `from polytag import Control`) does not pull the server in."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from polytag.config import Settings
    from polytag.control.plane import ControlPlane
    from polytag.core.service import Service
    from polytag.dialects import Dialect


def routes(service: Service, settings: Settings, dialects: Mapping[str, Dialect]) -> list[BaseRoute]:
    """Attach the plane's hooks to the service (journal observer, fault and quota interceptors)
    and return its routes; called once per app build."""
    from polytag.callbacks.views import routes as callback_routes
    from polytag.control import sends
    from polytag.control.plane import ControlPlane
    from polytag.control.views import build

    plane = ControlPlane.attach(service, settings, dialects)
    return build(plane) + sends.routes(plane) + callback_routes(plane.callbacks, settings.admin_key)


def __getattr__(name: str) -> Any:
    if name == "ControlPlane":
        from polytag.control.plane import ControlPlane

        return ControlPlane
    raise AttributeError(name)


__all__ = ["ControlPlane", "routes"]
