"""Account attributes: an app names up to N slots ("0".."9"); accounts hold one value per slot.

Values are stored by slot, so renaming a slot keeps its values. Unknown names, bad slots,
duplicate names and oversize names or values are all Invalid/NotFound on "attribute".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pyroaring import BitMap

from polytag.core.batches import check_batch
from polytag.core.models import App
from polytag.core.subjects import Subjects
from polytag.errors import Invalid, NotFound
from polytag.store import Store, Tx
from polytag.store.rows import Rows

SLOTS = 10
MAX_BYTES = 50


def _check_text(field: str, value: object, max_bytes: int) -> str:
    if not isinstance(value, str):
        raise Invalid(field, "type", value)
    if not value:
        raise Invalid(field, "empty", value)
    if len(value.encode("utf-8")) > max_bytes:
        raise Invalid(field, "too_long", value)
    return value


class Attributes:
    def __init__(self, store: Store, subjects: Subjects) -> None:
        self.store = store
        self.subjects = subjects

    def _max(self, app: App) -> int:
        return app.limits.attr_max_bytes

    # names ------------------------------------------------------------------
    def names(self, app: App, rows: Rows | None = None) -> dict[int, str]:
        return {int(s): str(n) for s, n in (rows or self.store.read()).attr_names(app.id)}

    def slot_of(self, app: App, name: str, rows: Rows | None = None) -> int:
        for slot, n in self.names(app, rows).items():
            if n == name:
                return slot
        raise NotFound("attribute", name)

    def set_names(self, tx: Tx, app: App, names: Mapping[str, object]) -> None:
        """Name the given slots (others keep theirs); names stay unique within the app."""
        slots = app.limits.attr_slots
        merged = self.names(app, tx)
        for key, name in names.items():
            # ASCII digits, no leading zero, a handful of them: int() never sees "²" or 5,000 digits
            if not (key.isascii() and key.isdigit() and len(key) <= 9) or str(int(key)) != key or int(key) >= slots:
                raise Invalid("attribute", "slot", key)
            merged[int(key)] = _check_text("attribute", name, self._max(app))
        if len(set(merged.values())) != len(merged):
            raise Invalid("attribute", "duplicate", names)
        for key in names:
            tx.put_attr_name(app.id, int(key), merged[int(key)])

    # values -----------------------------------------------------------------
    def set_values(self, tx: Tx, app: App, items: Sequence[tuple[str, Mapping[str, object]]]) -> None:
        """Order: batch, attribute names, values, accounts."""
        if not items:
            return
        check_batch(app, "accounts", len(items))
        resolved = []
        for _, attrs in items:
            resolved.append({self.slot_of(app, k, tx): _check_text("attribute", v, self._max(app))
                             for k, v in attrs.items()})
        ords = self.subjects.resolve(app, [a for a, _ in items], tx, active=True)
        for o, values in zip(ords, resolved, strict=True):
            for slot, value in values.items():
                tx.put_subject_attr(app.id, o, slot, value)

    def remove_values(self, tx: Tx, app: App, items: Sequence[tuple[str, Sequence[str]]]) -> None:
        if not items:
            return
        check_batch(app, "accounts", len(items))
        slots = [[self.slot_of(app, n, tx) for n in names] for _, names in items]
        ords = self.subjects.resolve(app, [a for a, _ in items], tx, active=True)
        for o, ss in zip(ords, slots, strict=True):
            for slot in ss:
                tx.delete_subject_attr(app.id, o, slot)

    def get(self, app: App, accounts: Sequence[str]) -> list[tuple[str, dict[str, str]]]:
        """Each account's attributes by slot order; {} for an account that is not imported."""
        if not accounts:
            return []
        check_batch(app, "accounts", len(accounts))
        rows = self.store.read()
        names = self.names(app, rows)
        have = self.subjects.find(app, accounts, rows, active=True)
        held: dict[int, dict[str, str]] = {o: {} for o in have.values()}
        for o, slot, value in rows.subject_attrs(app.id, list(held)):
            if int(slot) in names:
                held[int(o)][names[int(slot)]] = str(value)
        return [(a, dict(held[have[a]]) if a in have else {}) for a in accounts]

    def members(self, app: App, name: str, value: str, rows: Rows | None = None) -> BitMap:
        """Ordinals of the accounts whose attribute `name` equals `value`."""
        rows = rows or self.store.read()
        return BitMap(rows.ords_with_attr(app.id, self.slot_of(app, name, rows), value))
