"""WeChat OA callbacks: the URL check, the follower events (subscribe, subscribe via a QR scene,
SCAN, unsubscribe) in WeChat's XML, plain or in the WXBizMsgCrypt envelope (compat: both; safe:
only `Encrypt`, with `msg_signature`), and the simulated actions that change what the dialect
serves. Message shapes: the OA docs "接收事件推送" and "消息加解密说明"."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import string
from collections.abc import Mapping
from typing import Any

from pyroaring import BitMap

from polytag.callbacks import envelope
from polytag.callbacks.config import CallbackConfig
from polytag.callbacks.face import CallbackFace, Event, Handshake, Outgoing, Stamp
from polytag.callbacks.handshake import plain_echo, with_query
from polytag.callbacks.xml import acknowledged, to_xml
from polytag.core.models import App
from polytag.core.service import Service
from polytag.store import Tx

MODES = ("plain", "compat", "safe")  # 明文模式, 兼容模式, 安全模式
OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")
SCENE_STR_MAX = 64  # qr_scene_str: 1 to 64 characters
SCENE_ID_MAX = 4_294_967_295  # 32-bit unsigned (temporary QR codes)
HEADERS = (("Content-Type", "text/xml"), ("User-Agent", "Mozilla/4.0"))


def original_id(app: App) -> str:
    """The account's original id (gh_...), ToUserName of every push: the seed's `original_id`,
    else one derived from the appid (the same on every run)."""
    given = app.config.get("original_id")
    return str(given) if given else "gh_" + hashlib.sha1(app.name.encode()).hexdigest()[:12]


# the XML ------------------------------------------------------------------------------------
def render(app: App, cfg: CallbackConfig, event: Event, stamp: Stamp) -> Outgoing:
    """The POST WeChat makes: the query it signs and the body of the configured mode."""
    plain = to_xml(event.fields)
    query = {"signature": envelope.signature(cfg.token, stamp.timestamp, stamp.nonce),
             "timestamp": stamp.timestamp, "nonce": stamp.nonce, "openid": str(event.fields["FromUserName"])}
    if cfg.mode == "plain":
        return Outgoing("POST", with_query(cfg.url, query), HEADERS, plain.encode())
    cipher = envelope.encrypt(cfg.key(), plain.encode(), app.name, stamp.random16)
    query |= {"encrypt_type": "aes", "msg_signature": envelope.signature(cfg.token, stamp.timestamp, stamp.nonce, cipher)}
    inner = dict(event.fields) if cfg.mode == "compat" else {"ToUserName": event.fields["ToUserName"]}
    body = to_xml({**inner, "Encrypt": cipher})
    return Outgoing("POST", with_query(cfg.url, query), HEADERS, body.encode())


def handshake(app: App, cfg: CallbackConfig, stamp: Stamp) -> Handshake:
    return plain_echo(cfg, stamp)  # the same in every mode: WeChat signs the URL check in plain


# the events ---------------------------------------------------------------------------------
def _event(app: App, openid: str, now: int, kind: str, extra: Mapping[str, Any] | None = None) -> Event:
    fields: dict[str, Any] = {"ToUserName": original_id(app), "FromUserName": openid, "CreateTime": now,
                              "MsgType": "event", "Event": kind, **(extra or {})}
    return Event(kind, fields, dedupe=f"{openid}:{now}")  # WeChat: dedupe on FromUserName + CreateTime


# the sender of MASSSENDJOBFINISH in the vendor's own sample (消息管理 / 群发接口 / 事件推送群发结果)
MASS_SENDER = "oV5CrjpxgaGXNHIQigzNlgLTnwic"


def mass_finished(app: App, msg_id: str, reached: int, now: int) -> Event:
    """MASSSENDJOBFINISH for a finished mass send: every follower in its audience was sent to (the
    emulator filters nobody and fails nobody: TotalCount = FilterCount = SentCount, ErrorCount 0)."""
    return _event(app, MASS_SENDER, now, "MASSSENDJOBFINISH", {
        "MsgID": int(msg_id), "Status": "send success", "TotalCount": reached, "FilterCount": reached,
        "SentCount": reached, "ErrorCount": 0})


def ticket(app: App, scene: str) -> str:
    """A QR code's ticket, the same for one scene of one app on every run."""
    digest = hashlib.sha256(f"{app.name}:{scene}".encode()).digest()
    return "gQH" + base64.b64encode(digest + digest[:12]).decode()


def _openid(doc: Mapping[str, Any], required: bool) -> str:
    value = doc.get("openid")
    if value is None and not required:
        return "o" + "".join(secrets.choice(string.ascii_letters + string.digits + "_-") for _ in range(27))
    if not isinstance(value, str) or not OPENID.fullmatch(value):
        raise ValueError("`openid` must be 1 to 64 letters, digits, _ or -")
    return value


