"""Limits an app lives under. Each dialect ships a preset; the app keeps a copy it may override."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal


@dataclass(frozen=True)
class Limits:
    """Counted limits, enforced by the core. None means unlimited.

    Order of enforcement for a membership change (documented in docs/compat/*):
    batch size, then the tag, then each subject, then per-subject caps, then per-app caps.
    """

    tags_per_app: int | None = None
    tags_per_subject: int | None = None
    tag_name_max: int = 64
    tag_name_unit: Literal["bytes", "chars"] = "chars"
    page_size: int = 10_000
    tag_delete_max_members: int | None = None
    batch: Mapping[str, int] = field(default_factory=dict)

    def batch_max(self, kind: str) -> int | None:
        return self.batch.get(kind)

    def measure(self, name: str) -> int:
        return len(name.encode("utf-8")) if self.tag_name_unit == "bytes" else len(name)

    def with_overrides(self, overrides: Mapping[str, Any] | None) -> Limits:
        if not overrides:
            return self
        known = {k: v for k, v in overrides.items() if k in self.__dataclass_fields__}
        if "batch" in known:
            known["batch"] = {**self.batch, **known["batch"]}
        return replace(self, **known)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["batch"] = dict(self.batch)
        return d
