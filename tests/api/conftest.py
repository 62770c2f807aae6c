"""Fixtures: an SDK client over the whole app in process, with or without an admin key."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from polytag.app import create_app
from polytag.client import Client
from polytag.config import Settings
from polytag.core.service import Service

KEY = "s3cret"


@pytest.fixture
def make_client(service: Service) -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(server_key: str | None = None, client_key: str | None = None) -> Client:
        app = create_app(Settings(db=service.store.url, admin_key=server_key), service)
        c = Client.in_process(app, admin_key=client_key)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()


@pytest.fixture
def sdk(make_client: Callable[..., Client]) -> Client:
    """A client of a server with an admin key, holding the key; a native app `crm` exists."""
    c = make_client(KEY, KEY)
    c.create_app("crm")
    return c
