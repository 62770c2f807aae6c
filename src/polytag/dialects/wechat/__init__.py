"""The WeChat Official Account dialect: `/cgi-bin/` tags, followers, blacklist and access tokens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from polytag.callbacks import config as callback_config
from polytag.core.ids import generated_ext_ids
from polytag.core.limits import Limits
from polytag.core.models import App
from polytag.core.service import Service
from polytag.dialects import Dialect, Endpoint, VendorError
from polytag.dialects.wechat import auth, callbacks, errors, routes
from polytag.store import Tx

LIMITS = Limits(
    tags_per_app=100,            # 45056; reserved tags 0/1/2 do not count
    tags_per_subject=20,         # 45059
    tag_name_max=30,             # 45158: 30 bytes of UTF-8 (the docs also say "characters")
    tag_name_unit="bytes",
    page_size=10_000,            # user/get, user/tag/get, getblacklist
    tag_delete_max_members=100_000,  # 45057
    batch={"tagging": 50, "blacklist": 20, "info": 100},  # 40032
)

WRONG_SECRET_CODES = (40125, 40001)
APP_CONFIG = {"id_scheme": "numeric", "id_base": 99, "reserved_tags": ["0", "1", "2"]}


def seed_app(service: Service, entry: Mapping[str, Any]) -> App:
    """`{dialect: wechat, appid, secret, followers: [..] | {generate: N}, tags: [{name}],
    limits: {..}, wrong_secret_code: 40125 | 40001, original_id: gh_.., callback: {url, token,
    encoding_aes_key, mode: plain | compat | safe}}`."""
    appid, secret = str(entry["appid"]), str(entry["secret"])
    followers = entry.get("followers") or []
    if isinstance(followers, Mapping):
        followers = generated_ext_ids(f"wechat:{appid}", int(followers.get("generate", 0)))
    config: dict[str, Any] = {**APP_CONFIG, **({"limits": entry["limits"]} if "limits" in entry else {})}
    if "wrong_secret_code" in entry:  # which code a wrong secret gets at token time (spec A2: 40001 or 40125)
        code = int(entry["wrong_secret_code"])
        if code not in WRONG_SECRET_CODES:
            raise ValueError(f"wrong_secret_code must be one of {WRONG_SECRET_CODES}, not {code}")
        config["wrong_secret_code"] = code
    if "callback" in entry:  # a ConfigError (a ValueError) names the field
        config["callback"] = callback_config.parse(entry["callback"], callbacks.MODES, "callback.").to_json()
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


DIALECT = Dialect(
    name="wechat",
    prefix="/cgi-bin",
    endpoints=routes.ENDPOINTS,
    limits=LIMITS,
    authenticate=auth.authenticate,
    render_error=errors.render,
    wrong_method=lambda ep: VendorError(43002 if "POST" in ep.methods else 43001),  # user/tag/get: POST now
    unknown_path=lambda path: VendorError(40066, path),
    seed_app=seed_app,
    new_rid=errors.new_rid,
    content_type="application/json; encoding=utf-8",
    callbacks=callbacks.FACE,
)

__all__ = ["DIALECT", "LIMITS", "Endpoint"]
