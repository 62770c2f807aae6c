"""Crash-safety check: after a restart, read every tag's members back and judge each batch."""

from __future__ import annotations

import json

import httpx

from tests.crash_driver import IM_BATCH, IM_CALLS_PER_CHUNK, Plan, TrialResult, im_query, wx_token


def read_wechat(http: httpx.Client, token: str, tag_ids: list[int]) -> dict[int, set[str]]:
    members: dict[int, set[str]] = {}
    for tag_id in tag_ids:
        got: set[str] = set()
        after = ""
        while True:
            r = http.post("/cgi-bin/user/tag/get", params={"access_token": token},
                          content=json.dumps({"tagid": tag_id, "next_openid": after})).json()
            if r.get("errcode", 0) != 0:
                raise RuntimeError(f"user/tag/get {tag_id}: {r}")
            page = r.get("data", {}).get("openid", [])
            got.update(page)
            after = r.get("next_openid", "")
            if not page or not after:
                break
        members[tag_id] = got
    return members


def read_im(http: httpx.Client, accounts: list[str]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for k in range(0, len(accounts), IM_BATCH):
        part = accounts[k:k + IM_BATCH]
        r = http.post("/v4/all_member_push/im_get_tag", params=im_query(),
                      content=json.dumps({"To_Account": part})).json()
        if r.get("ErrorCode") != 0:
            raise RuntimeError(f"im_get_tag: {r}")
        for item in r["UserTags"]:
            out[item["To_Account"]] = set(item["Tags"])
    return out


def judge(res: TrialResult, state: str, present: int, total: int) -> None:
    """Count one batch: `present` of its `total` pairs were found after the restart."""
    if 0 < present < total:
        res.half += 1
    if state == "acked" and present < total:
        res.lost += 1
        res.lost_pairs += total - present
    elif state == "rejected" and present:
        res.phantom += 1
    elif state == "sent" and present == total:
        res.unacked_present += 1


def verify(url: str, token: str, plan: Plan, res: TrialResult) -> None:
    with httpx.Client(base_url=url, timeout=60) as http:
        probe = http.get("/cgi-bin/tags/get", params={"access_token": token}).json()
        if probe.get("errcode", 0) != 0:  # the token was issued (acknowledged) before the kill
            res.lost += 1
            res.errors.append(f"access_token issued before the kill is gone: {probe}")
            token = wx_token(http)
            probe = http.get("/cgi-bin/tags/get", params={"access_token": token}).json()
        have_tags = {t["id"] for t in probe.get("tags", [])}
        for tag_id in plan.tag_ids:
            if tag_id not in have_tags:
                res.lost += 1
                res.errors.append(f"tag {tag_id} created before the load is gone")
        tag_ids = [t for t in plan.tag_ids if t in have_tags]
        wx = read_wechat(http, token, tag_ids)
        im_chunks = {i // IM_CALLS_PER_CHUNK for (kind, i) in plan.state if kind == "im"}
        im_accounts = [a for c in sorted(im_chunks) for a in plan.accounts[c * IM_BATCH:(c + 1) * IM_BATCH]]
        im = read_im(http, im_accounts)

    expected_wx: dict[int, set[str]] = {t: set() for t in plan.tag_ids}
    expected_im: dict[str, set[str]] = {}
    for (kind, i), state in sorted(plan.state.items()):
        res.sent += 1
        if state == "acked":
            res.acked += 1
            if kind == "wechat":
                res.acked_wechat += 1
            else:
                res.acked_im += 1
        elif state == "rejected":
            res.rejected += 1
        if kind == "wechat":
            tag_id, openids = plan.wx_batch(i)
            found = wx.get(tag_id, set())
            judge(res, state, sum(o in found for o in openids), len(openids))
            if state != "rejected":
                expected_wx[tag_id].update(openids)
        else:
            tags, accounts = plan.im_batch(i)
            present = sum(t in im.get(a, set()) for a in accounts for t in tags)
            judge(res, state, present, len(accounts) * len(tags))
            if state != "rejected":
                for a in accounts:
                    expected_im.setdefault(a, set()).update(tags)
    res.errors += plan.rejections[:5]
    for tag_id, found in wx.items():
        res.phantom += len(found - expected_wx.get(tag_id, set()))
    for a, found in im.items():
        res.phantom += len(found - expected_im.get(a, set()))
