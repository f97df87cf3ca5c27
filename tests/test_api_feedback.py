"""Card feedback is stored durably in SQLite, per rule, without patient identifiers."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from cds_api.card_ids import CardIdCodec
from cds_api.card_models import IssuedCard
from cds_api.cards import random_uuid
from cds_api.feedback_store import FeedbackRecord, FeedbackStore, UnknownCard
from tests.api_support import hook_request, make_app, med_request

SELECT = "/cds-services/medication-safety-order-select"
PATIENT_ID = "pat-7f3a9c21"
COMMENT = "Discussed with Mrs Example on the ward"


def issue_card(client: TestClient[Any]) -> str:
    body = hook_request(
        drafts=[med_request("d1", "197699", "draft")], meds=[med_request("m1", "855332")], patient_id=PATIENT_ID
    )
    response = client.post(SELECT, json=body)
    assert response.status_code == 200, response.text
    card_uuid: str = response.json()["cards"][0]["uuid"]
    return card_uuid


def override(card_uuid: str) -> dict[str, Any]:
    return {
        "feedback": [
            {
                "card": card_uuid,
                "outcome": "overridden",
                "overrideReason": {
                    "reason": {
                        "system": "https://w3id.org/kgcds/override-reason",
                        "code": "will-monitor",
                        "display": "Will monitor or adjust dose",
                    },
                    "userComment": COMMENT,
                },
                "outcomeTimestamp": "2026-11-22T08:00:00Z",
            }
        ]
    }


def test_override_is_stored_per_rule_and_survives_a_restart(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        first = issue_card(client)
        response = client.post(SELECT + "/feedback", json=override(first))
        assert response.status_code == 200, response.text
        second = issue_card(client)

    db = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT card_uuid, rule_id, outcome, override_reason_code FROM card_feedback"
        ).fetchall()
        dump = "\n".join(connection.iterdump())
    assert rows == [(first, "ddi-test", "overridden", "will-monitor")]
    assert PATIENT_ID not in dump
    assert COMMENT not in dump  # free text may name the patient: never stored

    # A new server on the same database still knows the card issued before the restart.
    with TestClient(make_app(tmp_path)) as client:
        accepted = {"feedback": [{"card": second, "outcome": "accepted", "outcomeTimestamp": "2026-11-22T09:00:00Z"}]}
        assert client.post(SELECT + "/feedback", json=accepted).status_code == 200

    store = FeedbackStore.open(db)
    try:
        (tally,) = store.tallies()
    finally:
        store.close()
    assert (tally.rule_id, tally.fired, tally.accepted, tally.overridden) == ("ddi-test", 2, 1, 1)
    assert tally.override_rate == 0.5


def test_feedback_for_a_card_of_another_service_is_refused(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        card = issue_card(client)
        response = client.post("/cds-services/medication-safety-order-sign/feedback", json=override(card))
        assert response.status_code == 422
        assert response.json()["issue"][0]["expression"] == ["feedback[0].card"]


def test_override_reason_on_an_accepted_card_is_refused(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        body = override(issue_card(client))
        body["feedback"][0]["outcome"] = "accepted"
        response = client.post(SELECT + "/feedback", json=body)
        assert response.status_code == 422
        assert response.json()["issue"][0]["expression"] == ["feedback[0].overrideReason"]


def test_feedback_db_location_follows_settings(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "fb.db"
    with TestClient(make_app(tmp_path, feedback_db=target)) as client:
        issue_card(client)
    assert target.is_file()


def test_cards_leave_no_row_each_and_fires_are_counted_per_rule(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        cards = [issue_card(client) for _ in range(3)]
    assert len(set(cards)) == 3
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as connection:
        assert connection.execute("SELECT COUNT(*) FROM issued_card").fetchone() == (0,)
        fires = connection.execute(
            "SELECT k.service_id, k.rule_id, SUM(f.fired) FROM rule_fires f JOIN rule_key k ON k.id = f.key_id"
            " GROUP BY k.id"
        ).fetchall()
    assert fires == [("medication-safety-order-select", "ddi-test", 3)]


def test_forged_or_altered_card_uuids_are_refused(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        card = issue_card(client)
        last = card[-1]
        altered = card[:-1] + ("0" if last != "0" else "1")
        # Rule key 1 (the one this card names) signed with another secret: what knowing the layout gives.
        forged = CardIdCodec(bytes(32)).make(1, 12345)
        for bad in (altered, forged):
            response = client.post(SELECT + "/feedback", json=override(bad))
            assert response.status_code == 422, bad
            assert response.json()["issue"][0]["expression"] == ["feedback[0].card"]
        assert client.post(SELECT + "/feedback", json=override(card)).status_code == 200


def test_a_second_worker_attributes_a_card_before_any_flush(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    first, second = FeedbackStore.open(db), FeedbackStore.open(db)
    try:
        card = first.card_ids("svc").mint("stopp-e6-metformin-egfr30", "1.0.0", "critical")
        now = datetime(2026, 11, 22, tzinfo=UTC)
        second.record_feedback([FeedbackRecord(card, "svc", "accepted", now, None, None, None, 0)], now)
        with pytest.raises(UnknownCard):
            second.record_feedback([FeedbackRecord(card, "other-svc", "accepted", now, None, None, None, 0)], now)
        assert [(f.card_uuid, f.rule_id, f.rule_version) for f in second.feedback()] == [
            (card, "stopp-e6-metformin-egfr30", "1.0.0")
        ]
    finally:
        first.close()
        second.close()


LEGACY_SCHEMA = """
CREATE TABLE issued_card (
    card_uuid TEXT PRIMARY KEY, service_id TEXT NOT NULL, rule_id TEXT NOT NULL, rule_version TEXT NOT NULL,
    indicator TEXT NOT NULL, issued_at TEXT NOT NULL
);
CREATE TABLE card_feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT, card_uuid TEXT NOT NULL, service_id TEXT NOT NULL, rule_id TEXT NOT NULL,
    rule_version TEXT NOT NULL, outcome TEXT NOT NULL CHECK (outcome IN ('accepted', 'overridden')),
    override_reason_system TEXT, override_reason_code TEXT, override_reason_display TEXT,
    accepted_suggestions INTEGER NOT NULL DEFAULT 0, outcome_time TEXT NOT NULL, received_at TEXT NOT NULL
);
"""


def test_a_database_from_before_signed_uuids_keeps_its_cards_and_counts(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    legacy = [random_uuid() for _ in range(2)]
    with sqlite3.connect(db) as connection:
        connection.executescript(LEGACY_SCHEMA)
        connection.executemany(
            "INSERT INTO issued_card VALUES (?, 'svc', 'kgcds.drug-drug', '1.0.0', 'warning', '2026-11-01T00:00:00')",
            [(u,) for u in legacy],
        )
    connection.close()
    store = FeedbackStore.open(db)
    try:
        now = datetime(2026, 11, 22, tzinfo=UTC)
        card = store.card_ids("svc").mint("kgcds.drug-drug", "1.0.0", "warning")
        store.record_issued("svc", [IssuedCard(card, "kgcds.drug-drug", "1.0.0", "warning")], now)
        store.record_feedback(
            [
                FeedbackRecord(legacy[0], "svc", "overridden", now, None, "will-monitor", None, 0),
                FeedbackRecord(card, "svc", "accepted", now, None, None, None, 0),
            ],
            now,
        )
        with pytest.raises(UnknownCard):
            store.record_feedback([FeedbackRecord(random_uuid(), "svc", "accepted", now, None, None, None, 0)], now)
        (tally,) = store.tallies()
    finally:
        store.close()
    assert (tally.rule_id, tally.fired, tally.accepted, tally.overridden) == ("kgcds.drug-drug", 3, 1, 1)
