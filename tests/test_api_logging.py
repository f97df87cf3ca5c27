"""Logs never carry patient identifiers; a bug on our side is a 500 OperationOutcome, logged once."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import pytest
from litestar.testing import TestClient

from cds_api.app import create_app
from cds_api.settings import ApiSettings
from rules.findings import Finding
from rules.patient import PatientContext
from tests.api_support import Signer, code_table, hook_request, make_app, med_request

PATIENT_ID = "pat-4c1d9e77"
SELECT = "/cds-services/medication-safety-order-select"


class BrokenEngine:
    """An engine with a bug: the API must answer 500, not leak internals, not log the patient."""

    def evaluate(self, patient: PatientContext, now: datetime) -> list[Finding]:
        raise ZeroDivisionError("rule arithmetic went wrong")


def body() -> dict[str, object]:
    return hook_request(
        drafts=[med_request("d1", "197699", "draft")], meds=[med_request("m1", "855332")], patient_id=PATIENT_ID
    )


def test_engine_bug_is_a_500_operation_outcome(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    terminology = code_table()
    app = create_app(ApiSettings(home=tmp_path, auth="disabled"), lambda: terminology, BrokenEngine())
    with caplog.at_level(logging.DEBUG), TestClient(app) as client:
        response = client.post(SELECT, json=body())
    assert response.status_code == 500
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "rule arithmetic" not in response.text
    assert any(r.levelno == logging.ERROR and r.exc_info for r in caplog.records)
    assert all(PATIENT_ID not in r.getMessage() for r in caplog.records)


def test_no_patient_identifier_in_logs_on_any_path(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    signer = Signer.ec("https://ehr.example")
    app = make_app(tmp_path, auth="enabled", trusted_issuers=[{"iss": "https://ehr.example", "jwks": signer.jwks()}])
    aud = "http://testserver.local" + SELECT
    with caplog.at_level(logging.DEBUG), TestClient(app, base_url="http://testserver.local") as client:
        ok = client.post(SELECT, json=body(), headers={"Authorization": f"Bearer {signer.token(aud)}"})
        assert ok.status_code == 200
        assert client.post(SELECT, json=body()).status_code == 401
        broken = body()
        broken["context"]["draftOrders"]["entry"][0]["resource"]["resourceType"] = "Banana"  # type: ignore[index]
        bad = client.post(SELECT, json=broken, headers={"Authorization": f"Bearer {signer.token(aud)}"})
        assert bad.status_code == 422
    assert caplog.records  # something was logged, so the check below means something
    assert all(PATIENT_ID not in r.getMessage() for r in caplog.records)
