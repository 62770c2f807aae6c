"""The shared WXBizMsgCrypt envelope against wechatpy's own implementations (WeChat and WeCom)."""

from __future__ import annotations

import pytest
from wechatpy.crypto import WeChatCrypto
from wechatpy.enterprise.crypto import WeChatCrypto as WeComCrypto
from wechatpy.utils import check_signature

from polytag.callbacks import envelope
from polytag.callbacks.config import CallbackConfig
from polytag.callbacks.face import Stamp
from polytag.callbacks.handshake import encrypted_echo, plain_echo
from polytag.callbacks.receiver import new_aes_key, new_token

KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
TOKEN = "polytagToken123"
STAMP = Stamp("1700000000", "123456789", b"0123456789abcdef")


def test_key_is_43_base64_characters() -> None:
    assert len(envelope.aes_key(KEY)) == 32
    for bad in ("", KEY[:-1], KEY + "A", KEY[:-1] + "!"):
        with pytest.raises(ValueError):
            envelope.aes_key(bad)


@pytest.mark.parametrize("size", [0, 1, 15, 16, 31, 32, 33, 1000])
def test_wechatpy_decrypts_what_polytag_encrypts(size: int) -> None:
    message = ("<xml><x>" + "好" * size + "</x></xml>").encode()
    key = new_aes_key()
    cipher = envelope.encrypt(envelope.aes_key(key), message, "wx123", b"R" * 16)
    assert len(envelope.decrypt(envelope.aes_key(key), cipher)) == len(message)  # noqa: PLR2004
    sig = envelope.signature(TOKEN, STAMP.timestamp, STAMP.nonce, cipher)
    body = f"<xml><ToUserName><![CDATA[gh_x]]></ToUserName><Encrypt><![CDATA[{cipher}]]></Encrypt></xml>"
    assert WeChatCrypto(TOKEN, key, "wx123").decrypt_message(body, sig, STAMP.timestamp, STAMP.nonce) == message.decode()


def test_polytag_decrypts_what_wechatpy_encrypts() -> None:
    reply = "<xml><Content><![CDATA[hi]]></Content></xml>"
    out = WeChatCrypto(TOKEN, KEY, "wx123").encrypt_message(reply, STAMP.nonce, STAMP.timestamp)
    cipher = out.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
    assert envelope.decrypt(envelope.aes_key(KEY), cipher, "wx123") == reply.encode()
    with pytest.raises(envelope.EnvelopeError):
        envelope.decrypt(envelope.aes_key(KEY), cipher, "wx999")  # another receiver
    with pytest.raises(envelope.EnvelopeError):
        envelope.decrypt(envelope.aes_key(new_aes_key()), cipher)  # another key


def test_wechat_url_check_is_signed_as_wechatpy_checks() -> None:
    cfg = CallbackConfig("http://127.0.0.1:9/cb", TOKEN, "", "plain")
    shake = plain_echo(cfg, STAMP)
    query = dict(p.split("=", 1) for p in shake.request.url.split("?", 1)[1].split("&"))
    check_signature(TOKEN, query["signature"], query["timestamp"], query["nonce"])  # raises if wrong
    assert shake.expected == query["echostr"].encode() and shake.request.method == "GET"


def test_wecom_url_check_decrypts_with_wechatpy_enterprise() -> None:
    """WeCom's variant: msg_signature over the encrypted echostr, the corpid inside."""
    token, key = new_token(), new_aes_key()
    cfg = CallbackConfig("http://127.0.0.1:9/cb", token, key, "safe")
    shake = encrypted_echo(cfg, "ww0123456789abcdef", STAMP)
    from urllib.parse import parse_qsl, urlsplit

    query = dict(parse_qsl(urlsplit(shake.request.url).query))
    plain = WeComCrypto(token, key, "ww0123456789abcdef").check_signature(
        query["msg_signature"], query["timestamp"], query["nonce"], query["echostr"])
    assert plain.encode() == shake.expected if isinstance(plain, str) else plain == shake.expected
