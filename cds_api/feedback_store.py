"""Durable record of issued cards and the clinician's feedback on them (SQLite, WAL).

Only what ``kgcds rules report`` needs is kept: card uuid, service, rule id and version, indicator,
outcome, the coded override reason and times. No patient identifier and no free text (the
feedback's ``userComment`` may name the patient, so it is not stored).

Issued cards are buffered in memory and written in one transaction by :meth:`flush` (the app calls
it every second and at shutdown) so a hook call never waits on a disk write.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cds_api.cards import IssuedCard

MAX_PENDING = 200_000
SCHEMA = """
CREATE TABLE IF NOT EXISTS issued_card (
    card_uuid TEXT PRIMARY KEY,
    service_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    rule_version TEXT NOT NULL,
    indicator TEXT NOT NULL,
    issued_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS card_feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    card_uuid TEXT NOT NULL,
    service_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    rule_version TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
    override_reason_system TEXT,
    override_reason_code TEXT,
    override_reason_display TEXT,
    accepted_suggestions INTEGER NOT NULL DEFAULT 0,
    outcome_time TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS card_feedback_rule ON card_feedback (rule_id);
CREATE INDEX IF NOT EXISTS issued_card_rule ON issued_card (rule_id);
"""


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    card_uuid: str
    service_id: str
    outcome: str
    outcome_time: datetime
    override_reason_system: str | None
    override_reason_code: str | None
    override_reason_display: str | None
    accepted_suggestions: int


@dataclass(frozen=True, slots=True)
class StoredFeedback:
    card_uuid: str
    service_id: str
    rule_id: str
    rule_version: str
    outcome: str
    override_reason_code: str | None
    outcome_time: str


@dataclass(frozen=True, slots=True)
class RuleTally:
    rule_id: str
    fired: int
    accepted: int
    overridden: int

    @property
    def override_rate(self) -> float | None:
        answered = self.accepted + self.overridden
        return self.overridden / answered if answered else None


class UnknownCard(LookupError):
    """Feedback names a card this service never issued (or issued before the database was reset)."""


class FeedbackStore:
    def __init__(self, connection: sqlite3.Connection) -> None:
        self._db = connection
        self._lock = threading.Lock()
        """Serialises use of the SQLite connection."""
        self._pending_lock = threading.Lock()
        self._pending: list[tuple[str, str, str, str, str, str]] = []

    @classmethod
    def open(cls, path: Path) -> FeedbackStore:
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.executescript(SCHEMA)
        return cls(connection)

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._db.close()

    def record_issued(self, service_id: str, cards: Sequence[IssuedCard], when: datetime) -> None:
        stamp = when.astimezone(UTC).isoformat()
        with self._pending_lock:
            if len(self._pending) >= MAX_PENDING:
                # The database has been failing for a long while: keep serving, lose the oldest fire counts.
                del self._pending[: len(cards)]
            self._pending.extend(
                (card.card_uuid, service_id, card.rule_id, card.rule_version, card.indicator, stamp) for card in cards
            )

    def flush(self) -> int:
        # The buffer lock is held only to swap lists, never during the disk write, so a hook call
        # appending its cards never waits on SQLite.
        with self._pending_lock:
            rows, self._pending = self._pending, []
        if not rows:
            return 0
        try:
            with self._lock, _transaction(self._db):
                self._db.executemany("INSERT OR IGNORE INTO issued_card VALUES (?, ?, ?, ?, ?, ?)", rows)
        except sqlite3.Error:
            with self._pending_lock:  # keep them for the next attempt
                self._pending[:0] = rows
            raise
        return len(rows)

    def record_feedback(self, items: Iterable[FeedbackRecord], received: datetime) -> int:
        """Store every item or none: feedback naming an unknown card refuses the whole batch."""
        self.flush()
        stamp = received.astimezone(UTC).isoformat()
        with self._lock:
            rows = []
            for item in items:
                found = self._db.execute(
                    "SELECT rule_id, rule_version, service_id FROM issued_card WHERE card_uuid = ?", (item.card_uuid,)
                ).fetchone()
                if found is None or found[2] != item.service_id:
                    raise UnknownCard(item.card_uuid)
                rows.append(
                    (
                        item.card_uuid,
                        item.service_id,
                        found[0],
                        found[1],
                        item.outcome,
                        item.override_reason_system,
                        item.override_reason_code,
                        item.override_reason_display,
                        item.accepted_suggestions,
                        item.outcome_time.astimezone(UTC).isoformat(),
                        stamp,
                    )
                )
            with _transaction(self._db):
                self._db.executemany(
                    "INSERT INTO card_feedback (card_uuid, service_id, rule_id, rule_version, outcome,"
                    " override_reason_system, override_reason_code, override_reason_display,"
                    " accepted_suggestions, outcome_time, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    rows,
                )
            return len(rows)

    def feedback(self) -> list[StoredFeedback]:
        with self._lock:
            rows = self._db.execute(
                "SELECT card_uuid, service_id, rule_id, rule_version, outcome, override_reason_code, outcome_time"
                " FROM card_feedback ORDER BY id"
            ).fetchall()
        return [StoredFeedback(*row) for row in rows]

    def tallies(self) -> list[RuleTally]:
        """Fires, acceptances and overrides per rule: the input of ``kgcds rules report``."""
        self.flush()
        with self._lock:
            rows = self._db.execute(
                """
                SELECT c.rule_id, COUNT(DISTINCT c.card_uuid),
                       COUNT(DISTINCT CASE WHEN f.outcome = 'accepted' THEN f.card_uuid END),
                       COUNT(DISTINCT CASE WHEN f.outcome = 'overridden' THEN f.card_uuid END)
                FROM issued_card c LEFT JOIN card_feedback f ON f.card_uuid = c.card_uuid
                GROUP BY c.rule_id ORDER BY c.rule_id
                """
            ).fetchall()
        return [RuleTally(*row) for row in rows]


class _transaction:
    """BEGIN/COMMIT around a block, ROLLBACK on error (the connection runs in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
