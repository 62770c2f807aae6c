"""UserSig v2 (TLSSigAPIv2) verification: a pure function, HMAC compared in constant time.

Raises Unauthorized with the reason the dialect maps to its code: "malformed" (unparsable),
"bad_signature" (another key), "identifier" / "sdkappid" (mismatch with the query), "expired".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import zlib
from typing import Any

from polytag.errors import Unauthorized

_FROM_URL = str.maketrans("*-_", "+/=")
MAX_SIG = 8192  # a real sig is ~200 chars; refuse to inflate anything absurd


def decode(sig: str) -> dict[str, Any]:
    """The JSON object inside a sig; Unauthorized("malformed") for anything else."""
    try:
        if len(sig) > MAX_SIG:
            raise ValueError("too long")
        raw = base64.b64decode(sig.translate(_FROM_URL).encode("ascii"), validate=True)
        obj = json.loads(zlib.decompressobj().decompress(raw, 65536))
    except (ValueError, UnicodeError, binascii.Error, zlib.error, RecursionError):
        raise Unauthorized("malformed") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("TLS.sig"), str):
        raise Unauthorized("malformed")
    for k in ("TLS.time", "TLS.expire"):
        if not isinstance(obj.get(k), int) or isinstance(obj.get(k), bool):
            raise Unauthorized("malformed")
    if "TLS.identifier" not in obj or "TLS.sdkappid" not in obj:
        raise Unauthorized("malformed")
    return obj


def content(d: dict[str, Any]) -> str:
    """The signed text: four lines (and the userbuf line), each ending in a newline (spec B6)."""
    text = "".join(f"TLS.{k}:{d['TLS.' + k]}\n" for k in ("identifier", "sdkappid", "time", "expire"))
    if "TLS.userbuf" in d:
        text += f"TLS.userbuf:{d['TLS.userbuf']}\n"
    return text


def verify(sig: str, sdkappid: int, key: str, identifier: str, now: float) -> dict[str, Any]:
    """Check `sig` for (sdkappid, identifier) at `now`; returns the decoded sig or raises.

    The HMAC is recomputed over the sig's own fields first (a forged field breaks the MAC),
    then those fields are compared with the query string, then the expiry.
    """
    d = decode(sig)
    mac = base64.b64encode(hmac.new(key.encode("utf-8"), content(d).encode("utf-8"), hashlib.sha256).digest())
    if not hmac.compare_digest(mac, d["TLS.sig"].encode("utf-8", "replace")):
        raise Unauthorized("bad_signature")
    if str(d["TLS.identifier"]) != identifier:
        raise Unauthorized("identifier")
    if str(d["TLS.sdkappid"]) != str(sdkappid):
        raise Unauthorized("sdkappid")
    if now > d["TLS.time"] + d["TLS.expire"]:
        raise Unauthorized("expired")
    return d
