"""The encrypted callback envelope the vendors share (WXBizMsgCrypt): AES-256-CBC with the
key's first 16 bytes as IV, PKCS#7 padding to 32 bytes, a 16-byte random prefix, the message's
length (4 bytes, network order), the message, then the receiving id (an appid or a corpid);
signatures are SHA-1 over the sorted token, timestamp, nonce (and ciphertext)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

KEY_CHARS = 43  # an EncodingAESKey: 43 base64 characters, 32 bytes once "=" is appended
BLOCK_BITS = 256  # WXBizMsgCrypt pads to 32 bytes, not AES's 16


class EnvelopeError(ValueError):
    """A ciphertext that does not decrypt, or names another receiver."""


def aes_key(encoding_aes_key: str) -> bytes:
    """The 32-byte AES key an EncodingAESKey stands for; ValueError when it is not one."""
    if len(encoding_aes_key) != KEY_CHARS:
        raise ValueError(f"must be {KEY_CHARS} characters, not {len(encoding_aes_key)}")
    try:
        key = base64.b64decode(encoding_aes_key + "=", validate=True)
    except binascii.Error:
        raise ValueError("must be base64 characters (A-Z, a-z, 0-9, +, /)") from None
    if len(key) != 32:
        raise ValueError("does not decode to 32 bytes")
    return key


def signature(token: str, timestamp: str, nonce: str, *more: str) -> str:
    """SHA-1 hex of the sorted, concatenated parts (URL checks and msg_signature alike)."""
    return hashlib.sha1("".join(sorted([token, timestamp, nonce, *more])).encode()).hexdigest()


def _cipher(key: bytes) -> Cipher[modes.CBC]:
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(key: bytes, message: bytes, receive_id: str, random16: bytes) -> str:
    """The base64 ciphertext of `message` for `receive_id` (the `Encrypt` field, an echostr)."""
    if len(random16) != 16:
        raise ValueError("the random prefix is 16 bytes")
    plain = random16 + struct.pack(">I", len(message)) + message + receive_id.encode()
    padder = padding.PKCS7(BLOCK_BITS).padder()
    padded = padder.update(plain) + padder.finalize()
    enc = _cipher(key).encryptor()
    return base64.b64encode(enc.update(padded) + enc.finalize()).decode()


def decrypt(key: bytes, text: str, receive_id: str | None = None) -> bytes:
    """The message inside a ciphertext; EnvelopeError when it does not decrypt or, given
    `receive_id`, names another receiver."""
    try:
        raw = base64.b64decode(text, validate=True)
        dec = _cipher(key).decryptor()
        padded = dec.update(raw) + dec.finalize()
        unpadder = padding.PKCS7(BLOCK_BITS).unpadder()
        plain = unpadder.update(padded) + unpadder.finalize()
    except (binascii.Error, ValueError) as exc:
        raise EnvelopeError(f"does not decrypt: {exc}") from None
    if len(plain) < 20:
        raise EnvelopeError("too short")
    (size,) = struct.unpack(">I", plain[16:20])
    message, rest = plain[20:20 + size], plain[20 + size:]
    if len(message) != size:
        raise EnvelopeError("length prefix past the end")
    if receive_id is not None and rest != receive_id.encode():
        raise EnvelopeError(f"for another receiver ({rest[:64]!r})")
    return message
