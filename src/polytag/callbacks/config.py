"""Per-app callback configuration `{url, token, encoding_aes_key, mode}`: parsed, checked field
by field (ConfigError names the field), kept in the app's config under `callback`."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from polytag.callbacks import envelope
from polytag.core.models import App
from polytag.core.text import storable

if TYPE_CHECKING:
    from polytag.core.service import Service
    from polytag.store import Tx

CONFIG_KEY = "callback"  # in App.config
FIELDS = ("url", "token", "encoding_aes_key", "mode")
URL_MAX = 2048
TOKEN = re.compile(r"[A-Za-z0-9]{3,32}")  # the vendors: "英文或数字，长度为3-32字符" (at most 32)


class ConfigError(ValueError):
    """A configuration the server cannot use; `field` names what is wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"`{field}` {reason}")
        self.field, self.reason = field, reason


@dataclass(frozen=True)
class CallbackConfig:
    url: str
    token: str
    encoding_aes_key: str
    mode: str

    @property
    def encrypted(self) -> bool:
        return self.mode != "plain"

    def key(self) -> bytes:
        return envelope.aes_key(self.encoding_aes_key)

    def to_json(self) -> dict[str, str]:
        return {"url": self.url, "token": self.token, "encoding_aes_key": self.encoding_aes_key,
                "mode": self.mode}


def parse(doc: Any, modes: Sequence[str], where: str = "") -> CallbackConfig:
    """The configuration `doc` describes; ConfigError naming the first bad field. `modes`: the
    dialect's, its first the default; an encoding_aes_key is required unless the mode is plain."""
    if not isinstance(doc, Mapping):
        raise ConfigError(where or "callback", "must be an object {url, token, encoding_aes_key, mode}")
    unknown = sorted(str(k) for k in doc if k not in FIELDS)
    if unknown:
        raise ConfigError(where + unknown[0], f"is not a field (fields: {', '.join(FIELDS)})")
    mode = _text(doc, "mode", where, modes[0])
    if mode not in modes:
        raise ConfigError(where + "mode", f"must be one of {', '.join(modes)}, not {mode[:40]!r}")
    url = check_url(_text(doc, "url", where), where)
    token = _text(doc, "token", where)
    if not TOKEN.fullmatch(token):
        raise ConfigError(where + "token", "must be 3 to 32 letters or digits")
    key = _text(doc, "encoding_aes_key", where, "" if mode == "plain" else None)
    if key or mode != "plain":
        try:
            envelope.aes_key(key)
        except ValueError as exc:
            raise ConfigError(where + "encoding_aes_key", str(exc)) from None
    return CallbackConfig(url, token, key, mode)


def _text(doc: Mapping[str, Any], name: str, where: str, default: str | None = None) -> str:
    value = doc.get(name, default)
    if value is None:
        raise ConfigError(where + name, "is required")
    if not isinstance(value, str) or not storable(value):
        raise ConfigError(where + name, "must be a string")
    return value


def check_url(url: str, where: str = "") -> str:
    if len(url) > URL_MAX:
        raise ConfigError(where + "url", f"is longer than {URL_MAX} characters")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  # a port that is not a number raises here
    except ValueError as exc:
        raise ConfigError(where + "url", f"is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(where + "url", "must be an absolute http:// or https:// URL")
    if parts.fragment or any(c.isspace() for c in url):
        raise ConfigError(where + "url", "may hold no fragment and no whitespace")
    return url


def of_app(app: App) -> CallbackConfig | None:
    """The app's configuration, or None (a stored one that no longer parses counts as none)."""
    doc = app.config.get(CONFIG_KEY)
    if not isinstance(doc, Mapping):
        return None
    try:
        return parse(doc, (str(doc.get("mode", "plain")),))
    except ConfigError:
        return None



def _keep(service: Service, app: App, cfg: CallbackConfig | None) -> Callable[[Tx], None]:
    """The write that keeps `cfg` in the app's config (None: drops it)."""

    def op(tx: Tx) -> None:
        current = service.apps.by_id(app.id, tx)
        secret_hash, secret = service.apps.secret_of(current, tx)
        config = {k: v for k, v in current.config.items() if k != CONFIG_KEY}
        if cfg is not None:
            config[CONFIG_KEY] = cfg.to_json()
        service.apps.upsert(tx, current.dialect, current.name, secret_hash=secret_hash, secret=secret,
                            config=config, now=current.created_at)

    return op


def save(service: Service, app: App, cfg: CallbackConfig | None) -> None:
    """Keep `cfg` as the app's callback configuration (a seed's; None: none)."""
    service.write_sync(_keep(service, app, cfg))


async def store(service: Service, app: App, cfg: CallbackConfig | None) -> None:
    """`save` from a coroutine (the control plane's)."""
    await service.write(_keep(service, app, cfg), app=app)
