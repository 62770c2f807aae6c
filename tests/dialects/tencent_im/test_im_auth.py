"""Every way a `v4/` call can fail authentication, with UserSigs from the official tls-sig-api-v2."""

from __future__ import annotations

from typing import Any

import pytest
import TLSSigAPIv2

from polytag.core.service import Service
from polytag.dialects.tencent_im import usersig
from polytag.errors import Unauthorized
from tests.dialects.tencent_im.conftest import (
    ADMIN,
    KEY,
    OTHER_KEY,
    SDKAPPID,
    Caller,
    gen_sig,
    query,
)

TAGS = "all_member_push/im_get_tag"
CHECK = "im_open_login_svc/account_check"
BODY = {"To_Account": ["xiaojun012"]}


def code(r: dict[str, Any]) -> int:
    return int(r["ErrorCode"])


def test_official_sigs_are_accepted(call: Caller) -> None:
    for sig in (gen_sig(), gen_sig(expire=180 * 86400), gen_sig(userbuf=b"\x00buf\xff")):
        r = call(TAGS, BODY, params=query(sig=sig))
        assert r["ActionStatus"] == "OK" and code(r) == 0


def test_default_expiry_of_the_library_is_accepted(call: Caller) -> None:
    sig = TLSSigAPIv2.TLSSigAPIv2(SDKAPPID, KEY).gen_sig(ADMIN)
    assert code(call(TAGS, BODY, params=query(sig=sig))) == 0


@pytest.mark.parametrize("sig", ["", "not-a-sig", "eJyrVkrOz*-_", "A" * 9000, "*" * 40])
def test_unparsable_sig_70003(call: Caller, sig: str) -> None:
    want = 60004 if sig == "" else 70003
    assert code(call(TAGS, BODY, params=query(sig=sig))) == want


def test_sig_of_another_key_70009(call: Caller) -> None:
    assert code(call(TAGS, BODY, params=query(sig=gen_sig(key=OTHER_KEY)))) == 70009


def test_expired_sig_70001(call: Caller, service: Service) -> None:
    sig = gen_sig(expire=60)
    assert code(call(TAGS, BODY, params=query(sig=sig))) == 0
    service.clock.advance(61)
    r = call(TAGS, BODY, params=query(sig=sig))
    assert r == {"ActionStatus": "FAIL", "ErrorInfo": "UserSig has expired. Please generate a new one.",
                 "ErrorCode": 70001}


def test_identifier_mismatch_70013(call: Caller) -> None:
    assert code(call(TAGS, BODY, params=query(identifier="admin2", sig=gen_sig(ADMIN)))) == 70013


def test_sdkappid_mismatch_70014(call: Caller) -> None:
    sig = gen_sig(sdkappid=1400000002)  # same key, another app id inside the sig
    assert code(call(TAGS, BODY, params=query(sig=sig))) == 70014


def test_unknown_sdkappid_70020(call: Caller) -> None:
    sig = gen_sig(sdkappid=1400009999)
    assert code(call(TAGS, BODY, params=query(sig=sig, sdkappid=1400009999))) == 70020


@pytest.mark.parametrize(("drop", "want"), [
    ("sdkappid", 60012), ("identifier", 60004), ("usersig", 60004), ("random", 60002), ("contenttype", 60002),
])
def test_missing_parameters(call: Caller, drop: str, want: int) -> None:
    params = {k: v for k, v in query().items() if k != drop}
    assert code(call(TAGS, BODY, params=params)) == want


@pytest.mark.parametrize(("key", "value", "want"), [
    ("sdkappid", "14000x", 60006), ("sdkappid", "99999999999", 60006), ("sdkappid", "1" * 5000, 60006),
    ("random", "9" * 5000, 60002),
    ("random", "--1", 60002), ("random", "18446744073709551616", 60002), ("random", "1e3", 60002),
    ("contenttype", "xml", 60002),
])
def test_bad_parameters(call: Caller, key: str, value: str, want: int) -> None:
    assert code(call(TAGS, BODY, params={**query(), key: value})) == want


def test_non_admin_on_admin_only_apis(call: Caller) -> None:
    user = query(identifier="xiaojun012", sig=gen_sig("xiaojun012"))
    assert code(call(TAGS, BODY, params=user)) == 90009
    r = call(CHECK, {"CheckItem": [{"UserID": "a"}]}, params=user)
    assert r == {"ActionStatus": "FAIL", "ErrorCode": 70403,
                 "ErrorInfo": "The request requires app admin permissions."}


def test_second_admin_is_accepted(call: Caller) -> None:
    assert code(call(TAGS, BODY, params=query(identifier="admin2", sig=gen_sig("admin2")))) == 0


def test_bad_sig_is_checked_before_admin(call: Caller) -> None:
    params = query(identifier="xiaojun012", sig=gen_sig("xiaojun012", key=OTHER_KEY))
    assert code(call(TAGS, BODY, params=params)) == 70009


def test_wrong_method_and_unknown_path(call: Caller) -> None:
    assert code(call(TAGS, BODY, method="GET")) == 60002
    assert code(call("all_member_push/im_nothing", {})) == 60009
    assert code(call("timpush/batch", {})) == 60009  # the timpush calls polytag does not serve


def test_forged_field_breaks_the_mac() -> None:
    """Changing the identifier inside a valid sig is a signature failure, not a mismatch."""
    import base64
    import json
    import zlib

    d = usersig.decode(gen_sig())
    d["TLS.identifier"] = "xiaojun012"
    raw = base64.b64encode(zlib.compress(json.dumps(d).encode())).decode()
    forged = raw.replace("+", "*").replace("/", "-").replace("=", "_")
    with pytest.raises(Unauthorized) as err:
        usersig.verify(forged, SDKAPPID, KEY, "xiaojun012", now=d["TLS.time"])
    assert err.value.reason == "bad_signature"
