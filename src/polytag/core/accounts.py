"""Accounts of an app (subjects that can be imported, deleted, re-imported and checked).

A deleted account keeps its ordinal but is inactive, without tags or attributes; the time
of deletion is kept in its props so a re-import can be refused during a cool-down.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from polytag.core.batches import check_batch
from polytag.core.clock import Clock
from polytag.core.models import App
from polytag.core.subjects import Subjects
from polytag.core.usertags import UserTags
from polytag.errors import Conflict, Invalid, LimitExceeded
from polytag.store import Tx

ID_MAX_BYTES = 32        # account ids <= 32 bytes
PROFILE_MAX_BYTES = 500  # each profile field
REIMPORT_COOLDOWN = 90 * 86400  # a deleted account cannot be imported again within 3 months


class Accounts:
    """Accounts are the app's subjects; imported ones are active (`Subjects.resolve(active=True)`)."""

    def __init__(self, clock: Clock, subjects: Subjects, user_tags: UserTags) -> None:
        self.clock = clock
        self.subjects = subjects
        self.user_tags = user_tags

    def _state(self, tx: Tx, app: App, ext: str) -> tuple[int, bool, dict[str, Any]] | None:
        """(ord, active, props) of one known account, read in the write's transaction."""
        found = self.subjects.find(app, [ext], tx)
        if ext not in found:
            return None
        row = tx.subject(app.id, found[ext])
        assert row is not None
        return found[ext], bool(row[2]), json.loads(str(row[6]) or "{}")

    # writes -----------------------------------------------------------------
    def check_id(self, app: App, user_id: object) -> str:
        if not isinstance(user_id, str) or not user_id:
            raise Invalid("UserID", "empty" if user_id == "" else "type", user_id)
        cap = app.limits.account_id_max_bytes
        if cap is not None and len(user_id.encode("utf-8")) > cap:
            raise Invalid("UserID", "too_long", user_id)
        return user_id

    def import_one(self, tx: Tx, app: App, user_id: object, profile: Mapping[str, str] | None = None) -> int:
        """Import (or re-import, updating the profile) one account; all checks before any change."""
        ext = self.check_id(app, user_id)
        cap = app.limits.profile_max_bytes
        for k, v in (profile or {}).items():
            if cap is not None and len(v.encode("utf-8")) > cap:
                raise Invalid(k, "too_long", v)
        now = self.clock.now()
        state = self._state(tx, app, ext)
        if state is None or not state[1]:
            self._check_room(tx, app)
        deleted_at = float(state[2].get("deleted_at", 0)) if state is not None and not state[1] else None
        if deleted_at is not None and now - deleted_at < app.limits.reimport_cooldown:
            raise Conflict("deleted_account", ext)
        if state is None:
            (ord_,) = self.subjects.create(tx, app, [ext], int(now))
            props: dict[str, Any] = {}
        else:
            ord_, props = state[0], {k: v for k, v in state[2].items() if k != "deleted_at"}
        props.update(profile or {})
        tx.set_subject_fields(app.id, ord_, active=1, props=json.dumps(props, ensure_ascii=False, sort_keys=True))
        return ord_

    def _check_room(self, tx: Tx, app: App) -> None:
        cap = app.limits.max_accounts
        if cap is not None and tx.count_subjects(app.id) + 1 > cap:
            raise LimitExceeded("accounts_per_app", tx.count_subjects(app.id) + 1, cap)

    def delete_one(self, tx: Tx, app: App, user_id: str) -> bool:
        """Delete an imported account with its tags and attributes; False if it was not imported."""
        state = self._state(tx, app, user_id)
        if state is None or not state[1]:
            return False
        ord_, _, props = state
        self.user_tags.clear(tx, app, [ord_])
        tx.delete_subject_attrs(app.id, ord_)
        props = {**props, "deleted_at": self.clock.now()}
        tx.set_subject_fields(app.id, ord_, active=0, props=json.dumps(props, ensure_ascii=False, sort_keys=True))
        return True

    # batches (per-item results; the batch itself is all or nothing only for its size) ---------
    def import_many(self, tx: Tx, app: App, items: Sequence[tuple[object, Mapping[str, str]]]) -> list[str]:
        """Import each account; returns the ids that failed (invalid, deleted too recently, no room)."""
        check_batch(app, "accounts", len(items))
        failed = []
        for user_id, profile in items:
            try:
                self.import_one(tx, app, user_id, profile)
            except (Invalid, Conflict, LimitExceeded):  # raised before any write of this item
                failed.append(user_id if isinstance(user_id, str) else "" if user_id is None else str(user_id))
        return failed

    def delete_many(self, tx: Tx, app: App, ids: Sequence[str]) -> list[bool]:
        check_batch(app, "accounts", len(ids))
        return [self.delete_one(tx, app, i) for i in ids]

    def check_many(self, app: App, ids: Sequence[str]) -> list[bool]:
        check_batch(app, "accounts", len(ids))
        have = self.subjects.find(app, ids, active=True)
        return [i in have for i in ids]
