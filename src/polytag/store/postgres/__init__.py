"""PostgreSQL backend: psycopg 3, a pool of autocommit readers, one writer connection per process.

Write groups are serialized per app across processes by transaction-level advisory locks
taken in the BEGIN's round trip, as SQLite's BEGIN IMMEDIATE serializes them across
connections: the membership log's per-app sequence and every uniqueness and limit check rely
on it. A group of ops that each name their app takes the schema's write key in shared mode,
then one key per app in ascending order (no two groups can wait for each other in a cycle);
a group holding an op that may span apps (app create/delete, seeds, snapshot loads) takes
the write key exclusively, so it runs alone, as every group did before. Groups of different
apps thus commit in parallel, groups of one app one after another.

Round trips: BEGIN and the locks go in one pipeline; an op's savepoint rides with its first
statement; the group's own writes (log rows, the app's head, tag versions) are queued and
sent in one pipeline with the RELEASE owed and the COMMIT; the head of
each locked app is read with BEGIN and kept until the group writes again. A group that may
change an app or a token moves the database's generation (`generation`) in the same pipeline.

`postgresql://USER@HOST:PORT/DB?schema=NAME` keeps polytag's tables in schema NAME (created
on first start), so several deployments or test runs can share one database. libpq's multi-host
form, `postgresql://H1:P1,H2:P2/DB?target_session_attrs=read-write`, names a primary and its
standbys: every connection goes to whichever accepts writes (read-write is the default when
several hosts are named), so after a failover new connections find the promoted standby.
Database errors become `Unavailable` (the dialects' "system busy"); reads are retried once
on a fresh connection, and a group whose connection broke fails as a whole, never in part.

Modules: `connection` (URL, connecting, admin helpers), `rows` (reads), `tx` (the write
connection: locks, savepoints, pipeline), `generation` (the database's generation, read
off the event loop), `store` (PostgresStore).
"""

from polytag.store.postgres.connection import (
    TRANSIENT,
    admin_connection,
    connect,
    drop_schema,
    parse_url,
)
from polytag.store.postgres.rows import PgReadRows, PgRows, pg_sql
from polytag.store.postgres.store import PostgresStore
from polytag.store.postgres.tx import PgTx, app_lock, lock_key

__all__ = ["TRANSIENT", "PgReadRows", "PgRows", "PgTx", "PostgresStore", "admin_connection", "app_lock",
           "connect", "drop_schema", "lock_key", "parse_url", "pg_sql"]
