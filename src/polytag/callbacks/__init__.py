"""Callbacks: the pushes a vendor makes to the developer's server (configuration, the encrypted
envelope, handshakes, the delivery queue and its journal). Vendor-neutral: each dialect brings a
`CallbackFace` (polytag.callbacks.face) with its message shapes, modes and simulated actions."""

from polytag.callbacks.config import CallbackConfig, ConfigError
from polytag.callbacks.face import CallbackFace, Event, Handshake, Outgoing, Stamp

__all__ = ["CallbackConfig", "CallbackFace", "ConfigError", "Event", "Handshake", "Outgoing", "Stamp"]
