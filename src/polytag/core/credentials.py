"""Access tokens: issued per app, stored by hash; a check reads the row, or a fresh copy of it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from polytag.core.apps import Apps
from polytag.core.clock import Clock
from polytag.core.fresh import MAX_ENTRIES, Fresh
from polytag.core.ids import random_token, token_hash
from polytag.core.models import App
from polytag.errors import NotFound, Unauthorized
from polytag.store import Store, Tx


@dataclass(frozen=True)
class Issued:
    token: str
    expires_in: int


TokenRow = tuple[int, str, float, float]  # (app_id, kind, issued_at, expires_at)


class Tokens:
    def __init__(self, store: Store, clock: Clock, apps: Apps) -> None:
        self.store = store
        self.clock = clock
        self.apps = apps
        # token -> its row; keyed by the token itself, so a hit costs no hashing
        self._rows: Fresh[str, tuple[int, str, float, float]] = Fresh(store.generation)
        # token -> (database generation, (its row, its app's row)) read together (PostgreSQL)
        self._joined: dict[str, tuple[int, tuple[TokenRow, tuple[Any, ...]]]] = {}

    def issue(self, tx: Tx, app_id: int, kind: str, ttl: int, overlap: int, reissue: bool = False) -> Issued:
        """A new token; earlier ones of the same kind stay valid for `overlap` seconds at most.

        `reissue` keeps the token itself (not only its hash) so the same one can be handed out
        again, as `stable_token` must: only the newest keeps it (earlier ones forget theirs), and
        snapshots leave it out unless asked (control/snapshot.py SECRET_COLUMNS)."""
        now = self.clock.now()
        token = random_token()
        h = token_hash(token)
        tx.insert_token(h, app_id, kind, now, now + ttl, token if reissue else "")
        if reissue:
            tx.forget_reissue(app_id, kind, h)
        tx.cap_token_expiry(app_id, kind, now + overlap, h)
        tx.purge_tokens(app_id, kind, now - 86400)
        return Issued(token, ttl)

    def latest(self, tx: Tx, app_id: int, kind: str) -> tuple[str, float, float] | None:
        """(reissuable token, issued_at, expires_at) of the newest live token of `kind`."""
        live = tx.live_tokens(app_id, kind, self.clock.now())
        return (live[0][3], live[0][1], live[0][2]) if live and live[0][3] else None

    def with_app(self, token: str) -> tuple[tuple[int, str, float, float], tuple[Any, ...]] | None:
        """The token's row and its app's row, in one read (for a store that caches neither:
        PostgreSQL), or None for a token nobody holds. Not judged: `check(..., row=)` does that."""
        got = self.store.read().token_and_app(token_hash(token))
        if got is None:
            return None
        return (int(got[0]), str(got[1]), float(got[2]), float(got[3])), tuple(got[4:])

    async def with_app_now(self, token: str) -> tuple[TokenRow, tuple[Any, ...]] | None:
        """`with_app`, as exact as a read begun now, from a copy while it is exact (PostgreSQL).

        The copy was read together with the database's generation; it serves while a read of the
        generation begun after this call (shared with concurrent callers, off the event loop)
        finds the same value: no write to an app or a token has committed since, in any process.
        A store without a database generation reads the rows (`with_app`)."""
        database = self.store.database_generation
        if database is None:
            return self.with_app(token)
        generation = await database.now()
        hit = self._joined.get(token)
        if hit is not None and hit[0] == generation:
            return hit[1]
        got = database.token_and_app(token_hash(token))
        if got is None:
            return None  # an unknown token is not remembered: it costs the caller a read
        read_at, row = got
        out = (int(row[0]), str(row[1]), float(row[2]), float(row[3])), tuple(row[4:])
        if len(self._joined) >= MAX_ENTRIES:
            self._joined.clear()
        self._joined[token] = (read_at, out)
        return out

    def owner(self, token: str) -> tuple[TokenRow, App] | None:
        """The token's row and its app, or None for a token nobody holds; not judged (`check`
        judges the row). Where nothing is cached (PostgreSQL) one joined read gives both;
        otherwise the `Fresh` row and app caches serve. The one read of a token's app: the
        control plane's app hint and the dialect's authentication share it (`Call.token_owner`)."""
        if self.store.generation is None:
            got = self.with_app(token)
            return None if got is None else (got[0], self.apps.of_row(got[1]))
        row = self._row(token)
        if row is None:
            return None
        try:
            return row, self.apps.by_id(row[0])
        except NotFound:  # the app went between the two reads
            return None

    def _row(self, token: str) -> TokenRow | None:
        """The token's row from the `Fresh` cache, or read (and remembered when it exists)."""
        row = self._rows.get(token)
        if row is None:
            mark = self._rows.mark()
            got = self.store.read().token(token_hash(token))
            row = None if got is None else (int(got[0]), str(got[1]), float(got[2]), float(got[3]))
            if row is not None:  # an unknown token is not remembered: it costs the caller a read
                self._rows.put(token, row, mark)
        return row

    async def owner_now(self, token: str) -> tuple[TokenRow, App] | None:
        """`owner` for a dialect's authentication: where nothing is cached in-process (PostgreSQL),
        the exact copy checked against the database's generation off the event loop (`with_app_now`)."""
        if self.store.generation is not None:
            return self.owner(token)
        got = await self.with_app_now(token)
        return None if got is None else (got[0], self.apps.of_row(got[1]))

    def check(self, token: str, kind_ttl: dict[str, int],
              row: tuple[int, str, float, float] | None = None) -> tuple[int, str]:
        """(app_id, kind) of a valid token, or Unauthorized("invalid" | "expired").

        The row comes from a `Fresh` cache, which any process's write to a token or an app
        makes stale at once (PostgreSQL: read on every call), or is `row`, read earlier in the
        same call (`with_app`). Expiry is judged on every call, against the clock."""
        if row is None:
            row = self._row(token)
        if row is None:
            raise Unauthorized("invalid")
        app_id, kind, issued, expires = row
        if self.clock.now() >= expires:
            superseded = expires < issued + kind_ttl.get(kind, 0) - 1
            raise Unauthorized("invalid" if superseded else "expired")
        return app_id, kind
