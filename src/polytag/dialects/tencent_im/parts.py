"""The state this dialect adds to the core (`service.parts["tencent_im"]`): accounts, string tags
on accounts, attributes, push tasks and call-frequency quotas, built from explicit dependencies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from polytag.core.accounts import Accounts
from polytag.core.attributes import Attributes
from polytag.core.parts import Deps
from polytag.core.pushes import Pushes
from polytag.core.quotas import Quotas
from polytag.core.usertags import UserTags

if TYPE_CHECKING:
    from polytag.core.service import Service

NAME = "tencent_im"


class ImParts:
    """Each part gets the core pieces it uses and the parts built before it, nothing else."""

    def __init__(self, deps: Deps) -> None:
        self.quotas = Quotas(deps.clock)
        self.user_tags = UserTags(deps.store, deps.subjects, deps.tags, deps.memberships)
        self.accounts = Accounts(deps.clock, deps.subjects, self.user_tags)
        self.attributes = Attributes(deps.store, deps.subjects)
        self.pushes = Pushes(deps.store, deps.clock, deps.subjects, deps.tags, deps.memberships, self.attributes)

    def forget(self, app_id: int) -> None:
        """A reset app starts with fresh call-frequency windows."""
        self.quotas.reset(app_id)


def im(service: Service) -> ImParts:
    """This dialect's parts of `service` (built on first use if the Service was not given them)."""
    return service.parts.of(NAME, ImParts)
