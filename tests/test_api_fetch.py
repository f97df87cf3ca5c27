"""Prefetch left out by the EHR is read from ``fhirServer`` with ``fhirAuthorization``; else 412."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, Response, get
from litestar.params import FromPath
from litestar.testing import TestClient

from tests.api_support import bundle, egfr, make_app, med_request, patient

SELECT = "/cds-services/medication-safety-order-select"
FHIR = "https://fhir.hospital.example/r4"
TOKEN = "ehr-issued-access-token"


class FhirServer:
    """A tiny FHIR server over ASGI: the patient's record, bearer-protected, medications paged one per page."""

    def __init__(self, medications: list[dict[str, Any]], labs: list[dict[str, Any]]) -> None:
        self.medications = medications
        self.labs = labs
        self.seen_tokens: list[str | None] = []
        self.queries: list[str] = []

    def app(self) -> Litestar:
        server = self

        def guard(request: Request[Any, Any, Any]) -> Response[Any] | None:
            server.seen_tokens.append(request.headers.get("authorization"))
            server.queries.append(str(request.url))
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return Response({"resourceType": "OperationOutcome", "issue": []}, status_code=401)
            return None

        @get("/r4/Patient/{pid:str}", sync_to_thread=False)
        def read_patient(request: Request[Any, Any, Any], pid: FromPath[str]) -> Response[Any]:
            return guard(request) or Response(patient(pid))

        @get("/r4/MedicationRequest", sync_to_thread=False)
        def search_meds(request: Request[Any, Any, Any]) -> Response[Any]:
            page = int(request.query_params.get("page", "0"))
            result = bundle(server.medications[page : page + 1])
            if page + 1 < len(server.medications):
                result["link"] = [{"relation": "next", "url": f"{FHIR}/MedicationRequest?page={page + 1}"}]
            return guard(request) or Response(result)

        @get("/r4/AllergyIntolerance", sync_to_thread=False)
        def search_allergies(request: Request[Any, Any, Any]) -> Response[Any]:
            return guard(request) or Response(bundle([]))

        @get("/r4/Condition", sync_to_thread=False)
        def search_conditions(request: Request[Any, Any, Any]) -> Response[Any]:
            return guard(request) or Response(bundle([]))

        @get("/r4/Observation", sync_to_thread=False)
        def search_observations(request: Request[Any, Any, Any]) -> Response[Any]:
            code = request.query_params.get("code", "")
            return guard(request) or Response(bundle(server.labs if "33914-3" in code else []))

        return Litestar([read_patient, search_meds, search_allergies, search_conditions, search_observations])


@pytest.fixture()
def fhir() -> FhirServer:
    return FhirServer(
        medications=[med_request("m0", "861007"), med_request("m1", "855332"), med_request("m2", "309362")],
        labs=[egfr("o1", 25.0)],
    )


@pytest.fixture()
def client(tmp_path: Path, fhir: FhirServer) -> Iterator[TestClient[Any]]:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fhir.app()))  # type: ignore[arg-type]
    with TestClient(make_app(tmp_path, http_client=http)) as test_client:
        yield test_client


def request_without_prefetch(token: str = TOKEN) -> dict[str, Any]:
    draft = med_request("d1", "197699", "draft")
    return {
        "hook": "order-select",
        "hookInstance": "4b5a4e0e-8b1c-4a58-9d49-3c2b6a1f6f10",
        "fhirServer": FHIR,
        "fhirAuthorization": {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 300,
            "scope": "user/Patient.read user/MedicationRequest.read",
            "subject": "cds-service",
        },
        "context": {
            "userId": "Practitioner/u1",
            "patientId": "p1",
            "selections": ["MedicationRequest/d1"],
            "draftOrders": bundle([draft], "collection"),
        },
    }


def test_missing_prefetch_is_fetched_with_the_ehr_token_following_pages(
    client: TestClient[Any], fhir: FhirServer
) -> None:
    response = client.post(SELECT, json=request_without_prefetch())
    assert response.status_code == 200, response.text
    # warfarin is on the second page of the medication search: paging was followed.
    (card,) = response.json()["cards"]
    assert "warfarin" in card["summary"]
    assert set(fhir.seen_tokens) == {f"Bearer {TOKEN}"}
    assert any("MedicationRequest?patient=p1&status=active" in q for q in fhir.queries)


def test_fetched_orders_may_reference_the_medications_the_search_includes(tmp_path: Path, fhir: FhirServer) -> None:
    # The warfarin order names its drug by reference; the search _include-s the Medication, on its own page.
    warfarin = med_request("m1", "855332")
    medication = {"resourceType": "Medication", "id": "med-w", "code": warfarin.pop("medicationCodeableConcept")}
    warfarin["medicationReference"] = {"reference": "Medication/med-w"}
    fhir.medications = [med_request("m0", "861007"), warfarin, medication]
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fhir.app()))  # type: ignore[arg-type]
    with TestClient(make_app(tmp_path, http_client=http)) as client:
        response = client.post(SELECT, json=request_without_prefetch())
    assert response.status_code == 200, response.text
    (card,) = response.json()["cards"]
    assert "warfarin" in card["summary"]
    assert any("_include=MedicationRequest:medication" in q for q in fhir.queries)


def test_fhir_server_refusing_the_token_is_412(client: TestClient[Any]) -> None:
    response = client.post(SELECT, json=request_without_prefetch(token="expired"))
    assert response.status_code == 412
    issue = response.json()["issue"][0]
    assert issue["expression"][0].startswith("prefetch.")
    assert "401" in issue["diagnostics"]


def test_unreachable_fhir_server_is_412(tmp_path: Path) -> None:
    body = request_without_prefetch()
    body["fhirServer"] = "http://127.0.0.1:9/r4"  # discard port: nothing listens
    with TestClient(make_app(tmp_path)) as client:
        response = client.post(SELECT, json=body)
    assert response.status_code == 412


def test_patient_id_that_would_rewrite_the_query_is_refused(client: TestClient[Any], fhir: FhirServer) -> None:
    body = request_without_prefetch()
    body["context"]["patientId"] = "p1&_include=*"
    response = client.post(SELECT, json=body)
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["context.patientId"]
    assert fhir.queries == []


def test_only_missing_keys_are_fetched(client: TestClient[Any], fhir: FhirServer) -> None:
    body = request_without_prefetch()
    body["prefetch"] = {"patient": patient("p1"), "medications": bundle([med_request("m1", "855332")])}
    response = client.post(SELECT, json=body)
    assert response.status_code == 200, response.text
    assert not any("MedicationRequest" in q or "/Patient/" in q for q in fhir.queries)
    assert any("AllergyIntolerance" in q for q in fhir.queries)


def test_fhir_server_outside_the_allow_list_is_never_contacted(tmp_path: Path, fhir: FhirServer) -> None:
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=fhir.app()))  # type: ignore[arg-type]
    app = make_app(tmp_path, http_client=http, fhir_server_allow=["https://fhir.other-hospital.example/"])
    with TestClient(app) as client:
        response = client.post(SELECT, json=request_without_prefetch())
    assert response.status_code == 422
    assert response.json()["issue"][0]["expression"] == ["fhirServer"]
    assert fhir.queries == []
