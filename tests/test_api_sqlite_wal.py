"""Workers opening the same SQLite database at once (the race that stopped a 2-worker server at start-up)."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cds_api.feedback_store import FeedbackRecord, FeedbackStore
from cds_api.sqlite_wal import connect_wal


def _hold_write_lock(path: Path, seconds: float) -> threading.Thread:
    """Another worker in the middle of creating the schema: a RESERVED lock, released after ``seconds``."""
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN IMMEDIATE")
    holder.execute("INSERT INTO t VALUES (1)")

    def release() -> None:
        threading.Event().wait(seconds)
        holder.execute("COMMIT")
        holder.close()

    thread = threading.Thread(target=release)
    thread.start()
    return thread


def test_switching_to_wal_waits_for_another_connection_instead_of_failing(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    thread = _hold_write_lock(path, 0.3)
    plain = sqlite3.connect(path, isolation_level=None, timeout=5.0)
    # SQLite refuses at once here, busy timeout or not (waiting could deadlock): what stopped a worker.
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        plain.execute("PRAGMA journal_mode=WAL")
    plain.close()
    connection = connect_wal(path)
    thread.join()
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.close()


def test_feedback_stores_opened_at_once_agree_on_one_secret(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    stores: list[FeedbackStore] = []
    errors: list[BaseException] = []

    def open_one() -> None:
        try:
            stores.append(FeedbackStore.open(path))
        except BaseException as error:  # reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=open_one) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    card = stores[0].card_ids("svc").mint("rule-a", "1", "warning")
    # A card issued through one store is recognised by another: they share the secret and the rule keys.
    now = datetime.now(UTC)
    feedback = FeedbackRecord(card, "svc", "overridden", now, None, "will-monitor", None, 0)
    assert stores[-1].record_feedback([feedback], now) == 1
    for store in stores:
        store.close()
