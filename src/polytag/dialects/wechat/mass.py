"""WeChat mass messaging (`message/mass/*`): parse the wire, record the send through core/sends.py,
shape the wire.

The emulator has no media upload: any non-empty `media_id` (and `card_id`) is accepted as is.
`msg_id` is 3147483648 plus the app's send number (real ids are past 2^31 too); `msg_data_id`
(mpnews only) is 2247483648 plus the same number.
"""

from __future__ import annotations

from typing import Any

from polytag.core.models import App
from polytag.core.sends import Message, SendRecord, sends
from polytag.dialects import Call, Endpoint
from polytag.dialects._body import BodyField
from polytag.dialects.wechat import body, callbacks, errors
from polytag.errors import NotFound
from polytag.store import Tx

MSG_ID_BASE = 3_147_483_648
MSG_DATA_ID_BASE = 2_247_483_648
# what each msgtype carries: the object's key and the field that may not be empty
MSGTYPES = {"text": "content", "image": "media_id", "voice": "media_id", "mpvideo": "media_id",
            "mpnews": "media_id", "wxcard": "card_id"}
EMPTY_FIELD = {"content": errors.EMPTY_CONTENT, "media_id": errors.INVALID_MEDIA_ID,
               "card_id": errors.INVALID_CARD_ID}
REALSPEED = (80, 60, 45, 30, 10)  # speed level -> realspeed, 10,000 messages a minute (speed/get doc)
OK = {"errcode": 0, "errmsg": "ok"}


def _app(call: Call) -> App:
    assert call.app is not None
    return call.app


def _msg_id(seq: int) -> str:
    return str(MSG_ID_BASE + seq)


def message(b: dict[str, Any]) -> Message:
    """The message of a send body: 40008 for a msgtype not listed, 44004/40007/40073 for its
    empty content, media_id or card_id. Images may come as `images.media_ids` (the newer doc)."""
    msgtype = body.string(b, "msgtype")
    field = MSGTYPES.get(msgtype)
    if field is None:
        raise errors.refused(errors.INVALID_MESSAGE_TYPE, msgtype)
    if msgtype == "image" and b.get("image") is None and b.get("images") is not None:
        content = body.obj(b, "images")
        if not [m for m in body.strings(content, "media_ids") if m.strip()]:
            raise errors.refused(errors.INVALID_MEDIA_ID)
    else:
        content = body.obj(b, msgtype)
        if not body.string(content, field).strip():
            raise errors.refused(EMPTY_FIELD[field])
    options = {"send_ignore_reprint": body.integer(b, "send_ignore_reprint")}
    return Message(msgtype, content, options)


def _submitted(rec: SendRecord, errmsg: str = errors.SUBMITTED) -> dict[str, Any]:
    out: dict[str, Any] = {"errcode": 0, "errmsg": errmsg, "msg_id": int(rec.id)}
    if rec.message.msgtype == "mpnews" and errmsg == errors.SUBMITTED:
        out["msg_data_id"] = MSG_DATA_ID_BASE + rec.seq
    return out


def _filter(b: dict[str, Any]) -> tuple[str, str]:
    """(kind, tag id) of sendall's filter. `group_id` is the old name of `tag_id` (wechatpy 1.8
    still sends it); is_to_all true ignores the tag."""
    flt = body.obj(b, "filter")
    to_all = flt.get("is_to_all", False)
    if not isinstance(to_all, bool):
        raise BodyField("is_to_all", "type", to_all, "a boolean")
    if to_all:
        return "all", ""
    key = "tag_id" if flt.get("tag_id") is not None else "group_id"
    if flt.get(key) is None:
        raise NotFound("send_tag", None)
    return "tag", str(body.integer(flt, key))


