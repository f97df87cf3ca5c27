"""Card feedback is stored durably in SQLite, per rule, without patient identifiers."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from cds_api.feedback_store import FeedbackStore
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
