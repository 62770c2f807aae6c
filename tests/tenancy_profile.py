"""What the tenant-isolation matrix needs to know of a dialect, kept in the dialect's own test folder.

Each dialect's `tests/dialects/<name>/tenancy.py` exports `PROFILE`; tests/test_tenants.py finds
them through the dialects the server discovers (`polytag.dialects.discover()`), so a new dialect
joins the matrix by adding that one file beside its other tests, never by editing the suite.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Answer = dict[str, Any]


def holds_nothing(answer: Answer) -> bool:
    """The default for a refusal: its code says it all."""
    return True


@dataclass(frozen=True)
class Seed:
    """One app of the matrix. Every name of its data (tags, groups, attribute values, contact
    names) begins with one of `marks`, so any of them in an answer to another app is a leak."""

    key: str  # short and unique across the matrix: "wa", "ib", ...
    entry: Mapping[str, Any]  # its seed entry, with `dialect:`
    people: Sequence[str]  # its subjects as the vendor's calls name them
    subjects: Sequence[str]  # the same subjects as the native API lists them
    tag_names: Sequence[str]  # the tags its own listing shows, all of them
    tags: Sequence[str] = ()  # tag ids as the vendor's calls name them (none where tags are names)
    groups: Sequence[str] = ()  # tag group ids
    members: Sequence[str] = ()  # staff ids, where the vendor has staff (who tags whom)
    more_marks: Sequence[str] = ()  # name prefixes beyond `<key>-t` and `<key>-g`

    @property
    def marks(self) -> tuple[str, ...]:
        return (f"{self.key}-t", f"{self.key}-g", *self.more_marks)


@dataclass(frozen=True)
class Request:
    """One call of a dialect, with the code it must answer (as the dialect's `code_of` reads it)."""

    path: str  # below the dialect's prefix
    body: Any = None  # None: a GET where the vendor has one
    query: Mapping[str, str] = field(default_factory=dict)
    code: int = 0
    empty: Callable[[Answer], bool] = holds_nothing  # the answer holds nothing of the other app's


Send = Callable[["Session", Request, str], Answer]  # (session, request, credential) -> the answer


@dataclass(frozen=True)
class Session:
    """One app's credential over the test client; calls go out as that app unless told otherwise."""

    client: Any
    seed: Seed
    credential: str  # what its calls carry to prove who they are: never in the journal
    send: Send
    login_path: str = ""  # the vendor endpoint the credential came from ("" when made locally)

    def ask(self, request: Request, credential: str | None = None) -> Answer:
        return self.send(self, request, self.credential if credential is None else credential)

    def __call__(self, path: str, body: Any = None, **query: str) -> Answer:
        return self.ask(Request(path, body, query))


Check = Callable[[Session, Session], None]  # asserts, given the sessions of apps A and B


@dataclass(frozen=True)
class Profile:
    seeds: tuple[Seed, Seed]  # apps A and B
    login: Callable[[Any, Seed], Session]  # (test client, app) -> its session
    setup: Callable[[Session], None]  # memberships, each call asserted to succeed
    hostile: Callable[[Seed, Seed], Sequence[Request]]  # what X's session sends naming Y's ids
    own_tags: Callable[[Session], set[str]]  # the tag names the app's own listing shows
    probe: Callable[[Seed], Request]  # a read of the app's own that needs its credential (`code` with it)
    bad_credential: frozenset[int]  # what the probe answers with another dialect's credential
    cross_check: Check  # A's credential never opens B, nor B's A (the dialect's own ways)
    checks: Sequence[Check] = ()  # further dialect-specific checks (codes naming their reason)


def profiles(names: Sequence[str]) -> dict[str, Profile]:
    """Each named dialect's PROFILE; a dialect without one fails loudly (add the file)."""
    out: dict[str, Profile] = {}
    for name in names:
        path = f"tests.dialects.{name}.tenancy"
        try:
            module = importlib.import_module(path)
        except ModuleNotFoundError as exc:
            if exc.name != path:  # the file is there, something it imports is not
                raise
            raise AssertionError(f"dialect {name!r} has no tests/dialects/{name}/tenancy.py (PROFILE)") from exc
        out[name] = module.PROFILE
    return out
