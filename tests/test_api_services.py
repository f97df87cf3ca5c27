"""The CDS Hooks services over HTTP (Litestar's in-process ASGI client): discovery, cards, hooks."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from tests.api_support import (
    allergy,
    bundle,
    cyp2c19_poor,
    egfr,
    hook_request,
    make_app,
    med_request,
)

SELECT = "/cds-services/medication-safety-order-select"
SIGN = "/cds-services/medication-safety-order-sign"
PRESCRIBE = "/cds-services/medication-safety-prescribe"
WARFARIN_5MG, FLUCONAZOLE_150, AMOXICILLIN_500, METFORMIN_500, CLOPIDOGREL_75 = (
    "855332",
    "197699",
    "308191",
    "861007",
    "309362",
)


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[TestClient[Any]]:
    with TestClient(make_app(tmp_path)) as test_client:
        yield test_client


def cards_for(client: TestClient[Any], body: dict[str, Any], path: str = SELECT) -> list[dict[str, Any]]:
    response = client.post(path, json=body)
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def assert_no_nulls(value: Any, where: str = "$") -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            assert item is not None, f"{where}.{key} is null"
            assert_no_nulls(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            assert_no_nulls(item, f"{where}[{i}]")


def test_discovery_lists_the_three_medication_hooks_with_prefetch(client: TestClient[Any]) -> None:
    services = {s["id"]: s for s in client.get("/cds-services").json()["services"]}
    assert {s["hook"] for s in services.values()} == {"order-select", "order-sign", "medication-prescribe"}
    prefetch = services["medication-safety-order-select"]["prefetch"]
    assert prefetch["patient"] == "Patient/{{context.patientId}}"
    assert {"medications", "allergies", "conditions", "labs", "genomics"} <= set(prefetch)
    assert "33914-3" in prefetch["labs"]  # eGFR is asked for
    assert all(s["description"] and s["usageRequirements"] for s in services.values())


def test_openapi_health_and_cors_preflight(client: TestClient[Any]) -> None:
    schema = client.get("/schema/openapi.json").json()
    call = schema["paths"]["/cds-services/{service_id}"]["post"]
    assert call["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/HookRequest"}
    assert call["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CardsResponse"
    }
    components = schema["components"]["schemas"]
    assert {"hook", "hookInstance", "context"} <= set(components["HookRequest"]["required"])
    assert "summary" in components["Card"]["properties"]
    assert client.get("/health").json() == {"status": "pass"}
    preflight = client.options(
        SELECT,
        headers={
            "Origin": "https://sandbox.cds-hooks.org",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status_code in (200, 204)
    assert preflight.headers["access-control-allow-origin"] in ("*", "https://sandbox.cds-hooks.org")


def test_warfarin_patient_ordering_fluconazole_gets_one_critical_card_naming_the_draft(client: TestClient[Any]) -> None:
    body = hook_request(drafts=[med_request("d1", FLUCONAZOLE_150, "draft")], meds=[med_request("m1", WARFARIN_5MG)])
    cards = cards_for(client, body)
    assert len(cards) == 1
    card = cards[0]
    assert_no_nulls(card)
    assert card["indicator"] == "critical"
    assert uuid.UUID(card["uuid"])
    assert len(card["summary"]) <= 140
    assert "fluconazole" in card["summary"].lower()
    assert "MedicationRequest/d1" in card["detail"]
    assert card["source"]["topic"]["code"] == "ddi-test"
    assert card["selectionBehavior"] == "at-most-one"
    delete = card["suggestions"][0]["actions"][0]
    assert delete == {
        "type": "delete",
        "description": "Remove the draft order for fluconazole 150 MG Oral Tablet",
        "resourceId": "MedicationRequest/d1",
    }
    assert card["overrideReasons"]


def test_no_interaction_no_card(client: TestClient[Any]) -> None:
    body = hook_request(drafts=[med_request("d1", FLUCONAZOLE_150, "draft")], meds=[med_request("m1", METFORMIN_500)])
    assert cards_for(client, body) == []


def test_stopped_medication_is_not_screened_against(client: TestClient[Any]) -> None:
    body = hook_request(
        drafts=[med_request("d1", FLUCONAZOLE_150, "draft")], meds=[med_request("m1", WARFARIN_5MG, "stopped")]
    )
    assert cards_for(client, body) == []


def test_two_interacting_drafts_give_one_card_not_two(client: TestClient[Any]) -> None:
    body = hook_request(
        hook="order-sign",
        drafts=[med_request("d1", FLUCONAZOLE_150, "draft"), med_request("d2", WARFARIN_5MG, "draft")],
    )
    cards = cards_for(client, body, SIGN)
    assert len(cards) == 1


def test_order_select_screens_only_the_selected_draft_against_the_others(client: TestClient[Any]) -> None:
    drafts = [med_request("d1", FLUCONAZOLE_150, "draft"), med_request("d2", WARFARIN_5MG, "draft")]
    cards = cards_for(client, hook_request(drafts=drafts, selections=["MedicationRequest/d2"]))
    assert len(cards) == 1
    assert "MedicationRequest/d2" in cards[0]["detail"]
    assert cards_for(client, hook_request(drafts=drafts, selections=[])) == []


def test_amoxicillin_with_penicillin_allergy_alerts_and_offers_a_replacement(client: TestClient[Any]) -> None:
    body = hook_request(
        drafts=[med_request("d1", AMOXICILLIN_500, "draft")], allergies=[allergy("a1", "7980", "Penicillin G")]
    )
    (card,) = cards_for(client, body)
    assert card["indicator"] == "critical"
    assert_no_nulls(card)
    suggestion_ids = [uuid.UUID(s["uuid"]) for s in card["suggestions"]]
    assert len(set(suggestion_ids)) == 2 and all(u.version == 4 for u in suggestion_ids)
    assert uuid.UUID(card["uuid"]) not in suggestion_ids
    replace = card["suggestions"][1]
    assert [a["type"] for a in replace["actions"]] == ["delete", "create"]
    created = replace["actions"][1]["resource"]
    assert created["resourceType"] == "MedicationRequest"
    assert created["medicationCodeableConcept"]["coding"][0] == {
        "system": "http://www.nlm.nih.gov/research/umls/rxnorm",
        "code": "2231",
        "display": "cephalexin",
    }
    assert created["subject"] == {"reference": "Patient/p1"}


def test_refuted_penicillin_allergy_stays_silent(client: TestClient[Any]) -> None:
    body = hook_request(
        drafts=[med_request("d1", AMOXICILLIN_500, "draft")],
        allergies=[allergy("a1", "7980", "Penicillin G", verification="refuted")],
    )
    assert cards_for(client, body) == []


@pytest.mark.parametrize(("value", "expected"), [(25.0, 1), (90.0, 0)])
def test_metformin_alerts_at_egfr_25_not_at_90(client: TestClient[Any], value: float, expected: int) -> None:
    body = hook_request(drafts=[med_request("d1", METFORMIN_500, "draft")], labs=[egfr("o1", value)])
    cards = cards_for(client, body)
    assert len(cards) == expected
    if cards:
        assert "25" in cards[0]["summary"] and "30" in cards[0]["summary"]


def test_latest_egfr_counts(client: TestClient[Any]) -> None:
    labs = [egfr("old", 25.0, "2024-01-01T00:00:00Z"), egfr("new", 88.0, "2026-09-01T00:00:00Z")]
    assert cards_for(client, hook_request(drafts=[med_request("d1", METFORMIN_500, "draft")], labs=labs)) == []


def test_clopidogrel_with_cyp2c19_poor_metabolizer(client: TestClient[Any]) -> None:
    drafts = [med_request("d1", CLOPIDOGREL_75, "draft")]
    (card,) = cards_for(client, hook_request(drafts=drafts, genomics=[cyp2c19_poor()]))
    assert card["source"]["topic"]["code"] == "pgx-clopidogrel"
    assert cards_for(client, hook_request(drafts=drafts)) == []


def test_deprecated_medication_prescribe_hook(client: TestClient[Any]) -> None:
    body = hook_request(
        hook="medication-prescribe",
        drafts=[med_request("d1", FLUCONAZOLE_150, "draft")],
        meds=[med_request("m1", WARFARIN_5MG)],
    )
    assert len(cards_for(client, body, PRESCRIBE)) == 1


def test_draft_orders_of_other_kinds_are_accepted_and_ignored(client: TestClient[Any]) -> None:
    body = hook_request(drafts=[med_request("d1", FLUCONAZOLE_150, "draft")], meds=[med_request("m1", WARFARIN_5MG)])
    body["context"]["draftOrders"]["entry"].append(
        {"resource": {"resourceType": "ServiceRequest", "id": "s1", "status": "draft", "intent": "order"}}
    )
    assert len(cards_for(client, body)) == 1


def test_prefetch_with_an_operation_outcome_entry_still_screens(client: TestClient[Any]) -> None:
    body = hook_request(drafts=[med_request("d1", FLUCONAZOLE_150, "draft")], meds=[med_request("m1", WARFARIN_5MG)])
    body["prefetch"]["medications"]["entry"].append(
        {"resource": {"resourceType": "OperationOutcome", "issue": []}, "search": {"mode": "outcome"}}
    )
    assert len(cards_for(client, body)) == 1


def test_empty_prefetch_bundles_are_fine(client: TestClient[Any]) -> None:
    body = hook_request(drafts=[med_request("d1", FLUCONAZOLE_150, "draft")])
    body["prefetch"]["labs"] = bundle([])
    del body["prefetch"]["genomics"]  # optional key, no fhirServer: screened without it
    assert cards_for(client, body) == []


def test_every_prefetch_template_key_is_a_decoded_prefetch_field() -> None:
    from cds_api.ddx_service import DDX_PREFETCH
    from cds_api.fhir_models import Prefetch
    from cds_api.prefetch import MEDICATION_PREFETCH

    assert {t.key for t in (*MEDICATION_PREFETCH, *DDX_PREFETCH)} == set(Prefetch.__struct_fields__)


def test_random_uuid_is_a_version_4_uuid() -> None:
    from cds_api.cards import random_uuid

    values = {random_uuid() for _ in range(200)}
    assert len(values) == 200
    for value in values:
        parsed = uuid.UUID(value)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == value


def test_suggestion_uuids_are_version_4_and_never_their_cards() -> None:
    from cds_api.cards import random_uuid, suggestion_base

    # the last two end as a suggestion's number would: the base must then differ elsewhere
    for card_uuid in [random_uuid() for _ in range(200)] + [f"{random_uuid()[:-4]}000{i}" for i in range(3)]:
        ids = [f"{suggestion_base(card_uuid)}{i:04x}" for i in range(3)]
        assert card_uuid not in ids and len(set(ids)) == 3
        for value in ids:
            parsed = uuid.UUID(value)
            assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == value


def test_the_shipped_example_request_screens(client: TestClient[Any]) -> None:
    """The example the README's curl command posts (cds_api/examples/) stays valid."""
    import json

    import cds_api

    example = Path(cds_api.__file__).parent / "examples" / "order-select-warfarin-fluconazole.json"
    (card,) = cards_for(client, json.loads(example.read_text(encoding="utf-8")))
    assert card["indicator"] == "critical"


def test_an_unrecognised_draft_gets_an_info_card_saying_it_was_not_screened(client: TestClient[Any]) -> None:
    draft = med_request("d1", FLUCONAZOLE_150, "draft")
    draft["medicationCodeableConcept"] = {
        "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "999999999"}],
        "text": "Zzyzx compound 5 MG Oral Tablet",
    }
    (card,) = cards_for(client, hook_request(drafts=[draft], meds=[med_request("m1", WARFARIN_5MG)]))
    assert card["indicator"] == "info"
    assert card["summary"].startswith("Not screened: Zzyzx compound")
    assert "RXNORM:999999999" in card["detail"]
    assert_no_nulls(card)


def test_cds_hooks_1_0_style_medication_prescribe_call(client: TestClient[Any]) -> None:
    body = hook_request(
        hook="medication-prescribe",
        drafts=[med_request("d1", FLUCONAZOLE_150, "draft")],
        meds=[med_request("m1", WARFARIN_5MG)],
    )
    body["user"] = body["context"].pop("userId")
    assert len(cards_for(client, body, PRESCRIBE)) == 1
