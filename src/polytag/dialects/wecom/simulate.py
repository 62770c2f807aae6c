"""What `POST /_polytag/simulate` can do to a WeCom corp, standing for WeCom's client and admin
console (whose changes WeCom pushes, unlike those made through the API): a member adds, edits or
deletes a customer, a customer deletes the member, an admin creates, edits, deletes or reorders
corp tags and groups. Each changes what the dialect serves and returns the events WeCom pushes."""

from __future__ import annotations

import contextlib
import re
import secrets
import string
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

from polytag.callbacks.face import Event
from polytag.core.contacts import Mark
from polytag.core.groups import check_order
from polytag.core.models import App
from polytag.core.service import Service
from polytag.dialects.wecom import parts
from polytag.dialects.wecom.callbacks import contact_event, tag_event
from polytag.errors import Conflict, Invalid, LimitExceeded, NotFound
from polytag.store import Tx

ID = re.compile(r"[A-Za-z0-9_@.-]{1,64}")  # userids and external_userids
TEXT_MAX = 64
T = TypeVar("T")


@contextlib.contextmanager
def _refused() -> Iterator[None]:
    """A rule the change broke, as the 400 `simulate` answers."""
    try:
        yield
    except NotFound as exc:
        raise ValueError(f"no {exc.kind} {exc.key!r} in this corp") from None
    except Conflict as exc:
        raise ValueError(f"the {exc.kind.replace('_', ' ')} {exc.key!r} is taken") from None
    except Invalid as exc:
        raise ValueError(f"`{exc.field}`: {exc.reason.replace('_', ' ')}") from None
    except LimitExceeded as exc:
        raise ValueError(f"over the {exc.limit} limit ({exc.allowed})") from None


def _id(doc: Mapping[str, Any], key: str, required: bool = True) -> str:
    value = doc.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not ID.fullmatch(value):
        raise ValueError(f"`{key}` must be 1 to 64 letters, digits, _, -, @ or .")
    return value


def _text(doc: Mapping[str, Any], key: str, limit: int = TEXT_MAX) -> str | None:
    value = doc.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.isprintable() or not 0 < len(value) <= limit:
        raise ValueError(f"`{key}` must be 1 to {limit} printable characters")
    return value


def _ids(doc: Mapping[str, Any], key: str) -> list[str]:
    value = doc.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= TEXT_MAX for v in value):
        raise ValueError(f"`{key}` must be a list of ids")
    return list(value)


def _order(doc: Mapping[str, Any]) -> int | None:
    value = doc.get("order")
    if value is None:
        return None
    with _refused():
        return check_order(value)


async def _write(svc: Service, app: App, op: Callable[[Tx], T]) -> T:
    with _refused():
        return await svc.write(op, app=app)


# customers (a member in WeCom's client) ------------------------------------------------------
def _new_external_userid() -> str:
    return "wm" + "".join(secrets.choice(string.ascii_letters + string.digits + "_-") for _ in range(30))


def _profile_config(app: App, tx: Tx, svc: Service, ext: str, unionid: str | None, name: str | None) -> None:
    """Remember a new customer's name and unionid as the seed would (profiles, unionid map)."""
    config = dict(app.config)
    config["profiles"] = {**(config.get("profiles") or {}), ext: [unionid or "", name or ""]}
    if unionid:
        config["customer_by_unionid"] = {**(config.get("customer_by_unionid") or {}), unionid: ext}
    secret_hash, secret = svc.apps.secret_of(app, tx)
    svc.apps.upsert(tx, app.dialect, app.name, secret_hash=secret_hash, secret=secret, config=config,
                    now=app.created_at)


