"""Messages sent to an audience: who each send reached at send time, the send cap per period,
de-duplication by the caller's key, deletion, and the pace an app sends at.

Every send is recorded with its audience resolved inside the send's own transaction:
- "all": every active subject; "tag": active subjects carrying the tag;
- "list": the listed ids that are active subjects of the app (others are skipped);
- "preview": the one listed subject, or nobody when the target is not a subject id;
blacklisted subjects are left out of every audience. The vendor-facing id of a send is made
by the caller (`make_id`) from the send's sequence number and stored with it.
"""

from __future__ import annotations

import datetime as dt
import json
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pyroaring import BitMap

from polytag.core.models import App
from polytag.core.quotas import day_start
from polytag.errors import Conflict, Invalid, LimitExceeded, NotFound
from polytag.store import Tx

if TYPE_CHECKING:
    from polytag.core.parts import Deps
    from polytag.core.service import Service

KINDS = ("all", "tag", "list", "preview")
DEDUPE_SECONDS = 86_400      # a key used again within a day is refused (the first send answers)
RETRY_FAST_SECONDS = 10      # ... and within this many seconds it is refused as a retry too fast
UTC8 = dt.timezone(dt.timedelta(hours=8))


def period_start(now: float, period: str) -> float:
    """Start of the calendar day or month containing `now`, in UTC+8 (vendors in China)."""
    if period == "day":
        return day_start(now)
    local = dt.datetime.fromtimestamp(now, UTC8)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


@dataclass(frozen=True)
class Message:
    """What is sent: its type, its content object, and options (both as the caller gave them)."""

    msgtype: str
    content: Mapping[str, Any]
    options: Mapping[str, Any]


@dataclass(frozen=True)
class SendRecord:
    seq: int
    id: str
    created_at: float
    kind: str
    target: str
    message: Message
    dedupe_key: str
    counted: bool
    status: str
    audience: list[str]

    def to_json(self, app: App) -> dict[str, Any]:
        """The record as the control plane shows it (IM push tasks take the same shape)."""
        return {
            "id": self.id, "app": app.name, "dialect": app.dialect, "kind": self.kind, "target": self.target,
            "msgtype": self.message.msgtype, "message": dict(self.message.content),
            "options": dict(self.message.options), "created_at": self.created_at, "status": self.status,
            "dedupe_key": self.dedupe_key, "audience_size": len(self.audience), "audience": self.audience,
        }


