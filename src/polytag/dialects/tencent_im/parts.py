"""The state this dialect adds to the core (`service.parts["tencent_im"]`): accounts, string tags
on accounts, attributes, push tasks and call-frequency quotas, built from explicit dependencies."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from polytag.core.accounts import Accounts
from polytag.core.attributes import Attributes
from polytag.core.models import App
from polytag.core.parts import Deps
from polytag.core.pushes import Pushes, PushRecord
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

    def sent(self, app: App) -> list[dict[str, Any]]:
        """Push tasks in the send log's shape: kind "all" (no condition) or "condition"."""
        return [_push_json(app, p) for p in self.pushes.log(app)]

    def forget(self, app_id: int) -> None:
        """A reset app starts with fresh call-frequency windows."""
        self.quotas.reset(app_id)


def _push_json(app: App, push: PushRecord) -> dict[str, Any]:
    cond = push.condition
    return {
        "id": push.task_id, "app": app.name, "dialect": app.dialect, "kind": "condition" if cond else "all",
        "target": json.dumps(cond, ensure_ascii=False, separators=(",", ":")) if cond else "",
        "msgtype": "", "message": {},
        "options": {"from_account": push.from_account, "lifetime": push.lifetime},
        "created_at": push.created_at, "status": "sent", "dedupe_key": str(push.msg_random),
        "audience_size": len(push.audience), "audience": push.audience,
    }


def im(service: Service) -> ImParts:
    """This dialect's parts of `service` (built on first use if the Service was not given them)."""
    return service.parts.of(NAME, ImParts)