def _scene(doc: Mapping[str, Any], required: bool) -> int | str | None:
    value = doc.get("scene")
    if value is None:
        if required:
            raise ValueError("`scene` is required (a QR code's scene id or scene string)")
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= SCENE_ID_MAX:
        return value
    if isinstance(value, str) and 1 <= len(value) <= SCENE_STR_MAX and value.isprintable():
        return value
    raise ValueError(f"`scene` must be an integer 1 to {SCENE_ID_MAX} or a string of 1 to {SCENE_STR_MAX} characters")


def _scene_props(scene: int | str | None) -> dict[str, Any]:
    """What user/info shows of how the follower came (subscribe_scene, qr_scene, qr_scene_str)."""
    if scene is None:
        return {"subscribe_scene": "ADD_SCENE_OTHERS", "qr_scene": 0, "qr_scene_str": ""}
    return {"subscribe_scene": "ADD_SCENE_QR_CODE", "qr_scene": scene if isinstance(scene, int) else 0,
            "qr_scene_str": scene if isinstance(scene, str) else ""}


SCENE_KEYS = ("subscribe_time", "subscribe_scene", "qr_scene", "qr_scene_str")


async def _subscribe(svc: Service, app: App, openid: str, scene: int | str | None) -> int | None:
    """Make `openid` a follower (new, or back after an unfollow) now; None when it already is one."""

    def op(tx: Tx) -> int | None:
        now = svc.now_s()
        found = svc.subjects.find(app, [openid], tx)
        if openid in found:
            row = tx.subject(app.id, found[openid])
            assert row is not None
            if row[2]:
                return None
            ord_, props = found[openid], json.loads(str(row[6]) or "{}")
        else:
            (ord_,), props = svc.subjects.create(tx, app, [openid], now), {}
        props |= {"subscribe_time": now, **_scene_props(scene)}
        tx.set_subject_fields(app.id, ord_, active=1, props=_props_text(props))
        return now

    return await svc.write(op, app=app)


async def _unsubscribe(svc: Service, app: App, openid: str) -> int | None:
    """`openid` stops following now: it leaves user/get and every tag (a tag counts fans), and
    user/info answers subscribe 0; None when it was no follower."""
    found = svc.subjects.find(app, [openid])
    tags = svc.subject_tags(app, openid) if openid in found else []

    def op(tx: Tx) -> int | None:
        row = tx.subject(app.id, found[openid]) if openid in found else None
        if row is None or not row[2]:
            return None
        ord_ = found[openid]
        for tag in tags:
            svc.memberships.remove(tx, app, tag.ord, BitMap([ord_]))
        props = {k: v for k, v in json.loads(str(row[6]) or "{}").items() if k not in SCENE_KEYS}
        tx.set_subject_fields(app.id, ord_, active=0, props=_props_text(props))
        return svc.now_s()

    return await svc.write(op, app=app)


def _props_text(props: Mapping[str, Any]) -> str:
    return json.dumps(props, ensure_ascii=False, sort_keys=True)


def _qr_fields(app: App, scene: int | str, prefix: str) -> dict[str, Any]:
    return {"EventKey": f"{prefix}{scene}", "Ticket": ticket(app, str(scene))}


async def follow(svc: Service, app: App, doc: Mapping[str, Any]) -> list[Event]:
    """`subscribe`, plain or (with a `scene`) via a QR code: EventKey `qrscene_<scene>`, Ticket."""
    openid, scene = _openid(doc, required=False), _scene(doc, required=False)
    now = await _subscribe(svc, app, openid, scene)
    if now is None:
        raise ValueError(f"{openid} already follows {app.name} (a follower who scans a QR code: action scan)")
    extra = _qr_fields(app, scene, "qrscene_") if scene is not None else None
    return [_event(app, openid, now, "subscribe", extra)]


async def scan(svc: Service, app: App, doc: Mapping[str, Any]) -> list[Event]:
    """A QR code scanned: `SCAN` (EventKey is the scene) from a follower; from anyone else WeChat
    makes them follow and pushes `subscribe` with EventKey `qrscene_<scene>`."""
    openid, scene = _openid(doc, required=True), _scene(doc, required=True)
    assert scene is not None
    now = await _subscribe(svc, app, openid, scene)
    if now is not None:
        return [_event(app, openid, now, "subscribe", _qr_fields(app, scene, "qrscene_"))]
    return [_event(app, openid, svc.now_s(), "SCAN", _qr_fields(app, scene, ""))]


async def unfollow(svc: Service, app: App, doc: Mapping[str, Any]) -> list[Event]:
    openid = _openid(doc, required=True)
    now = await _unsubscribe(svc, app, openid)
    if now is None:
        raise ValueError(f"{openid} does not follow {app.name}")
    return [_event(app, openid, now, "unsubscribe")]


FACE = CallbackFace(
    modes=MODES,
    receive_id=lambda app: app.name,  # the appid, inside every ciphertext
    handshake=handshake,
    render=render,
    actions={"follow": follow, "unfollow": unfollow, "scan": scan},
    acknowledged=acknowledged,
    timeout_s=5.0,  # "微信服务器在五秒内收不到响应会断掉连接，并且重新发起请求，总共重试三次"
    attempts=3,
    events=("subscribe", "SCAN", "unsubscribe", "MASSSENDJOBFINISH"),
)
