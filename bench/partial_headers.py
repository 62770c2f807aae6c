"""Slow clients: how many open files `polytag serve` holds for connections that send half a
request's headers, while they are open and after its header deadline (docs/reliability.md).

    .venv/bin/python bench/partial_headers.py [--connections 3000] [--wait 13]

Starts `polytag serve` with its default deadlines on a temporary SQLite file. Linux only (reads
/proc). Prints numbers; asserts nothing (benchmarks are not tests).
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PARTIAL = b"GET /_polytag/health HTTP/1.1\r\nHost: localhost\r\nX-Slow: "


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.01)
    try:
        return sock.recv(1) == b""
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--connections", type=int, default=3000)
    parser.add_argument("--wait", type=float, default=13.0, help="seconds after opening them all")
    args = parser.parse_args()
    n = args.connections
    resource.setrlimit(resource.RLIMIT_NOFILE, (n + 200, max(n + 200, resource.getrlimit(resource.RLIMIT_NOFILE)[1])))
    db = Path(tempfile.mkdtemp()) / "slow.db"
    proc = subprocess.Popen([sys.executable, "-m", "polytag", "serve", "--port", "0", "--db", f"sqlite:///{db}"],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    port = int(proc.stdout.readline().strip().rsplit(":", 1)[1])

    def files() -> int:
        return len(os.listdir(f"/proc/{proc.pid}/fd"))

    try:
        print(f"server open files at start: {files()}")
        socks = []
        for _ in range(n):
            sock = socket.create_connection(("127.0.0.1", port))
            sock.sendall(PARTIAL)
            socks.append(sock)
        time.sleep(1)
        print(f"with {n:,} partial requests open: {files()}")
        time.sleep(args.wait)
        print(f"{args.wait + 1:.0f} s after opening them: {files()}; closed by the server: "
              f"{sum(map(closed_by_server, socks)):,} of {n:,}")
        for sock in socks:
            sock.close()
    finally:
        proc.terminate()
        proc.wait()


if __name__ == "__main__":
    main()
