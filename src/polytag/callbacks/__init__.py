"""Callbacks: the pushes a vendor makes to the developer's server (configuration, the encrypted
envelope, URL checks, the delivery queue and its journal). Vendor-neutral: each dialect brings a
`CallbackFace` (polytag.callbacks.face) with its message shapes, modes and simulated actions,
and sets it as its Dialect record's `callbacks`.

A new vendor adds one module beside its dialect, e.g. `dialects/<name>/callbacks.py`:
`modes=("safe",)` (always encrypted), `receive_id` = the corp id, `handshake` = a call of
`handshake.encrypted_echo(cfg, corpid, stamp)` (decrypt and echo), `render` = its XML in the
envelope (`envelope.encrypt`, `msg_signature` only), and `actions` for `POST /_polytag/simulate`.
Nothing here changes."""

from polytag.callbacks.config import CallbackConfig, ConfigError
from polytag.callbacks.face import CallbackFace, Event, Handshake, Outgoing, Stamp

__all__ = ["CallbackConfig", "CallbackFace", "ConfigError", "Event", "Handshake", "Outgoing", "Stamp"]