class Sends:
    """The send log, built from the core pieces it reads (no reference back to the Service)."""

    def __init__(self, deps: Deps) -> None:
        self.store, self.clock, self.tags = deps.store, deps.clock, deps.tags
        self.memberships, self.subjects = deps.memberships, deps.subjects

    # audiences ------------------------------------------------------------------
    def audience(self, tx: Tx, app: App, kind: str, target: str, ext_ids: Sequence[str] = ()) -> BitMap:
        """Ordinals the send reaches now (see the module docstring); NotFound("send_tag") for an
        unknown tag."""
        if kind not in KINDS:
            raise Invalid("kind", "unknown", kind)
        if kind == "tag":
            try:
                tag = self.tags.get(app, target, tx)
            except NotFound:
                raise NotFound("send_tag", target) from None
            idx = self.memberships.index(app, tx)
            with idx.lock:
                chosen = BitMap(idx.members(tag.ord))
        elif kind == "all":
            chosen = BitMap(tx.active_ords(app.id))
        else:
            chosen = BitMap(self.subjects.find(app, ext_ids, tx).values())
        active = BitMap(tx.active_ords(app.id))
        return (chosen & active) - BitMap(tx.blacklisted_ords(app.id))

    # sending --------------------------------------------------------------------
    def check_list(self, app: App, ext_ids: Sequence[str]) -> None:
        """A listed send's size: LimitExceeded("send_list") below send_list_min or above batch["send"]."""
        low, high = app.limits.send_list_min, app.limits.batch_max("send")
        if len(ext_ids) < low:
            raise LimitExceeded("send_list", len(ext_ids), low)
        if high is not None and len(ext_ids) > high:
            raise LimitExceeded("send_list", len(ext_ids), high)

    def check_key(self, app: App, key: str) -> None:
        if len(key.encode("utf-8")) > app.limits.send_key_max:
            raise Invalid("dedupe_key", "too_long", key)

    def send(
        self, tx: Tx, app: App, kind: str, message: Message, make_id: Callable[[int], str],
        target: str = "", ext_ids: Sequence[str] = (), dedupe_key: str = "", counted: bool = True,
    ) -> SendRecord:
        """Record one send. Order: list size, key length, the key's earlier use, the audience (tag), the cap."""
        now = self.clock.now()
        if kind == "list":
            self.check_list(app, ext_ids)
        self.check_key(app, dedupe_key)
        if dedupe_key:
            self._check_repeat(tx, app, dedupe_key, now)
        members = self.audience(tx, app, kind, target, ext_ids)
        if counted:
            self._check_cap(tx, app, now)
        seq = tx.next_send_seq(app.id)
        ext_id = make_id(seq)
        row = (seq, ext_id, now, kind, target, message.msgtype, _dumps(message.content), _dumps(message.options),
               dedupe_key, 1 if counted else 0, "sent", len(members), members.serialize())
        tx.insert_send(app.id, row)
        return SendRecord(seq, ext_id, now, kind, target, message, dedupe_key, counted, "sent",
                          self.subjects.ext_ids(app, list(members), tx))

    def _check_repeat(self, tx: Tx, app: App, key: str, now: float) -> None:
        same = tx.send_by_key(app.id, key, now - DEDUPE_SECONDS)
        if same is None:
            return
        first_id, at = str(same[1]), float(same[2])
        raise Conflict("send_retry" if now - at < RETRY_FAST_SECONDS else "send_key", first_id)

    def _check_cap(self, tx: Tx, app: App, now: float) -> None:
        cap = app.limits.sends_per_period
        if cap is None:
            return
        done = tx.count_counted_sends_since(app.id, period_start(now, app.limits.send_period))
        if done >= cap:
            raise LimitExceeded("sends_per_period", done + 1, cap)

    # reading and deleting -------------------------------------------------------------
    def get(self, app: App, ext_id: str, rows: Any = None) -> SendRecord:
        """One send by its id; NotFound("send") when the app has none such."""
        rows = rows or self.store.read()
        row = rows.send_by_ext(app.id, ext_id) if ext_id else None
        if row is None:
            raise NotFound("send", ext_id)
        return self._record(app, row, rows)

    def delete(self, tx: Tx, app: App, ext_id: str) -> SendRecord:
        """Mark a send deleted (its record and audience stay)."""
        record = self.get(app, ext_id, tx)
        tx.set_send_status(app.id, record.seq, "deleted")
        return record

    def log(self, app: App) -> list[SendRecord]:
        rows = self.store.read()
        return [self._record(app, r, rows) for r in rows.sends(app.id)]

    def _record(self, app: App, row: tuple[Any, ...], rows: Any) -> SendRecord:
        seq, ext, at, kind, target, msgtype, content, options, key, counted, status, _size, blob = row
        ords = list(BitMap.deserialize(bytes(blob)))
        return SendRecord(int(seq), str(ext), float(at), str(kind), str(target),
                          Message(str(msgtype), json.loads(content or "{}"), json.loads(options or "{}")),
                          str(key), bool(counted), str(status), self.subjects.ext_ids(app, ords, rows))

    # pace ---------------------------------------------------------------------------
    def pace(self, app: App, default: int = 0) -> int:
        level = self.store.read().send_pace(app.id)
        return default if level is None else level

    def set_pace(self, tx: Tx, app: App, level: int | None, levels: int) -> None:
        """Set the pace to a level in 0..levels-1; Invalid("pace", "missing" | "range") otherwise."""
        if level is None:
            raise Invalid("pace", "missing")
        if not 0 <= level < levels:
            raise Invalid("pace", "range", level)
        tx.set_send_pace(app.id, level)


def _dumps(value: Mapping[str, Any]) -> str:
    return json.dumps(dict(value), ensure_ascii=False, separators=(",", ":"))


_parts: weakref.WeakKeyDictionary[Service, Sends] = weakref.WeakKeyDictionary()


def sends(service: Service) -> Sends:
    """The service's send log (made on first use: the Service needs no field for it)."""
    part = _parts.get(service)
    if part is None:
        part = _parts[service] = Sends(service.parts.deps)
    return part
