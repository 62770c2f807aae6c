"""The two URL checks of WXBizMsgCrypt servers: echo a plain `echostr` signed with `signature`
(the plain check), or decrypt an encrypted `echostr` signed with `msg_signature` and echo the plain text
(the encrypted check, whose receive id is the corp's id)."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from polytag.callbacks import envelope
from polytag.callbacks.config import CallbackConfig
from polytag.callbacks.face import Handshake, Outgoing, Stamp


def with_query(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


def echo_text() -> str:
    return str(secrets.randbelow(10**19 - 10**18) + 10**18)  # 19 digits, as the vendor sends


def plain_echo(cfg: CallbackConfig, stamp: Stamp, echostr: str | None = None) -> Handshake:
    """GET url?signature=&timestamp=&nonce=&echostr=: the server answers echostr as it came."""
    echo = echostr or echo_text()
    sig = envelope.signature(cfg.token, stamp.timestamp, stamp.nonce)
    query = {"signature": sig, "echostr": echo, "timestamp": stamp.timestamp, "nonce": stamp.nonce}
    return Handshake(Outgoing("GET", with_query(cfg.url, query)), echo.encode())


def encrypted_echo(cfg: CallbackConfig, receive_id: str, stamp: Stamp, echostr: str | None = None) -> Handshake:
    """GET url?msg_signature=&timestamp=&nonce=&echostr=ENCRYPTED: the server decrypts and
    answers the plain text."""
    plain = echostr or echo_text()
    cipher = envelope.encrypt(cfg.key(), plain.encode(), receive_id, stamp.random16)
    sig = envelope.signature(cfg.token, stamp.timestamp, stamp.nonce, cipher)
    query = {"msg_signature": sig, "timestamp": stamp.timestamp, "nonce": stamp.nonce, "echostr": cipher}
    return Handshake(Outgoing("GET", with_query(cfg.url, query)), plain.encode())
