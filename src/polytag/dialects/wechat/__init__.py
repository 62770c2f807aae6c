"""The WeChat Official Account dialect: `/cgi-bin/` tags, followers, blacklist and access tokens."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import Any

from polytag.core.ids import generated_ext_ids
from polytag.core.limits import Limits
from polytag.core.models import App
from polytag.core.service import Service
from polytag.dialects import Console, Dialect, Endpoint, from_errors
from polytag.dialects.wechat import auth, callbacks, errors, routes
from polytag.store import Tx

LIMITS = Limits(
    tags_per_app=100,            # 45056; reserved tags 0/1/2 do not count
    tags_per_subject=20,         # 45059
    tag_name_max=30,             # 45158: 30 bytes of UTF-8 (the docs also say "characters")
    tag_name_unit="bytes",
    page_size=10_000,            # user/get, user/tag/get, getblacklist
    tag_delete_max_members=100_000,  # 45057
    batch={"tagging": 50, "blacklist": 20, "info": 100,  # 40032
           "send": 10_000},            # mass/send: at most 10,000 openids (40130)
    send_list_min=2,                   # ... and at least two (40130)
    sends_per_period=4,                # 45028: a service account's 4 mass sends a calendar month
    send_period="month",               #   (a subscription account: {sends_per_period: 1, send_period: day})
    send_key_max=64,                   # 45067: clientmsgid up to 64 bytes
    remark_max=30,               # user/info/updateremark: 30 characters
    token_refresh_per_day=20,    # stable_token force_refresh: 20 a day (45009) ...
    token_refresh_gap=30.0,      # ... at least 30 s apart (45011)
    # 45009: the public "接口频率限制" table for a verified account (stable_token: 500,000 a day,
    # spec A2); `*` covers the rest (our choice)
    daily_quotas={
        "token": 2000, "stable_token": 500_000, "user/get": 500_000, "user/info": 5_000_000,
        "user/info/batchget": 5_000_000, "user/info/updateremark": 10_000, "*": 100_000,
    },
)

APP_CONFIG = {"id_scheme": "numeric", "id_base": 99, "reserved_tags": ["0", "1", "2"]}


def _followers(items: Any) -> tuple[list[str], dict[str, str]]:
    """Openids, and the languages of those given as `{openid, language}`."""
    openids, languages = [], {}
    for item in items:
        if isinstance(item, Mapping):
            openids.append(str(item["openid"]))
            if item.get("language"):
                languages[openids[-1]] = str(item["language"])
        else:
            openids.append(str(item))
    return openids, languages


def seed_app(service: Service, entry: Mapping[str, Any]) -> App:
    """`{dialect: wechat, appid, secret, followers: [openid | {openid, language}, ..] | {generate: N},
    tags: [{name}], limits: {..}, wrong_secret_code: one of errors.WRONG_SECRET_CODES,
    original_id: gh_..}`
    (and `callback:`, which polytag.seed applies for every dialect that pushes callbacks)."""
    appid, secret = str(entry["appid"]), str(entry["secret"])
    followers = entry.get("followers") or []
    if isinstance(followers, Mapping):
        followers = generated_ext_ids(f"wechat:{appid}", int(followers.get("generate", 0)))
    followers, languages = _followers(followers)
    config: dict[str, Any] = {**APP_CONFIG, **({"limits": entry["limits"]} if "limits" in entry else {})}
    if languages:  # user/info `language`: the follower's own (zh_CN when the seed says nothing)
        config[routes.LANGUAGES] = languages
    if "wrong_secret_code" in entry:  # which code a wrong secret gets at token time (spec A2: 40001 or 40125)
        code = int(entry["wrong_secret_code"])
        if code not in errors.WRONG_SECRET_CODES:
            raise ValueError(f"wrong_secret_code must be one of {errors.WRONG_SECRET_CODES}, not {code}")
        config["wrong_secret_code"] = code
    if "original_id" in entry:
        config["original_id"] = str(entry["original_id"])
    names = [str(t["name"] if isinstance(t, Mapping) else t) for t in entry.get("tags") or []]

    def op(tx: Tx) -> App:
        now = service.clock.now()
        app, _ = service.apps.upsert(tx, "wechat", appid, secret_hash=auth.secret_hash(secret),
                                     config=config, now=now)
        service.tags.create(tx, app, routes.STARRED[1], ext_id=routes.STARRED[0], reserved=True, exists_ok=True)
        service.subjects.create(tx, app, [str(f) for f in followers], int(now))
        for name in names:
            service.tags.create(tx, app, name, now_ms=int(now * 1000), exists_ok=True)
        return app

    return service.write_sync(op)


def fixture_entry(tag: str) -> dict[str, Any]:
    return {"appid": f"wx{tag}", "secret": secrets.token_hex(16)}


DIALECT = Dialect(
    name="wechat",
    prefix="/cgi-bin",
    endpoints=routes.ENDPOINTS,
    limits=LIMITS,
    authenticate=auth.authenticate,
    seed_app=seed_app,
    **from_errors(errors),
    content_type="application/json; encoding=utf-8",
    app_hint=auth.app_hint,
    fixture_entry=fixture_entry,
    seed_keys=("appid", "secret"),
    testing="polytag.dialects.wechat.testing",
    console=Console(hue="green"),
    callbacks=callbacks.FACE,
)

__all__ = ["DIALECT", "LIMITS", "Endpoint"]