async def add_customer(svc: Service, app: App, doc: Mapping[str, Any]) -> list[Event]:
    """A member adds a customer (new to the corp, or one another member has): add_external_contact
    with `State` (the 联系我 config's state, when given) and a `WelcomeCode`."""
    user_id, ext = _id(doc, "userid"), _id(doc, "external_userid", required=False) or _new_external_userid()
    name, unionid, state = _text(doc, "name"), _text(doc, "unionid"), _text(doc, "state", 30)
    contacts = parts.contacts(svc)

    def op(tx: Tx) -> int:
        if not tx.member_exists(app.id, user_id):
            raise NotFound("member", user_id)
        if tx.friend_ord(app.id, ext, user_id) is not None:
            raise ValueError(f"{ext} is already a customer of {user_id}")
        if not tx.customer_exists(app.id, ext) and (name or unionid):
            _profile_config(svc.apps.by_id(app.id, tx), tx, svc, ext, unionid, name)
        now = svc.now_s()
        contacts.add_customer(tx, app, ext, [user_id], now)
        return now

    now = await _write(svc, app, op)
    extra = {"State": state} if state else {}
    welcome = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43))
    return [contact_event(app, now, "add_external_contact", user_id, ext, {**extra, "WelcomeCode": welcome})]


async def edit_customer(svc: Service, app: App, doc: Mapping[str, Any]) -> list[Event]:
    """A member edits a customer (remark, mobile or tags): `add_tag`/`remove_tag` mark corp tags as
    mark_tag does; edit_external_contact."""
    user_id, ext = _id(doc, "userid"), _id(doc, "external_userid")
    add, remove = _ids(doc, "add_tag"), _ids(doc, "remove_tag")
    contacts = parts.contacts(svc)

    def op(tx: Tx) -> int:
        contacts.pair(tx, app, user_id, ext)
        if add or remove:
            contacts.mark(tx, app, [Mark(user_id, ext, add, remove)])
        return svc.now_s()

    now = await _write(svc, app, op)
    return [contact_event(app, now, "edit_external_contact", user_id, ext)]


async def del_customer(svc: Service, app: App, doc: Mapping[str, Any]) -> list[Event]:
    """The friendship ends, with the member's marks on the customer: `by` "member" (the member
    deleted the customer: del_external_contact, the default) or "customer" (the customer deleted
    the member: del_follow_user). A customer no member follows any more is no external contact."""
    user_id, ext = _id(doc, "userid"), _id(doc, "external_userid")
    by = doc.get("by", "member")
    if by not in ("member", "customer"):
        raise ValueError('`by` must be "member" (del_external_contact) or "customer" (del_follow_user)')
    contacts = parts.contacts(svc)

    def op(tx: Tx) -> int:
        contacts.drop_friend(tx, app, user_id, ext)
        return svc.now_s()

    now = await _write(svc, app, op)
    change = "del_external_contact" if by == "member" else "del_follow_user"
    return [contact_event(app, now, change, user_id, ext)]


# corp tags (an admin in the admin console) ---------------------------------------------------
async def create_tag(svc: Service, app: App, doc: Mapping[str, Any]) -> list[Event]:
    """`name` (and `order`) into the group `group_id`, or the group named `group_name` (created
    when absent, with `group_order`): create, TagType tag_group for a new group (its tag comes
    with it), else TagType tag."""
    name, group_id, group_name = _text(doc, "name"), doc.get("group_id"), _text(doc, "group_name")
    if name is None or (group_id is None and group_name is None):
        raise ValueError("`name` and one of `group_id`, `group_name` are required")
    if group_id is not None and not isinstance(group_id, str):
        raise ValueError("`group_id` must be a group's id")
    order, group_order = _order(doc) or 0, _order({"order": doc.get("group_order")}) or 0

    def op(tx: Tx) -> tuple[bool, str, str]:
        before = {str(r[1]) for r in tx.groups(app.id)}  # (ord, ext_id, ...)
        got = svc.groups.add_tags(tx, app, [(name, order)], group_ext=group_id or None, group_name=group_name,
                                  group_order=group_order, now_ms=svc.now_s() * 1000)
        return got.group.ext_id not in before, got.group.ext_id, got.tags[0].ext_id

    new_group, gid, tid = await _write(svc, app, op)
    now = svc.now_s()
    return [tag_event(app, now, "create", gid, "tag_group") if new_group else tag_event(app, now, "create", tid, "tag")]


