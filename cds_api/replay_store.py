"""The JWT ``jti`` replay guard shared by every worker process: one SQLite table in KGCDS_HOME.

With several workers behind one socket, a token replayed to another worker must be refused too,
so the (issuer, jti) pairs seen cannot live in one process's memory. A row is unique per
(issuer, jti) and carries the token's expiry; an expired row may be taken over by a new token
with the same jti, and expired rows are pruned now and then.

The write runs on the event loop, not in a thread: it is a single-row upsert of a few tens of
microseconds, well below what a thread hop costs. ``synchronous=OFF``: the rows must survive a
worker crash (they do: the OS holds the pages), not a power cut, after which every token has
expired anyway before the service is back.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from cds_api.errors import Unauthorized
from cds_api.sqlite_wal import connect_wal

LOG = logging.getLogger("kgcds.api")
PRUNE_EVERY_CALLS = 1000
"""Each process deletes expired rows once per this many verified tokens (one indexed range delete)."""

SCHEMA = """
CREATE TABLE IF NOT EXISTS seen_jti (
    issuer TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (issuer, jti)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS seen_jti_expiry ON seen_jti (expires_at);
"""

# Insert the pair, or take over an expired row of the same pair; a live row is left alone, and
# then no row changes: that is the replay.
REMEMBER = (
    "INSERT INTO seen_jti (issuer, jti, expires_at) VALUES (?, ?, ?) "
    "ON CONFLICT (issuer, jti) DO UPDATE SET expires_at = excluded.expires_at WHERE seen_jti.expires_at < ?"
)


class SharedReplayGuard:
    """Same contract as :class:`cds_api.security.ReplayGuard`, across processes.

    Constructed with a path only; :meth:`connect` (in each worker's lifespan, after the fork)
    opens the database, :meth:`close` closes it.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db: sqlite3.Connection | None = None
        self._lock = threading.Lock()
        self._calls = 0

    def connect(self) -> None:
        # A lost write on power failure only forgets a few jtis that are about to expire anyway.
        db = connect_wal(self.path, synchronous="OFF")
        db.executescript(SCHEMA)
        self._db = db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    def check_and_remember(self, issuer: str, jti: str, expires_at: float, now: float) -> None:
        with self._lock:
            if self._db is None:
                raise RuntimeError("the replay store is opened at application start-up")
            try:
                changed = self._db.execute(REMEMBER, (issuer, jti, expires_at, now)).rowcount
            except sqlite3.Error as exc:
                # Fail closed: without the store a replay cannot be told from a first use.
                LOG.error("jti replay store unavailable: %s", exc)
                raise Unauthorized("token could not be checked for replay; try again") from exc
            self._calls += 1
            if self._calls % PRUNE_EVERY_CALLS == 0:
                _prune(self._db, now)
        if changed == 0:
            raise Unauthorized("token replayed: its jti was already used")

    def live_rows(self, now: float) -> int:
        """How many unexpired tokens are remembered (for tests and operators)."""
        with self._lock:
            if self._db is None:
                raise RuntimeError("the replay store is not open")
            row = self._db.execute("SELECT count(*) FROM seen_jti WHERE expires_at >= ?", (now,)).fetchone()
            return int(row[0])


def _prune(db: sqlite3.Connection, now: float) -> None:
    try:
        db.execute("DELETE FROM seen_jti WHERE expires_at < ?", (now,))
    except sqlite3.Error:  # pruning is housekeeping: the next round will try again
        LOG.warning("could not prune expired jti rows", exc_info=True)
