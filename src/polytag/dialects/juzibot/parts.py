"""The state this dialect adds to the core (`service.parts["juzibot"]`): members, customers and
their friendships, and the CRM's customer list, over the core's groups and memberships."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from polytag.core.contacts import Contacts
from polytag.core.customers import Customers

if TYPE_CHECKING:
    from polytag.core.parts import Deps
    from polytag.core.service import Service

NAME = "juzibot"


@dataclass(frozen=True)
class JuziParts:
    """Neither holds per-app memory: nothing to forget at reset."""

    contacts: Contacts
    customers: Customers


def build(deps: Deps) -> JuziParts:
    return JuziParts(Contacts.of_deps(deps), Customers.of_deps(deps))


def contacts(service: Service) -> Contacts:
    """This dialect's contacts (its parts built on first use if the Service was not given them)."""
    return service.parts.of(NAME, build).contacts


def customers(service: Service) -> Customers:
    return service.parts.of(NAME, build).customers
