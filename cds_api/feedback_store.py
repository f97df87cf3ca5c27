"""Durable record of which rules fired and the clinician's feedback on their cards (SQLite, WAL).

Only what ``kgcds rules report`` needs is kept: per rule key (service, rule id and version, indicator) the
number of fires per day, and per feedback item the card uuid, outcome, coded override reason and times. No
patient identifier and no free text (the feedback's ``userComment`` may name the patient, so it is not stored).

No row is written per issued card: a card's uuid is signed and names its rule key (:mod:`cds_api.card_ids`),
so feedback can be checked and attributed from the uuid alone. Fire counts are added up in memory and written
by :meth:`FeedbackStore.flush` (the app calls it every second and at shutdown), a few rows per flush, so a
hook call never waits on a disk write. The rule key row is written at a rule's first fire in the process, so
every worker sharing the database can attribute the card's feedback at once.

Databases written before signed uuids keep working: their ``issued_card`` rows are still read (feedback on
those cards, and their fires in :meth:`FeedbackStore.tallies`); nothing writes that table any more.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cds_api.card_ids import SECRET_BYTES, CardIdCodec, CardIdMinter, RuleKey
from cds_api.card_models import IssuedCard
from cds_api.sqlite_wal import connect_wal

SCHEMA = """
CREATE TABLE IF NOT EXISTS card_secret (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS rule_key (
    id INTEGER PRIMARY KEY,
    service_id TEXT NOT NULL,
    rule_id TEXT NOT NULL,
    rule_version TEXT NOT NULL,
    indicator TEXT NOT NULL,
    UNIQUE (service_id, rule_id, rule_version, indicator)
);
CREATE TABLE IF NOT EXISTS rule_fires (
    key_id INTEGER NOT NULL REFERENCES rule_key (id),
    day TEXT NOT NULL,
    fired INTEGER NOT NULL,
    PRIMARY KEY (key_id, day)
) WITHOUT ROWID;
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
TALLIES = """
WITH fires (rule_id, n) AS (
    SELECT k.rule_id, SUM(f.fired) FROM rule_fires f JOIN rule_key k ON k.id = f.key_id GROUP BY k.rule_id
    UNION ALL
    SELECT rule_id, COUNT(*) FROM issued_card GROUP BY rule_id
),
answers (rule_id, accepted, overridden) AS (
    SELECT rule_id,
           COUNT(DISTINCT CASE WHEN outcome = 'accepted' THEN card_uuid END),
           COUNT(DISTINCT CASE WHEN outcome = 'overridden' THEN card_uuid END)
    FROM card_feedback GROUP BY rule_id
)
SELECT f.rule_id, SUM(f.n), COALESCE(a.accepted, 0), COALESCE(a.overridden, 0)
FROM fires f LEFT JOIN answers a ON a.rule_id = f.rule_id
GROUP BY f.rule_id ORDER BY f.rule_id
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
    def __init__(self, connection: sqlite3.Connection, codec: CardIdCodec) -> None:
        self._db = connection
        self._codec = codec
        self._lock = threading.Lock()
        """Serialises use of the SQLite connection."""
        self._minters: dict[str, CardIdMinter] = {}
        self._pending_lock = threading.Lock()
        self._pending: dict[tuple[int, str], int] = {}
        """Fires not yet written, per (rule key id, UTC day)."""

    @classmethod
    def open(cls, path: Path) -> FeedbackStore:
        connection = connect_wal(path)
        connection.executescript(SCHEMA)
        # Whichever worker opens the database first picks the secret; the others read that one.
        connection.execute("INSERT OR IGNORE INTO card_secret VALUES (1, ?)", (os.urandom(SECRET_BYTES),))
        (secret,) = connection.execute("SELECT secret FROM card_secret WHERE id = 1").fetchone()
        return cls(connection, CardIdCodec(secret))

    def close(self) -> None:
        self.flush()
        with self._lock:
            self._db.close()

    def card_ids(self, service_id: str) -> CardIdMinter:
        """Mints the signed uuids of the cards ``service_id`` issues (``.mint(rule id, version, indicator)``)."""
        found = self._minters.get(service_id)
        if found is None:
            found = self._minters[service_id] = CardIdMinter(self._codec, service_id, self._key_id)
        return found

    def _key_id(self, key: RuleKey) -> int:
        """The id of ``key``'s row, written if new. Each service's minter remembers the ids it has asked for,
        so this runs at a rule key's first fire in the process: at once (not buffered), so feedback on the
        card is attributable by any worker from the moment the card leaves."""
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO rule_key (service_id, rule_id, rule_version, indicator) VALUES (?, ?, ?, ?)", key
            )
            (key_id,) = self._db.execute(
                "SELECT id FROM rule_key WHERE service_id = ? AND rule_id = ? AND rule_version = ? AND indicator = ?",
                key,
            ).fetchone()
        return int(key_id)

    def record_issued(self, service_id: str, cards: Sequence[IssuedCard], when: datetime) -> None:
        """Count one fire per card for its rule key (in memory, written by :meth:`flush`)."""
        day = when.astimezone(UTC).date().isoformat()
        counted = self.card_ids(service_id).fires_by_key_id(cards)
        with self._pending_lock:
            pending = self._pending
            for key_id, n in counted.items():
                pending[key_id, day] = pending.get((key_id, day), 0) + n

    def flush(self) -> int:
        """Write the fires counted since the last flush; returns how many fires were written."""
        # The buffer lock is held only to swap dicts, never during the disk write, so a hook call
        # counting its cards never waits on SQLite.
        with self._pending_lock:
            counts, self._pending = self._pending, {}
        if not counts:
            return 0
        try:
            with self._lock, _transaction(self._db):
                self._db.executemany(
                    "INSERT INTO rule_fires (key_id, day, fired) VALUES (?, ?, ?)"
                    " ON CONFLICT (key_id, day) DO UPDATE SET fired = fired + excluded.fired",
                    [(key_id, day, n) for (key_id, day), n in counts.items()],
                )
        except sqlite3.Error:
            with self._pending_lock:  # keep them for the next attempt
                for slot, n in counts.items():
                    self._pending[slot] = self._pending.get(slot, 0) + n
            raise
        return sum(counts.values())

    def record_feedback(self, items: Iterable[FeedbackRecord], received: datetime) -> int:
        """Store every item or none: feedback naming an unknown card refuses the whole batch."""
        stamp = received.astimezone(UTC).isoformat()
        with self._lock:
            rows = []
            for item in items:
                found = self._issuer(item.card_uuid)
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

    def _issuer(self, card_uuid: str) -> tuple[str, str, str] | None:
        """(rule id, rule version, service id) of a card we issued, else None. Call with the lock held."""
        key_id = self._codec.key_id(card_uuid)
        if key_id is not None:
            found = self._db.execute(
                "SELECT rule_id, rule_version, service_id FROM rule_key WHERE id = ?", (key_id,)
            ).fetchone()
        else:  # not a signed uuid: perhaps a card issued before them, by a database that still holds its row
            found = self._db.execute(
                "SELECT rule_id, rule_version, service_id FROM issued_card WHERE card_uuid = ?", (card_uuid,)
            ).fetchone()
        return None if found is None else (found[0], found[1], found[2])

    def tallies(self) -> list[RuleTally]:
        """Fires, acceptances and overrides per rule: the input of ``kgcds rules report``."""
        self.flush()
        with self._lock:
            rows = self._db.execute(TALLIES).fetchall()
        return [RuleTally(*row) for row in rows]


class _transaction:
    """BEGIN/COMMIT around a block, ROLLBACK on error (the connection runs in autocommit mode)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
