"""polytag: a self-hostable user tag service speaking three vendors' tag APIs.

The public names are below (`__all__`); each loads its module on first use, so that
`import polytag` stays cheap and pulls in no web framework and no vendor dialect.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> the module that defines it
_WHERE = {
    "Client": "polytag.client",
    "Control": "polytag.control.sdk",
    "ApiError": "polytag.client_errors",
    "NetworkError": "polytag.client_errors",
    "PolytagError": "polytag.errors",
    "NotFound": "polytag.errors",
    "Conflict": "polytag.errors",
    "Invalid": "polytag.errors",
    "LimitExceeded": "polytag.errors",
    "Unauthorized": "polytag.errors",
    "Forbidden": "polytag.errors",
    "Unavailable": "polytag.errors",
    "create_app": "polytag.app",
    "Settings": "polytag.config",
}

__all__ = [
    "__version__",
    "Client", "Control",
    "ApiError", "NetworkError",
    "PolytagError", "NotFound", "Conflict", "Invalid", "LimitExceeded", "Unauthorized", "Forbidden",
    "Unavailable",
    "create_app", "Settings",
]

if TYPE_CHECKING:
    from polytag.app import create_app
    from polytag.client import Client
    from polytag.client_errors import ApiError, NetworkError
    from polytag.config import Settings
    from polytag.control.sdk import Control
    from polytag.errors import (
        Conflict,
        Forbidden,
        Invalid,
        LimitExceeded,
        NotFound,
        PolytagError,
        Unauthorized,
        Unavailable,
    )


def __getattr__(name: str) -> Any:
    where = _WHERE.get(name)
    if where is None:
        raise AttributeError(f"module 'polytag' has no attribute {name!r}")
    value = getattr(importlib.import_module(where), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_WHERE})
