"""Run by test_parallel.py under `pytest -n 2`: every test uses the same names in its own app."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.mark.parametrize("n", range(6))
def test_same_tag_name_in_own_app(n: int, polytag_wechat_client: Any, polytag_journal: Any) -> None:
    wx = polytag_wechat_client
    assert wx.tag.create("vip") == {"id": 100, "name": "vip"}  # the first custom id in every app
    assert [t["name"] for t in wx.tag.get()] == ["星标组", "vip"]
    polytag_journal.assert_called("tags/create", times=1)
    polytag_journal.assert_called("token", times=1)
