"""The slow clients of bench/soak_hostile.py: connections that send partial headers or a body a
byte a second, or sit idle, each held for at most `hold` seconds, counted by how they ended."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from typing import Protocol


class SlowStats(Protocol):
    slow: Counter[str]  # "kind:opened", "kind:closed_by_server", ...
    slow_held: list[float]  # seconds each connection was held

SLOW_KINDS = ["partial_headers", "slow_body", "idle"]


async def slow_client(port: int, kind: str, hold: float, stats: SlowStats, stop: asyncio.Event) -> None:
    """One slow connection for at most `hold` seconds; notes whether the server closed it first."""
    stats.slow[f"{kind}:opened"] += 1
    started = time.monotonic()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
    except OSError:
        stats.slow[f"{kind}:connect_failed"] += 1
        return
    closed_by_server = False
    try:
        if kind == "partial_headers":
            writer.write(b"GET /_polytag/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            trickle = b"X-Slow: " + b"a" * 4096
        elif kind == "slow_body":
            writer.write(b"POST /cgi-bin/tags/create HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
            trickle = b"{" + b" " * 99_999
        else:
            trickle = b""
        await writer.drain()
        i = 0
        while time.monotonic() - started < hold and not stop.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                got = await asyncio.wait_for(reader.read(4096), timeout=1.0)
                if got == b"" or got.startswith(b"HTTP/"):  # closed, or answered (a 408/400: a timeout)
                    closed_by_server = True
                    break
            if trickle and i < len(trickle):
                writer.write(trickle[i:i + 1])
                i += 1
                await writer.drain()
    except (ConnectionError, OSError):
        closed_by_server = True
    finally:
        held = time.monotonic() - started
        stats.slow_held.append(held)
        stats.slow[f"{kind}:{'closed_by_server' if closed_by_server else 'held_to_the_end'}"] += 1
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


async def slow_clients(port: int, n: int, hold: float, stats: SlowStats, stop: asyncio.Event) -> None:
    async def slot(i: int) -> None:
        while not stop.is_set():
            await slow_client(port, SLOW_KINDS[i % len(SLOW_KINDS)], hold, stats, stop)
            i += 1

    await asyncio.gather(*(slot(i) for i in range(n)))
