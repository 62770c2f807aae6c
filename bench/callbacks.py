"""Callback delivery: latency (queued to acknowledged) p50/p99 and deliveries per second, from a
`polytag serve` on a free port to a local receiver, per WeChat mode and for WeCom (always
encrypted); then the delivery machinery alone beside its peer, a bare httpx client posting the
same requests to the same receiver one after another (the floor any in-order delivery has).

    .venv/bin/python bench/callbacks.py [--events 500] [--modes plain,safe] [--receiver stdlib|uvicorn] [--concurrency 16]

Each event is a `POST /_polytag/simulate` (WeChat: a follow; WeCom: a member adds a customer; a
write, then one push); the clock runs from the first simulate to `POST /_polytag/callbacks/flush`
answering settled. Prints numbers; asserts nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from polytag.callbacks.config import CallbackConfig
from polytag.callbacks.delivery import Deliverer
from polytag.callbacks.face import Event, Stamp
from polytag.callbacks.faults import DeliveryFaults
from polytag.callbacks.hosts import HostPolicy
from polytag.callbacks.journal import DeliveryJournal
from polytag.callbacks.receiver import Receiver
from polytag.callbacks.serving import Served
from polytag.core.limits import Limits
from polytag.core.models import App
from polytag.dialects.wechat.callbacks import FACE
from polytag.testing import start_server, stop_server


def success_app() -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        while (await receive()).get("more_body"):
            pass
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"7")]})
        await send({"type": "http.response.body", "body": b"success"})

    return app


# app -> (its seed entry, the simulate document of event i in a mode)
APPS: dict[str, tuple[dict[str, Any], Any]] = {
    "wxbench": ({"dialect": "wechat", "appid": "wxbench", "secret": "s"},
                lambda i, mode: {"action": "follow", "openid": f"o{mode}{i:024d}"}),
    "wwbench": ({"dialect": "wecom", "corpid": "wwbench", "secret": "s", "members": ["m"]},
                lambda i, mode: {"action": "add_customer", "userid": "m", "external_userid": f"wm{mode}{i:024d}"}),
}


async def simulate_all(base: str, appid: str, mode: str, events: int, concurrency: int) -> None:
    """`events` simulated events, `concurrency` at a time (the server's group commit batches their writes)."""
    gate = asyncio.Semaphore(concurrency)
    doc_of = APPS[appid][1]
    async with httpx.AsyncClient(base_url=base, timeout=300) as http:

        async def one(i: int) -> None:
            async with gate:
                resp = await http.post("/_polytag/simulate", json={"app": appid, **doc_of(i, mode)})
                resp.raise_for_status()

        await asyncio.gather(*(one(i) for i in range(events)))


def run(http: httpx.Client, appid: str, target: tuple[str, str, str], mode: str, events: int,
        concurrency: int) -> dict[str, float]:
    url, token, key = target
    http.put("/_polytag/callbacks/config", params={"app": appid},
             json={"url": url, "token": token, "encoding_aes_key": key, "mode": mode}).raise_for_status()
    http.delete("/_polytag/callbacks", params={"app": appid})
    started = time.perf_counter()
    asyncio.run(simulate_all(str(http.base_url), appid, mode, events, concurrency))
    posted = time.perf_counter()
    assert http.post("/_polytag/callbacks/flush", json={"timeout": 300}).json()["settled"]
    done = time.perf_counter()
    got = http.get("/_polytag/callbacks", params={"app": appid}).json()["deliveries"]
    lat = sorted(d["latency_ms"] for d in got if d["state"] == "delivered")
    q = statistics.quantiles(lat, n=100) if len(lat) > 1 else lat * 99
    return {"delivered": len(lat), "p50_ms": q[49], "p99_ms": q[98], "max_ms": lat[-1],
            "deliveries_per_s": len(lat) / (done - started), "simulate_per_s": events / (posted - started)}


def engine(url: str, token: str, key: str, mode: str, events: int) -> dict[str, float]:
    """The delivery machinery alone, in-process: `events` pushes rendered and queued at once,
    then drained to the receiver (no HTTP in front, no writes)."""
    app = App(1, "wechat", "wxbench", Limits(), {})
    cfg = CallbackConfig(url, token, key, mode)
    journal = DeliveryJournal()
    deliverer = Deliverer(journal, DeliveryFaults(), HostPolicy())

    async def go() -> float:
        started = time.perf_counter()
        for i in range(events):
            event = Event("subscribe", {"ToUserName": "gh_bench", "FromUserName": f"o{i:027d}",
                                        "CreateTime": int(time.time()), "MsgType": "event", "Event": "subscribe"})
            deliverer.submit(app.name, FACE, event, FACE.render(app, cfg, event, Stamp.fresh(time.time())))
        assert await deliverer.flush(None, 300)
        return time.perf_counter() - started

    seconds = asyncio.run(go())
    done = [d for d in journal.select() if d.state == "delivered"]
    trip = sorted(a.ms for d in done for a in d.attempts)
    q = statistics.quantiles(trip, n=100)
    return {"delivered": len(done), "p50_ms": q[49], "p99_ms": q[98], "deliveries_per_s": len(done) / seconds,
            "peer_per_s": peer(url, [d.request for d in done])}


def peer(url: str, requests: list[Any]) -> float:
    """The same requests posted by one bare httpx client, in order: deliveries per second."""

    async def go() -> float:
        async with httpx.AsyncClient(timeout=30) as http:
            started = time.perf_counter()
            for r in requests:
                got = await http.request(r.method, r.url, headers=dict(r.headers), content=r.body)
                assert got.status_code == 200
            return time.perf_counter() - started

    return len(requests) / asyncio.run(go())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=500)
    ap.add_argument("--modes", default="plain,safe")
    ap.add_argument("--receiver", choices=["stdlib", "uvicorn"], default="uvicorn")
    ap.add_argument("--concurrency", type=int, default=16, help="simulate calls in flight")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    proc, base = start_server(f"sqlite:///{tmp / 'bench.db'}", None)
    recv = Receiver().start() if args.receiver == "stdlib" else None
    served = Served(success_app()) if recv is None else None
    url = recv.url if recv else served.url("/callback")  # type: ignore[union-attr]
    token, key = (recv.token, recv.encoding_aes_key) if recv else ("benchToken", "a" * 43)
    try:
        with httpx.Client(base_url=base, timeout=300) as http:
            http.post("/_polytag/seed", json={"apps": [entry for entry, _doc in APPS.values()]})
            print(f"{args.events} events per row, {args.concurrency} simulate calls in flight, "
                  f"receiver: {args.receiver}")
            rows = [("wxbench", m) for m in args.modes.split(",")] + [("wwbench", "safe")]
            for appid, mode in rows:
                own = url if appid == "wxbench" else url + "-" + appid  # one URL per app
                r = run(http, appid, (own, token, key), mode, args.events, args.concurrency)
                print(f"  {appid} {mode:7s} delivered {r['delivered']:5.0f}  latency p50 {r['p50_ms']:7.2f} ms  "
                      f"p99 {r['p99_ms']:7.2f} ms  max {r['max_ms']:7.2f} ms  "
                      f"{r['deliveries_per_s']:7.1f} deliveries/s  ({r['simulate_per_s']:.1f} simulate calls/s)")
            print("the delivery machinery alone (in-process, all queued at once; latency: one round trip):")
            for mode in args.modes.split(","):
                r = engine(url, token, key, mode, args.events)
                print(f"  {mode:7s} delivered {r['delivered']:5.0f}  round trip p50 {r['p50_ms']:7.2f} ms  "
                      f"p99 {r['p99_ms']:7.2f} ms  {r['deliveries_per_s']:7.1f} deliveries/s; bare httpx, same "
                      f"requests: {r['peer_per_s']:7.1f}/s (ratio {r['deliveries_per_s'] / r['peer_per_s']:.2f})")
    finally:
        if recv:
            recv.stop()
        if served:
            served.stop()
        stop_server(proc)


if __name__ == "__main__":
    main()
