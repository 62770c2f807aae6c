"""What the SDKs raise: a server's refusal as the neutral error it names, and a network failure.

A refusal is an `ApiError` (HTTP `status`, the whole answer as `problem`, its `type` and
`detail`) and, at the same time, the `polytag.errors` class of the core error the server
rendered, with that class's fields read back from the problem document (`NotFound.kind`,
`Invalid.field`, `LimitExceeded.allowed`, ...). So `except polytag.NotFound` works the same in
process and over the network. The control plane answers `{"error": message}` without a problem
type: its refusals map by status alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx

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


class ApiError(PolytagError):
    """A refusal: `status`, `problem` (the decoded answer), `type` ("/problems/<slug>" or ""),
    `detail` (the server's message), `message` (the same, as the control plane calls it)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        self.type = str(problem.get("type", ""))
        self.slug = self.type.rsplit("/", 1)[-1]
        detail = problem.get("detail", problem.get("error", ""))
        PolytagError.__init__(self, str(detail))
        title = problem.get("title")
        self.args = (f"{status} {title}: {self.detail}" if title else f"{status}: {self.detail}",)
        self.message = self.detail

    def member(self, name: str, default: Any = None) -> Any:
        """An extension member of the problem document (`default` when absent or null)."""
        value = self.problem.get(name)
        return default if value is None else value


class NotFoundError(ApiError, NotFound):
    """404: `kind` and `key` of what is missing ("" and None when the server did not say)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(status, problem)
        self.kind, self.key = str(self.member("kind", "")), self.member("key")


class ConflictError(ApiError, Conflict):
    """409 on a uniqueness rule: `kind` and `key`."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(status, problem)
        self.kind, self.key = str(self.member("kind", "")), self.member("key")


class InvalidError(ApiError, Invalid):
    """400/422: `field` and `reason` (a schema mismatch: the first error's location and type)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(status, problem)
        errors = self.member("errors", [])
        first = errors[0] if errors and isinstance(errors[0], dict) else {}
        where = "expr" if self.slug == "bad-expression" else first.get("loc", "")
        self.field = str(self.member("field", where))
        self.reason = str(self.member("reason", first.get("type", self.slug or "bad_request")))
        self.value = self.member("token")
        self.position = self.member("position")


class LimitExceededError(ApiError, LimitExceeded):
    """A counted limit: `limit`, `value`, `allowed` (413 for a body past the cap)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(status, problem)
        self.limit = str(self.member("limit", "body_bytes" if status == 413 else ""))
        self.value, self.allowed = _int(self.member("value")), _int(self.member("allowed"))


class UnauthorizedError(ApiError, Unauthorized):
    """401: `reason` (the admin key is missing or wrong)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(status, problem)
        self.reason = str(self.member("reason", "admin_key"))


class ForbiddenError(ApiError, Forbidden):
    """403: `reason` (a core rule, or the guard's: "host-not-allowed", "loopback-only", ...)."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(status, problem)
        self.reason, self.key = str(self.member("reason", self.slug or "forbidden")), self.member("key")


class UnavailableError(ApiError, Unavailable):
    """503: the store could not complete the call; safe to retry."""


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


BY_TYPE: dict[str, type[ApiError]] = {
    "not-found": NotFoundError, "conflict": ConflictError, "invalid": InvalidError,
    "bad-expression": InvalidError, "validation": InvalidError, "malformed-body": InvalidError,
    "limit-exceeded": LimitExceededError, "unauthorized": UnauthorizedError,
    "forbidden": ForbiddenError, "unavailable": UnavailableError,
}
BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidError, 401: UnauthorizedError, 403: ForbiddenError, 404: NotFoundError,
    409: ConflictError, 413: LimitExceededError, 422: InvalidError, 503: UnavailableError,
}


def refusal(response: httpx.Response) -> ApiError:
    """The exception for an answer of status >= 400 (its body read already)."""
    try:
        doc = response.json()
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        doc = {"detail": response.text[:1000] or response.reason_phrase}
    slug = str(doc.get("type", "")).rsplit("/", 1)[-1]
    cls = BY_TYPE.get(slug) or BY_STATUS.get(response.status_code, ApiError)
    return cls(response.status_code, doc)


class NetworkError(PolytagError, httpx.TransportError):
    """The server could not be reached or did not answer: `url`, and the transport's own error as
    `cause` (also `__cause__`). It is an `httpx.TransportError` too."""

    def __init__(self, url: str, cause: Exception) -> None:
        what = type(cause).__name__
        if isinstance(cause, httpx.TimeoutException):
            message = f"no answer from polytag at {url} in time ({what}: {cause})"
        elif isinstance(cause, httpx.ConnectError):
            message = f"cannot reach polytag at {url} ({what}: {cause}); is `polytag serve` running there?"
        else:
            message = f"the connection to polytag at {url} failed ({what}: {cause})"
        PolytagError.__init__(self, message)
        self.url, self.cause = url, cause


@contextlib.contextmanager
def reaching(http: httpx.Client) -> Iterator[None]:
    """Turn the transport's errors inside into a NetworkError naming the server."""
    try:
        yield
    except httpx.TransportError as exc:
        if isinstance(exc, NetworkError):
            raise
        raise NetworkError(str(http.base_url).rstrip("/") or "(no base URL)", exc) from exc


def call(http: httpx.Client, method: str, path: str, **kw: Any) -> Any:
    """One request: the decoded JSON answer (None for 204), a refusal raised as its ApiError."""
    with reaching(http):
        response = http.request(method, path, **kw)
    if response.status_code >= 400:
        raise refusal(response)
    return None if response.status_code == 204 or not response.content else response.json()
