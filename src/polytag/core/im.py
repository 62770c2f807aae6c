"""The core parts the Tencent IM dialect adds to the Service (one attribute: `service.im`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from polytag.core.accounts import Accounts
from polytag.core.attributes import Attributes
from polytag.core.pushes import Pushes
from polytag.core.quotas import Quotas
from polytag.core.usertags import UserTags

if TYPE_CHECKING:
    from polytag.core.service import Service


class ImCore:
    """Accounts, string tags on accounts, attributes, push tasks and call-frequency quotas."""

    def __init__(self, service: Service) -> None:
        self.quotas = Quotas(service.clock)
        self.accounts = Accounts(service, self)
        self.user_tags = UserTags(service, self)
        self.attributes = Attributes(service, self)
        self.pushes = Pushes(service, self)


def im(service: Service) -> ImCore:
    """The service's IM parts, typed (the Service attaches them in its extension block)."""
    parts = service.im
    assert isinstance(parts, ImCore)
    return parts
