"""WeCom customer-contact callbacks (客户联系 › 变更回调): the URL check and the pushes, always in
the WXBizMsgCrypt envelope (the receive id is the corpid), and the events themselves:
`change_external_contact` and `change_external_tag` in WeCom's XML.

WeCom pushes them for what a member does in the client or an admin does in the admin console;
"通过API进行的操作不会产生回调" (operations made through the API push nothing): so the dialect's own
endpoints, and the JuziBot face of a corp (built on this API), never push. `POST
/_polytag/simulate` stands for the client and the console (dialects/wecom/simulate.py)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from polytag.callbacks import envelope
from polytag.callbacks.config import CallbackConfig
from polytag.callbacks.face import CallbackFace, Event, Handshake, Outgoing, Stamp
from polytag.callbacks.handshake import encrypted_echo, with_query
from polytag.callbacks.xml import acknowledged, to_xml
from polytag.core.models import App

MODES = ("safe",)  # WeCom always encrypts
HEADERS = (("Content-Type", "text/xml"), ("User-Agent", "Mozilla/4.0"))
CONTACT, TAG = "change_external_contact", "change_external_tag"
CONTACT_CHANGES = ("add_external_contact", "edit_external_contact", "del_external_contact", "del_follow_user")
TAG_CHANGES = ("create", "update", "delete", "shuffle")


def _receive_id(app: App) -> str:
    return app.name  # the corpid, inside every ciphertext


def agent_id(app: App) -> str:
    """AgentID of the envelope: the seed's `agentid` (the app the callback is set on), else empty."""
    given = app.config.get("agentid")
    return "" if given is None else str(given)


def render(app: App, cfg: CallbackConfig, event: Event, stamp: Stamp) -> Outgoing:
    """POST url?msg_signature=&timestamp=&nonce= with <xml><ToUserName/><AgentID/><Encrypt/></xml>."""
    cipher = envelope.encrypt(cfg.key(), to_xml(event.fields).encode(), app.name, stamp.random16)
    query = {"msg_signature": envelope.signature(cfg.token, stamp.timestamp, stamp.nonce, cipher),
             "timestamp": stamp.timestamp, "nonce": stamp.nonce}
    body = to_xml({"ToUserName": app.name, "AgentID": agent_id(app), "Encrypt": cipher})
    return Outgoing("POST", with_query(cfg.url, query), HEADERS, body.encode())


def handshake(app: App, cfg: CallbackConfig, stamp: Stamp) -> Handshake:
    return encrypted_echo(cfg, app.name, stamp)


def _event(app: App, now: int, kind: str, fields: Mapping[str, Any]) -> Event:
    head = {"ToUserName": app.name, "FromUserName": "sys", "CreateTime": now, "MsgType": "event", "Event": kind}
    change = str(fields.get("ChangeType", ""))
    # WeCom: events are deduplicated on FromUserName + CreateTime (always "sys" here, so the change
    # and its subject are part of the key a handler should use)
    subject = fields.get("ExternalUserID") or fields.get("Id") or ""
    return Event(kind, {**head, **fields}, dedupe=f"sys:{now}:{change}:{fields.get('UserID', '')}:{subject}")


def contact_event(app: App, now: int, change: str, user_id: str, external_userid: str,
                  extra: Mapping[str, Any] | None = None) -> Event:
    """change_external_contact: add_external_contact (with State, WelcomeCode),
    edit_external_contact, del_external_contact, del_follow_user."""
    return _event(app, now, CONTACT, {"ChangeType": change, "UserID": user_id, "ExternalUserID": external_userid,
                                      **(extra or {})})


def tag_event(app: App, now: int, change: str, ext_id: str, tag_type: str | None) -> Event:
    """change_external_tag: create, update, delete (Id, TagType tag | tag_group); shuffle (Id: the
    group whose tags were reordered, empty when the groups were; no TagType)."""
    fields: dict[str, Any] = {"Id": ext_id}
    if tag_type is not None:
        fields["TagType"] = tag_type
    return _event(app, now, TAG, {**fields, "ChangeType": change})


def face(actions: Mapping[str, Any]) -> CallbackFace:
    return CallbackFace(
        modes=MODES,
        receive_id=_receive_id,
        handshake=handshake,
        render=render,
        actions=actions,
        acknowledged=acknowledged,  # 200 with an empty body or `success`
        timeout_s=5.0,  # "企业微信服务器在五秒内收不到响应会断掉连接，并且重新发起请求，总共重试三次"
        attempts=3,
        events=tuple(f"{CONTACT} {c}" for c in CONTACT_CHANGES) + tuple(f"{TAG} {c}" for c in TAG_CHANGES),
    )
