"""A PostgreSQL primary and a synchronous hot standby of our own, for failover tests and benches.

Debian's PostgreSQL 15 tools (`initdb`, `pg_ctl`, `pg_basebackup`) build both in a temp dir, on
free ports: streaming replication, `synchronous_standby_names = 'FIRST 1 (standby1)'` and
`synchronous_commit = on` on the primary, so a COMMIT returns only once the standby has the
WAL on disk. `kill_primary()` SIGKILLs the primary's whole process group (as if its machine
died); `promote()` makes the standby the primary. The standby asks for no synchronous standby
of its own, so once promoted it commits alone (a real deployment attaches a new standby).

PostgreSQL refuses to run as root, so under root (CI) the servers run as the `postgres` OS
user, which owns the data directories. No pytest imports here (bench/failover.py uses it too).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("POLYTAG_PG_BIN", "/usr/lib/postgresql/15/bin"))
DB = "polytag"
STANDBY_NAME = "standby1"


def available() -> str:
    """Why a cluster cannot be built here ("" if it can)."""
    for tool in ("initdb", "pg_ctl", "pg_basebackup", "postgres"):
        if not (PG_BIN / tool).exists():
            return f"{PG_BIN / tool} not found (Debian package postgresql-15)"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return ""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                # the field after the parenthesised command name: state, then ppid
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"  # a zombie is dead, waiting for its reaper


class PgCluster:
    """Primary + synchronous standby on 127.0.0.1; a context manager that removes everything after."""

    def __init__(self, base: str | None = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="polytag-pgha-", dir=base))
        self.ports = (free_port(), free_port())
        self.primary, self.standby = self.dir / "primary", self.dir / "standby"
        self._as_postgres = os.geteuid() == 0
        if self._as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self.promoted = False

    # running the tools ------------------------------------------------------
    def _run(self, *args: str | Path, timeout: float = 120) -> str:
        cmd = [str(a) for a in args]
        if self._as_postgres:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=self.dir)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def _conf(self, datadir: Path, lines: list[str]) -> None:
        with open(datadir / "postgresql.auto.conf", "a") as f:
            f.write("\n".join(lines) + "\n")

    def _start(self, datadir: Path) -> None:
        self._run(PG_BIN / "pg_ctl", "start", "-w", "-t", "60", "-D", datadir, "-l", datadir / "server.log")

    # building the pair ------------------------------------------------------
    def start(self) -> PgCluster:
        p1, p2 = self.ports
        self._run(PG_BIN / "initdb", "-D", self.primary, "-U", "postgres", "--auth=trust", "-N",
                  "-E", "UTF8", "--locale=C")
        common = ["listen_addresses = '127.0.0.1'", f"unix_socket_directories = '{self.dir}'",
                  "max_connections = 100", "shared_buffers = '32MB'", "fsync = on"]
        self._conf(self.primary, [
            *common, f"port = {p1}", "wal_level = replica", "max_wal_senders = 4", "synchronous_commit = on",
        ])
        self._start(self.primary)
        self._run(PG_BIN / "psql", "-h", "127.0.0.1", "-p", str(p1), "-U", "postgres", "-d", "postgres",
                  "-qAt", "-c", f"CREATE DATABASE {DB}")
        self._run(PG_BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", str(p1), "-U", "postgres",
                  "-D", self.standby, "-R", "-X", "stream", "-c", "fast")
        # later lines win: our port, our name for synchronous_standby_names, and no standby of its own
        self._conf(self.standby, [
            *common, f"port = {p2}", "hot_standby = on", "synchronous_standby_names = ''",
            f"primary_conninfo = 'host=127.0.0.1 port={p1} user=postgres application_name={STANDBY_NAME}'",
        ])
        self._start(self.standby)
        # only now: with no standby attached, every COMMIT (CREATE DATABASE too) would wait for one
        self._conf(self.primary, [f"synchronous_standby_names = 'FIRST 1 ({STANDBY_NAME})'"])
        self._run(PG_BIN / "pg_ctl", "reload", "-D", self.primary)
        self.wait_sync()
        return self

    def sql(self, port: int, query: str) -> str:
        return self._run(PG_BIN / "psql", "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
                         "-d", DB, "-qAt", "-c", query).strip()

    def wait_sync(self, timeout: float = 60) -> None:
        """Until the primary reports the standby as its synchronous one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = self.sql(self.ports[0], "SELECT sync_state FROM pg_stat_replication"
                             f" WHERE application_name = '{STANDBY_NAME}'")
            if state == "sync":
                return
            time.sleep(0.1)
        raise RuntimeError(f"standby never became synchronous:\n{self.log('standby')}")

    # what a test sees -------------------------------------------------------
    @property
    def url(self) -> str:
        """libpq's multi-host URL: whichever of the two accepts writes."""
        p1, p2 = self.ports
        return f"postgresql://postgres@127.0.0.1:{p1},127.0.0.1:{p2}/{DB}?target_session_attrs=read-write"

    def log(self, which: str) -> str:
        path = (self.primary if which == "primary" else self.standby) / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    # failing over -----------------------------------------------------------
    def kill_primary(self) -> None:
        """SIGKILL the primary's postmaster and every process of it at once, as if its machine died.

        (Each backend has a session of its own, so there is no process group to signal: the
        postmaster is stopped first, so it forks nothing more, then its children and it are killed.)"""
        pid = int((self.primary / "postmaster.pid").read_text().split("\n", 1)[0])
        os.kill(pid, signal.SIGSTOP)
        for child in children(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (_alive(pid) or children(pid)):
            time.sleep(0.01)

    def walreceiver(self) -> int:
        """The standby's WAL receiver process."""
        pid = int((self.standby / "postmaster.pid").read_text().split("\n", 1)[0])
        for child in children(pid):
            with contextlib.suppress(OSError):
                if b"walreceiver" in Path(f"/proc/{child}/cmdline").read_bytes():
                    return child
        raise RuntimeError("the standby has no WAL receiver")

    def waiting_for_standby(self) -> int:
        """Backends of the primary whose COMMIT waits for the standby's flush, once the WAL
        they wait on has been sent (so it is in the standby's socket, if not yet on its disk)."""
        return int(self.sql(self.ports[0], (
            "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep' AND"
            " (SELECT min(sent_lsn) FROM pg_stat_replication) >= pg_current_wal_flush_lsn()")))

    def promote(self) -> None:
        self._run(PG_BIN / "pg_ctl", "promote", "-w", "-t", "60", "-D", self.standby)
        self.promoted = True

    def stop(self) -> None:
        for datadir in (self.standby, self.primary):
            if (datadir / "postmaster.pid").exists():
                with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                    self._run(PG_BIN / "pg_ctl", "stop", "-m", "immediate", "-w", "-D", datadir, timeout=30)
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
