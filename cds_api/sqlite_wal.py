"""Opening a SQLite database in WAL mode from several worker processes at once.

Switching a database to WAL needs an exclusive lock, and SQLite answers "database is locked" at once
instead of waiting on its busy handler when another connection holds one, which is exactly what happens
when N freshly forked workers open the feedback and replay databases in the same instant. So the switch is
retried for a while; every other statement waits through the connection's busy timeout as usual.
"""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

BUSY_TIMEOUT_SECONDS = 5.0
WAL_RETRY_SECONDS = 10.0


def connect_wal(path: Path, synchronous: str = "NORMAL") -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
    deadline = time.monotonic() + WAL_RETRY_SECONDS
    delay = 0.01
    while True:
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                connection.close()
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.2)
    connection.execute(f"PRAGMA synchronous={synchronous}")
    return connection
