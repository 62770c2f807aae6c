"""Row classes by noun, combined into one `Rows` every backend executes with portable SQL."""

from polytag.store.rows.apps import AppRows
from polytag.store.rows.attributes import AttributeRows
from polytag.store.rows.contacts import ContactRows
from polytag.store.rows.memberships import MembershipRows
from polytag.store.rows.pushes import PushRows
from polytag.store.rows.sends import SendRows
from polytag.store.rows.snapshots import SnapshotRows
from polytag.store.rows.subjects import SubjectRows
from polytag.store.rows.tags import TagRows
from polytag.store.rows.tokens import TokenRows


class Rows(AppRows, SubjectRows, TagRows, MembershipRows, TokenRows, AttributeRows, PushRows, ContactRows, SendRows, SnapshotRows):
    """Every row operation; a backend subclasses it and supplies `_exec`/`_executemany`."""


__all__ = ["Rows"]