def _kind(svc: Service, app: App, ext: str, tx: Tx) -> str:
    """"tag" or "tag_group" for an id of the corp; NotFound("tag") otherwise."""
    with contextlib.suppress(NotFound):
        svc.groups.tag(app, ext, tx)
        return "tag"
    try:
        svc.groups.group(app, ext, tx)
    except NotFound:
        raise NotFound("tag or group", ext) from None
    return "tag_group"


async def edit_tag(svc: Service, app: App, doc: Mapping[str, Any]) -> list[Event]:
    """Rename or reorder a tag or a group (`id`, `name`, `order`): update."""
    ext, name, order = _id(doc, "id"), _text(doc, "name"), _order(doc)

    def op(tx: Tx) -> str:
        kind = _kind(svc, app, ext, tx)
        if kind == "tag":
            svc.groups.edit_tag(tx, app, ext, name=name, order=order)
        else:
            svc.groups.edit_group(tx, app, ext, name=name, order=order)
        return kind

    kind = await _write(svc, app, op)
    return [tag_event(app, svc.now_s(), "update", ext, kind)]


async def delete_tag(svc: Service, app: App, doc: Mapping[str, Any]) -> list[Event]:
    """Delete a tag or a group (`id`): delete. A group goes with its tags and WeCom pushes the
    group's event only; a group left without tags goes too, and its delete follows the tag's."""
    ext = _id(doc, "id")

    def op(tx: Tx) -> list[tuple[str, str]]:
        if _kind(svc, app, ext, tx) == "tag_group":
            svc.groups.delete_groups(tx, app, [ext])
            return [(ext, "tag_group")]
        group = next(g.group for g in svc.groups.listing(app, tx) if any(t.ext_id == ext for t in g.tags))
        svc.groups.delete_tags(tx, app, [ext])
        emptied = tx.group_by_ord(app.id, group.ord) is None
        return [(ext, "tag"), *([(group.ext_id, "tag_group")] if emptied else [])]

    gone = await _write(svc, app, op)
    now = svc.now_s()
    return [tag_event(app, now, "delete", e, kind) for e, kind in gone]


def _reordered(listed: Sequence[str], given: Sequence[str], what: str) -> list[str]:
    if sorted(given) != sorted(listed) or len(set(given)) != len(given):
        raise ValueError(f"`order` must list every {what} once ({len(listed)} ids)")
    return list(given)


async def shuffle(svc: Service, app: App, doc: Mapping[str, Any]) -> list[Event]:
    """Reorder (`order`: ids, first shown first) the tags of `group_id`, or, without it, the groups:
    shuffle, Id the group (empty when the groups were reordered)."""
    group_id, given = doc.get("group_id"), _ids(doc, "order")
    if group_id is not None and not isinstance(group_id, str):
        raise ValueError("`group_id` must be a group's id")

    def op(tx: Tx) -> None:
        listing = svc.groups.listing(app, tx)
        if group_id is None:
            ids = _reordered([g.group.ext_id for g in listing], given, "group of the corp")
            for rank, ext in enumerate(reversed(ids), start=1):
                svc.groups.edit_group(tx, app, ext, order=rank)
            return
        tags = next((g.tags for g in listing if g.group.ext_id == group_id), None)
        if tags is None:
            raise NotFound("group", group_id)
        ids = _reordered([t.ext_id for t in tags], given, f"tag of group {group_id}")
        for rank, ext in enumerate(reversed(ids), start=1):
            svc.groups.edit_tag(tx, app, ext, order=rank)

    await _write(svc, app, op)
    return [tag_event(app, svc.now_s(), "shuffle", group_id or "", None)]


ACTIONS = {"add_customer": add_customer, "edit_customer": edit_customer, "del_customer": del_customer,
           "create_tag": create_tag, "edit_tag": edit_tag, "delete_tag": delete_tag, "shuffle": shuffle}
