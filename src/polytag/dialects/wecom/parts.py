"""The state this dialect adds to the core (`service.parts["wecom"]`): a corp's members, its
customers and who follows whom, over the core's groups and memberships (the same neutral rules
JuziBot's face of a corp uses: contacts keep nothing per app in memory, so they may be shared)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from polytag.core.contacts import Contacts

if TYPE_CHECKING:
    from polytag.core.service import Service

NAME = "wecom"


build = Contacts.of_deps  # contacts hold no per-app memory: nothing to forget at reset


def contacts(service: Service) -> Contacts:
    """This dialect's parts of `service` (built on first use if the Service was not given them)."""
    return service.parts.of(NAME, build)
