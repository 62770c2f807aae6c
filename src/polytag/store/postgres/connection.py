"""PostgreSQL connections: the database URL (`schema=`, several hosts), connecting, admin helpers."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from polytag.errors import Unavailable

_SCHEMA_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
# Errors that mean "the server or the connection is in trouble", never "your SQL is wrong".
TRANSIENT = (psycopg.OperationalError, psycopg.InterfaceError)


def parse_url(url: str) -> tuple[str, str]:
    """(libpq conninfo URL without `schema=`, schema name)."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = "public"
    kept = []
    for key, value in query:
        if key == "schema":
            schema = value
        else:
            kept.append((key, value))
    if not _SCHEMA_NAME.match(schema):
        raise ValueError(f"invalid schema name {schema!r} in database URL")
    if "," in parts.netloc and not any(key == "target_session_attrs" for key, _ in kept):
        # several hosts (a primary and its standbys): only the one that takes writes will do,
        # for reads too (the index catches up to the head it reads, which a standby may lag)
        kept.append(("target_session_attrs", "read-write"))
    scheme = "postgresql"
    return urlunsplit((scheme, parts.netloc, parts.path, urlencode(kept), "")), schema



_CONNECT_TIMEOUT = 10  # seconds per host, unless the URL says `connect_timeout=`


def connect(conninfo: str, schema: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """A connection whose search_path is polytag's schema (autocommit: we issue BEGIN ourselves).

    The URL's `connect_timeout` wins over our default: with several hosts, a dead one that
    drops packets costs that long per attempt, and a failover's gap pays it on every attempt."""
    if "connect_timeout" not in psycopg.conninfo.conninfo_to_dict(conninfo):
        kwargs.setdefault("connect_timeout", _CONNECT_TIMEOUT)
    try:
        return psycopg.connect(conninfo, autocommit=True, options=f"-c search_path={schema}", **kwargs)
    except TRANSIENT as exc:
        raise Unavailable(f"cannot connect to the database: {exc}") from exc



@contextlib.contextmanager
def admin_connection(url: str) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to the URL's database (for tools and tests: create/drop schemas)."""
    conninfo, schema = parse_url(url)
    with contextlib.closing(connect(conninfo, schema)) as conn:
        yield conn


def drop_schema(url: str) -> None:
    """Drop the URL's schema and everything in it (tests, `reset`)."""
    _, schema = parse_url(url)
    if schema == "public":
        raise ValueError("refusing to drop the public schema")
    with admin_connection(url) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