async def _send(call: Call, kind: str, target: str = "", ext_ids: list[str] | None = None,
                counted: bool = True, b: dict[str, Any] | None = None) -> SendRecord:
    b = body.json_body(call) if b is None else b
    msg = message(b)
    key = body.string(b, "clientmsgid")
    svc, app = call.service, _app(call)

    def op(tx: Tx) -> SendRecord:
        return sends(svc).send(tx, app, kind, msg, _msg_id, target=target, ext_ids=ext_ids or [],
                               dedupe_key=key, counted=counted)

    return await svc.write(op, app=app)


def _finished(call: Call, rec: SendRecord) -> SendRecord:
    """The job is done at once in the emulator: MASSSENDJOBFINISH goes to the app's callback URL."""
    app = _app(call)
    call.service.emit(app, callbacks.mass_finished(app, rec.id, len(rec.audience), int(rec.created_at)))
    return rec


async def sendall(call: Call) -> dict[str, Any]:
    b = body.json_body(call)
    kind, tag = _filter(b)
    return _submitted(_finished(call, await _send(call, kind, tag, b=b)))


async def send(call: Call) -> dict[str, Any]:
    b = body.json_body(call)
    return _submitted(_finished(call, await _send(call, "list", ext_ids=body.strings(b, "touser"), b=b)))


async def preview(call: Call) -> dict[str, Any]:
    """To one follower (`touser`: 40003/49003 when not this app's) or a WeChat id (`towxname`:
    recorded, reaching nobody the emulator knows)."""
    b = body.json_body(call)
    openid, wxname = body.string(b, "touser"), body.string(b, "towxname")
    if openid:
        call.service.subjects.resolve(_app(call), [openid])
        rec = await _send(call, "preview", openid, [openid], counted=False, b=b)
    elif wxname:
        rec = await _send(call, "preview", wxname, [], counted=False, b=b)
    else:
        raise errors.refused(errors.INVALID_OPENID)
    return _submitted(rec, errors.PREVIEWED)


def _record(call: Call, b: dict[str, Any]) -> SendRecord:
    msg_id = body.integer(b, "msg_id")
    return sends(call.service).get(_app(call), str(msg_id) if msg_id > MSG_ID_BASE else "")


async def get(call: Call) -> dict[str, Any]:
    rec = _record(call, body.json_body(call))
    return {"msg_id": int(rec.id), "msg_status": errors.MSG_STATUS.get(rec.status, "SEND_FAIL")}


async def delete(call: Call) -> dict[str, Any]:
    """`article_idx` 0 (or absent) deletes the whole message (mass/get then says DELETE); a
    later article of an mpnews is accepted and leaves the message's status as it is."""
    b = body.json_body(call)
    if body.integer(b, "article_idx") < 0:
        raise BodyField("article_idx", "type", None, "an index >= 0")
    svc, app = call.service, _app(call)
    rec = _record(call, b)
    if body.integer(b, "article_idx") == 0:
        await svc.write(lambda tx: sends(svc).delete(tx, app, rec.id), app=app)
    return OK


async def speed_get(call: Call) -> dict[str, Any]:
    level = sends(call.service).pace(_app(call))
    return {"speed": level, "realspeed": REALSPEED[level]}


async def speed_set(call: Call) -> dict[str, Any]:
    b = body.json_body(call)
    level = None if b.get("speed") is None else body.integer(b, "speed")
    svc, app = call.service, _app(call)
    await svc.write(lambda tx: sends(svc).set_pace(tx, app, level, len(REALSPEED)), app=app)
    return OK


POST, BOTH = ("POST",), ("GET", "POST")

ENDPOINTS = [
    Endpoint("message/mass/sendall", POST, sendall),
    Endpoint("message/mass/send", POST, send),
    Endpoint("message/mass/preview", POST, preview),
    Endpoint("message/mass/get", POST, get),
    Endpoint("message/mass/delete", POST, delete),
    Endpoint("message/mass/speed/get", BOTH, speed_get),
    Endpoint("message/mass/speed/set", POST, speed_set),
]
