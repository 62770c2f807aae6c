"""The Tencent Cloud IM dialect: `/v4/` accounts and the `all_member_push` tag, attribute and push APIs."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from polytag.core.ids import generated_ext_ids
from polytag.core.limits import Limits, check_limits
from polytag.core.models import App
from polytag.core.service import Service
from polytag.dialects import Console, Dialect, from_errors
from polytag.dialects.tencent_im import auth, commands, errors, parts, routes, timpush
from polytag.errors import Invalid
from polytag.store import Tx

LIMITS = Limits(
    tags_per_app=1000,      # timpush/add_tag: 1,000 distinct tags per app
    tags_per_subject=100,   # a user holds at most 100 tags
    tag_name_max=50,        # 90020: 50 bytes
    tag_name_unit="bytes",
    batch={"accounts": 100, "tags_per_request": 10, "condition_tags": 10},  # 90018, 90032
    # calls per second by API (spec B2/B4)
    rate_limits={"*": 100, "im_open_login_svc/account_import": 200},
    account_id_max_bytes=32,        # UserID <= 32 bytes (spec B4)
    profile_max_bytes=500,          # Nick / FaceUrl (40601)
    reimport_cooldown=90 * 86400,   # "deleted UserID cannot be re-imported within 3 months" (70399)
    attr_slots=10,                  # attribute names "0".."9"
    attr_max_bytes=50,              # attribute names and values: 50 bytes
    push_per_day=100,               # 90047
    push_min_interval=1.0,          # 90024
    push_body_max=10 * 1024,        # 90056: "The request body exceeds 10 KB."
)

# limits a seed entry may also give at its top level (an older form of `limits:`)
TOP_LEVEL_LIMITS = ("rate_limits", "push_per_day", "push_min_interval", "push_enabled", "reimport_cooldown",
                    "max_accounts", "attr_slots", "attr_max_bytes")


def _limits(entry: Mapping[str, Any]) -> dict[str, Any]:
    """The entry's limit overrides, typed and in range (Invalid naming the key otherwise)."""
    given = {k: entry[k] for k in TOP_LEVEL_LIMITS if k in entry}
    inner = entry.get("limits")
    if inner is not None and not isinstance(inner, Mapping):
        raise Invalid("limits", "type", None, "limits must be an object")
    return check_limits({**given, **(inner or {})})


def seed_app(service: Service, entry: Mapping[str, Any]) -> App:
    """`{dialect: tencent_im, sdkappid, key, admin: name | [names], accounts: [..] | {generate: N}}`."""
    sdkappid, key = str(int(entry["sdkappid"])), str(entry["key"])
    admin = entry.get("admin", "administrator")
    admins = [str(a) for a in (admin if isinstance(admin, list) else [admin])]
    accounts = entry.get("accounts") or []
    if isinstance(accounts, Mapping):
        accounts = generated_ext_ids(f"tencent_im:{sdkappid}", int(accounts.get("generate", 0)), "u", 24)
    limits = _limits(entry)
    config = {"admins": admins, **({"limits": limits} if limits else {})}

    def op(tx: Tx) -> App:
        now = service.clock.now()
        app, _ = service.apps.upsert(tx, "tencent_im", sdkappid, secret=key, config=config, now=now)
        service.subjects.create(tx, app, [str(a) for a in accounts], int(now))
        return app

    return service.write_sync(op)


def fixture_entry(tag: str) -> dict[str, Any]:
    return {"sdkappid": 1_400_000_000 + secrets.randbelow(2_800_000_000), "key": secrets.token_hex(32)}


DIALECT = Dialect(
    name="tencent_im",
    prefix="/v4",
    endpoints=[*routes.ENDPOINTS, *timpush.ENDPOINTS],
    limits=LIMITS,
    authenticate=auth.authenticate,
    seed_app=seed_app,
    **from_errors(errors),
    parts=parts.ImParts,
    app_hint=auth.app_hint,
    code_of=auth.code_of,
    fixture_entry=fixture_entry,
    seed_keys=("sdkappid", "key"),
    entry_name=lambda entry: str(int(entry["sdkappid"])),
    testing="polytag.dialects.tencent_im.testing",
    commands=commands.COMMANDS,
    console=Console(hue="blue"),
)

__all__ = ["DIALECT", "LIMITS"]
