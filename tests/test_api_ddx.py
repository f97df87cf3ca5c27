"""Differential diagnosis over HTTP: ``POST /diagnosis`` and the patient-view CDS Hooks service.

The real Litestar app (Litestar's in-process client) with the engine compiled from the tiny hand-made
ontology of ``tests/ddx_tiny_ontology.py``, where the right answers are known.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from cds_api.app import create_app
from cds_api.ddx_service import DDX_SERVICE_ID, PatientViewDiagnosis
from cds_api.diagnosis import Diagnosis, age_range
from cds_api.feedback_store import FeedbackStore
from cds_api.fhir_phenotypes import HPO_SYSTEM, PhenotypeExtractor
from cds_api.settings import ApiSettings
from ddx_ranker.engine import DdxEngine
from ontology.condition_codes import ConditionCodeMapper
from ontology.curie import CodeSystemMap
from ontology.schema import load_schema
from tests.api_support import SNOMED_SYSTEM, Signer, TableEngine, bundle, code_table, coding, patient
from tests.ddx_tiny_ontology import (
    ASD,
    ATAXIA,
    CATARACT,
    DISEASES,
    FOCAL,
    SEIZURE,
    TERMS,
    VSD,
    tiny_phenotype_index,
)

SNOMED_SEIZURE, SNOMED_CATARACT, SNOMED_DIABETES = "91175000", "193570009", "44054006"
SERVICE = f"/cds-services/{DDX_SERVICE_ID}"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"


def tiny_ddx() -> PatientViewDiagnosis:
    engine = DdxEngine.compile(tiny_phenotype_index())
    # SNOMED CT -> HPO cross-references as the HPO file carries them (xrefs on the Phenotype nodes).
    mapper = ConditionCodeMapper(
        CodeSystemMap.from_schema(load_schema()),
        frozenset(TERMS) | frozenset(DISEASES),
        {f"SNOMEDCT:{SNOMED_SEIZURE}": [SEIZURE], f"SNOMEDCT:{SNOMED_CATARACT}": [CATARACT]},
    )
    return PatientViewDiagnosis(Diagnosis.from_engine(engine), PhenotypeExtractor(mapper))


def ddx_app(tmp_path: Path, **settings: Any) -> Any:
    values: dict[str, Any] = {"home": tmp_path, "auth": "disabled", **settings}
    terminology = code_table()
    return create_app(ApiSettings(**values), lambda: terminology, TableEngine(), ddx=tiny_ddx())


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Any]]:
    with TestClient(ddx_app(tmp_path_factory.mktemp("ddx"))) as test_client:
        yield test_client


def diagnose(client: TestClient[Any], **body: Any) -> dict[str, Any]:
    response = client.post("/diagnosis", json=body)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def ranked(result: dict[str, Any]) -> list[str]:
    return [r["disease_id"] for r in result["results"]]


# ---------------------------------------------------------------- POST /diagnosis


def test_diagnosis_ranks_the_disease_with_every_finding_first_and_explains_it(client: TestClient[Any]) -> None:
    result = diagnose(client, observed=[FOCAL, ATAXIA])
    assert ranked(result)[0] == "OMIM:100001"
    assert len(result["results"]) == 5  # top_k defaults to 10; the tiny ontology has 5 diseases
    first = result["results"][0]
    assert {m["finding"]: m["match"] for m in first["explanation"]["matched"]} == {FOCAL: "exact", ATAXIA: "exact"}
    probabilities = [r["probability"] for r in result["results"]]
    assert probabilities == sorted(probabilities, reverse=True) and 0.5 < probabilities[0] <= 1.0
    assert result["version"]["ranker"] == "lr" and result["version"]["annotations"] == "test"
    assert result["unknown_terms"] == [] and result["gene_aware"] is False


def test_diagnosis_exclusion_moves_the_ranking_and_argues_against(client: TestClient[Any]) -> None:
    assert ranked(diagnose(client, observed=[ATAXIA]))[0] == "OMIM:100001"
    result = diagnose(client, observed=[ATAXIA], excluded=[SEIZURE], top_k=2)
    assert ranked(result) == ["OMIM:100004", "OMIM:100001"]
    against = result["results"][1]["explanation"]["excluded_against"]
    assert [e["term"] for e in against] == [SEIZURE] and against[0]["frequency"] == pytest.approx(0.9)


def test_diagnosis_next_findings_separate_the_leaders(client: TestClient[Any]) -> None:
    result = diagnose(client, observed=[CATARACT])
    leaders = set(ranked(result)[:2])
    assert leaders == {"OMIM:100002", "OMIM:100004"}
    suggested = {f["term"] for f in result["next_findings"]}
    assert ATAXIA in suggested  # 90% in cataract-ataxia, absent from eye-heart syndrome


def test_diagnosis_genes_and_age(client: TestClient[Any]) -> None:
    assert ranked(diagnose(client, observed=[CATARACT, ATAXIA]))[0] == "OMIM:100004"
    result = diagnose(client, observed=[CATARACT, ATAXIA], genes=["SCN1A"], age_years=4, sex="female")
    assert ranked(result)[0] == "OMIM:100001" and result["gene_aware"] is True
    assert result["age_range"] == "child"
    ages = [age_range(y) for y in (0.01, 0.5, 15, 40, 80)]
    assert ages == ["neonatal", "infant", "adolescent", "adult", "older adult"]


def test_diagnosis_reports_unknown_terms(client: TestClient[Any]) -> None:
    result = diagnose(client, observed=[VSD, ASD, "HP:9999999"])
    assert ranked(result)[0] == "ORPHA:500"
    assert result["unknown_terms"] == ["HP:9999999"]


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"observed": ["MONDO:0007947"]}, 422, "observed[0]"),
        ({"observed": [FOCAL], "excluded": [SEIZURE, "seizure"]}, 422, "excluded[1]"),
        ({"observed": []}, 422, "observed"),
        ({"excluded": [SEIZURE]}, 422, None),
        ({"observed": [FOCAL], "top_k": 0}, 422, "top_k"),
        ({"observed": [FOCAL], "top_k": 51}, 422, "top_k"),
        ({"observed": [FOCAL], "sex": "unknown"}, 422, "sex"),
        ({"observed": [FOCAL], "age_years": -1}, 422, "age_years"),
        ({"observed": [FOCAL], "phenotypes": [ATAXIA]}, 422, None),
        ({"observed": [FOCAL], "excluded": [FOCAL]}, 422, "excluded[0]"),
        ({"observed": ["HP:9999999"]}, 422, "observed"),
    ],
)
def test_diagnosis_bad_input_is_an_operation_outcome_naming_the_field(
    client: TestClient[Any], body: dict[str, Any], status: int, field: str | None
) -> None:
    response = client.post("/diagnosis", json=body)
    assert response.status_code == status, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    issue = outcome["issue"][0]
    if field is not None:
        assert issue["expression"] == [field]
    else:  # missing or unknown key: msgspec names it in the message
        assert ("observed" in issue["diagnostics"]) or ("phenotypes" in issue["diagnostics"])


def test_diagnosis_body_that_is_not_json_is_400(client: TestClient[Any]) -> None:
    response = client.post("/diagnosis", content=b"{observed: HP:0001250", headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_openapi_documents_diagnosis(client: TestClient[Any]) -> None:
    schema = client.get("/schema/openapi.json").json()
    post = schema["paths"]["/diagnosis"]["post"]
    assert post["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DiagnosisRequest"
    }
    assert "200" in post["responses"] and "422" in post["responses"]
    request_schema = schema["components"]["schemas"]["DiagnosisRequest"]
    assert request_schema["required"] == ["observed"]
    assert {"excluded", "age_years", "sex", "genes", "top_k"} <= set(request_schema["properties"])


# ---------------------------------------------------------------- patient-view


def hpo_condition(rid: str, term: str, verification: str = "confirmed") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "verificationStatus": {
            "coding": [coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", verification)]
        },
        "code": {"coding": [coding(HPO_SYSTEM, term, TERMS.get(term, ("?",))[0])]},
    }


def snomed_condition(rid: str, code: str, display: str) -> dict[str, Any]:
    return {"resourceType": "Condition", "id": rid, "code": {"coding": [coding(SNOMED_SYSTEM, code, display)]}}


def hpo_observation(rid: str, term: str, **value: Any) -> dict[str, Any]:
    resource = {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [coding(HPO_SYSTEM, term)]},
    }
    return resource | value


def patient_view(conditions: list[dict[str, Any]], observations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    prefetch: dict[str, Any] = {"patient": patient("p1"), "conditions": bundle(conditions)}
    if observations is not None:
        prefetch["observations"] = bundle(observations)
    return {
        "hook": "patient-view",
        "hookInstance": str(uuid.uuid4()),
        "context": {"userId": "Practitioner/u1", "patientId": "p1"},
        "prefetch": prefetch,
    }


def cards_for(client: TestClient[Any], body: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.post(SERVICE, json=body)
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def disease_order(cards: list[dict[str, Any]]) -> list[str]:
    # Link labels read "<disease id>: <name>"; the unmapped-codes card has no link.
    return [c["links"][0]["label"].split(": ", 1)[0] for c in cards if "links" in c]


def test_discovery_lists_the_patient_view_service(client: TestClient[Any]) -> None:
    services = {s["id"]: s for s in client.get("/cds-services").json()["services"]}
    ddx = services[DDX_SERVICE_ID]
    assert ddx["hook"] == "patient-view"
    assert ddx["prefetch"]["patient"] == "Patient/{{context.patientId}}"
    assert ddx["prefetch"]["conditions"] == "Condition?patient={{context.patientId}}"
    assert HPO_SYSTEM in ddx["prefetch"]["observations"]
    assert "medication-safety-order-select" in services  # the medication services stay


def test_patient_view_hpo_conditions_give_info_cards_in_ranking_order(client: TestClient[Any]) -> None:
    cards = cards_for(client, patient_view([hpo_condition("c1", FOCAL), hpo_condition("c2", ATAXIA)]))
    expected = ranked(diagnose(client, observed=[FOCAL, ATAXIA], top_k=5))
    assert disease_order(cards) == expected
    first = cards[0]
    assert first["indicator"] == "info" and all(c["indicator"] == "info" for c in cards)
    assert first["summary"].startswith("#1 Seizure-ataxia syndrome") and len(first["summary"]) <= 140
    assert first["links"][0]["url"] == "https://omim.org/entry/100001" and first["links"][0]["type"] == "absolute"
    assert "Findings that fit" in first["detail"] and "Focal-onset seizure" in first["detail"]
    assert "Findings worth checking" in first["detail"]  # the next findings go on the leading card
    source = first["source"]
    assert source["label"] and source["url"].startswith("https://")
    assert "lr ranker" in source["topic"]["display"] and "HPO test" in source["topic"]["display"]
    orpha = next(c for c in cards if c["links"][0]["url"].startswith("https://www.orpha.net/"))
    assert orpha["links"][0]["url"].endswith("/500")


def test_patient_view_refuted_condition_changes_the_ranking(client: TestClient[Any]) -> None:
    assert disease_order(cards_for(client, patient_view([hpo_condition("c1", ATAXIA)])))[0] == "OMIM:100001"
    refuted = [hpo_condition("c1", ATAXIA), hpo_condition("c2", SEIZURE, verification="refuted")]
    cards = cards_for(client, patient_view(refuted))
    assert disease_order(cards)[:2] == ["OMIM:100004", "OMIM:100001"]
    assert "Excluded findings that argue against it" in cards[1]["detail"]


@pytest.mark.parametrize(
    "negation",
    [
        {"valueBoolean": False},
        {"interpretation": [{"coding": [coding(INTERPRETATION, "NEG")]}]},
        {"valueCodeableConcept": {"coding": [coding(SNOMED_SYSTEM, "2667000", "Absent")]}},
    ],
)
def test_patient_view_negated_observation_is_an_excluded_finding(
    client: TestClient[Any], negation: dict[str, Any]
) -> None:
    observations = [hpo_observation("o1", ATAXIA, valueBoolean=True), hpo_observation("o2", SEIZURE, **negation)]
    assert disease_order(cards_for(client, patient_view([], observations)))[0] == "OMIM:100004"


def test_patient_view_maps_snomed_through_xrefs_and_reports_unmapped_codes(client: TestClient[Any]) -> None:
    conditions = [
        snomed_condition("c1", SNOMED_CATARACT, "Cataract"),
        hpo_condition("c2", ATAXIA),
        snomed_condition("c3", SNOMED_DIABETES, "Type 2 diabetes mellitus"),
    ]
    cards = cards_for(client, patient_view(conditions))
    assert disease_order(cards)[0] == "OMIM:100004"  # cataract (via SNOMED) + ataxia
    unused = cards[-1]
    assert "links" not in unused and "could not be used" in unused["summary"]
    assert f"Condition/c3: {SNOMED_SYSTEM}|{SNOMED_DIABETES} Type 2 diabetes mellitus" in unused["detail"]
    assert SNOMED_CATARACT not in unused["detail"]


def test_patient_view_reports_hpo_terms_missing_from_the_ontology(client: TestClient[Any]) -> None:
    cards = cards_for(client, patient_view([hpo_condition("c1", ATAXIA), hpo_condition("c2", "HP:9999999")]))
    assert "HP:9999999: not a term of the loaded HPO release" in cards[-1]["detail"]


def test_patient_view_without_phenotype_findings_returns_no_cards(client: TestClient[Any]) -> None:
    assert cards_for(client, patient_view([snomed_condition("c1", SNOMED_DIABETES, "Type 2 diabetes")], [])) == []
    assert cards_for(client, patient_view([])) == []


def test_patient_view_requires_the_conditions_prefetch(client: TestClient[Any]) -> None:
    body = patient_view([hpo_condition("c1", ATAXIA)])
    del body["prefetch"]["conditions"]
    response = client.post(SERVICE, json=body)
    assert response.status_code == 412
    assert response.json()["issue"][0]["expression"] == ["prefetch.conditions"]


def test_patient_view_wrong_hook_is_refused(client: TestClient[Any]) -> None:
    body = patient_view([hpo_condition("c1", ATAXIA)]) | {"hook": "order-select"}
    response = client.post(SERVICE, json=body)
    assert response.status_code == 422 and response.json()["issue"][0]["expression"] == ["hook"]


def test_patient_view_needs_a_valid_jwt_when_auth_is_on(tmp_path: Path) -> None:
    signer = Signer.ec("https://ehr.example")
    app = ddx_app(tmp_path, auth="enabled", trusted_issuers=[{"iss": signer.iss, "jwks": signer.jwks()}])
    body = patient_view([hpo_condition("c1", FOCAL), hpo_condition("c2", ATAXIA)])
    with TestClient(app, base_url="http://testserver.local") as client:
        assert client.post(SERVICE, json=body).status_code == 401
        token = signer.token(f"http://testserver.local{SERVICE}")
        response = client.post(SERVICE, json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 200, response.text
        assert len(response.json()["cards"]) == 5


def test_feedback_on_a_differential_card_is_recorded_per_service(tmp_path: Path) -> None:
    with TestClient(ddx_app(tmp_path)) as client:
        cards = cards_for(client, patient_view([hpo_condition("c1", FOCAL), hpo_condition("c2", ATAXIA)]))
        accepted = {
            "feedback": [{"card": cards[0]["uuid"], "outcome": "accepted", "outcomeTimestamp": "2026-11-22T09:00:00Z"}]
        }
        assert client.post(SERVICE + "/feedback", json=accepted).status_code == 200
        refused = client.post("/cds-services/medication-safety-order-select/feedback", json=accepted)
        assert refused.status_code == 422  # the card was issued by the differential service, not this one
    store = FeedbackStore.open(tmp_path / "feedback.sqlite3")
    try:
        (tally,) = store.tallies()
    finally:
        store.close()
    assert (tally.rule_id, tally.fired, tally.accepted) == ("kgcds-ddx", len(cards), 1)
