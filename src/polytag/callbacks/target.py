"""One app's callbacks pointed at a receiver for a test (the `polytag_callbacks` fixture): the
built-in Receiver, or the developer's own handler served on a free port."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

from polytag.callbacks.receiver import Receiver, decode, new_aes_key, new_token
from polytag.callbacks.serving import Served

if TYPE_CHECKING:
    from polytag.control.sdk import Control


class CallbackTarget:
    """`events()` waits until deliveries settle and decodes every push that was sent, from the
    bytes on the wire (signatures checked, envelope opened)."""

    def __init__(self, control: Control, app: str, mode: str = "safe", handler: Any = None,
                 path: str = "/callback", token: str | None = None, encoding_aes_key: str | None = None) -> None:
        self.control, self.app, self.mode = control, app, mode
        self.token, self.encoding_aes_key = token or new_token(), encoding_aes_key or new_aes_key()
        self.receiver: Receiver | None = None
        self.served: Served | None = None
        if handler is None:
            self.receiver = Receiver(self.token, self.encoding_aes_key, app).start()
            self.url = self.receiver.url
        else:
            self.served = Served(handler)
            self.url = self.served.url(path)
        control.set_callback_config(app, {"url": self.url, "token": self.token, "mode": mode,
                                          "encoding_aes_key": self.encoding_aes_key})

    def simulate(self, action: str, **fields: Any) -> dict[str, Any]:
        return self.control.simulate(self.app, action, **fields)

    def verify(self) -> dict[str, Any]:
        return self.control.verify_callback(self.app)

    def deliveries(self) -> list[dict[str, Any]]:
        return self.control.callbacks(app=self.app)

    def events(self, timeout: float = 30.0) -> list[dict[str, str]]:
        assert self.control.flush_callbacks(self.app, timeout), f"deliveries still pending after {timeout} s"
        out = []
        for d in self.deliveries():
            if d["event"] != "url_check" and d["attempts"]:
                query = dict(parse_qsl(urlsplit(d["request"]["url"]).query))
                out.append(decode(query, d["request"]["body"].encode(), self.token, self.encoding_aes_key, self.app))
        return out

    def close(self) -> None:
        if self.receiver is not None:
            self.receiver.stop()
        if self.served is not None:
            self.served.stop()
