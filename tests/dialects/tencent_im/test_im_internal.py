"""The unforeseen becomes the family's internal-error envelope (91000 / 70500), never a 500."""

from __future__ import annotations

from typing import Any

import pytest

from polytag.core.service import Service
from polytag.dialects.tencent_im.parts import im
from tests.dialects.tencent_im.conftest import Caller


def boom(*args: Any, **kwargs: Any) -> Any:
    raise RuntimeError("disk on fire")


def test_internal_errors(call: Caller, service: Service, monkeypatch: Any, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(im(service).user_tags, "get", boom)
    monkeypatch.setattr(im(service).accounts, "check_many", boom)
    r = call("all_member_push/im_get_tag", {"To_Account": ["a"]})
    assert r == {"ActionStatus": "FAIL", "ErrorInfo": "Internal service error. Please try again.", "ErrorCode": 91000}
    r = call("im_open_login_svc/account_check", {"CheckItem": [{"UserID": "a"}]})
    assert r == {"ActionStatus": "FAIL", "ErrorCode": 70500, "ErrorInfo": "Internal server error. Please try again."}
    assert "disk on fire" in caplog.text  # logged with its traceback


def test_docs_page_lists_endpoints_and_codes() -> None:
    from pathlib import Path

    from polytag.dialects.tencent_im import DIALECT, errors, routes

    page = (Path(__file__).resolve().parents[3] / "docs" / "compat" / "tencent_im.md").read_text("utf-8")
    rows = [ln for ln in page.splitlines() if ln.startswith("|")]
    for ep in DIALECT.endpoints:
        assert any(f"`{ep.path}`" in r and "implemented" in r and "not implemented" not in r for r in rows), ep.path
    for path in routes.NOT_IMPLEMENTED:
        assert any(f"`{path}`" in r and "not implemented" in r for r in rows), path
    for code in errors.MESSAGES:
        assert any(r.startswith(f"| {code} |") for r in rows), code
