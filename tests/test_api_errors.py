"""Client mistakes get a 4xx with an OperationOutcome naming the field, never a 5xx."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from tests.api_support import hook_request, make_app, med_request

SELECT = "/cds-services/medication-safety-order-select"


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Any]]:
    with TestClient(make_app(tmp_path_factory.mktemp("errors"))) as test_client:
        yield test_client


def valid_body() -> dict[str, Any]:
    return hook_request(drafts=[med_request("d1", "197699", "draft")], meds=[med_request("m1", "855332")])


def outcome(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["resourceType"] == "OperationOutcome"
    first: dict[str, Any] = body["issue"][0]
    assert first["severity"] == "error"
    return first


def test_malformed_json_is_400(client: TestClient[Any]) -> None:
    issue = outcome(client.post(SELECT, content=b'{"hook": "order-select",'), 400)
    assert "not valid JSON" in issue["diagnostics"]


def test_hook_the_service_does_not_handle_is_422_naming_hook(client: TestClient[Any]) -> None:
    body = valid_body()
    body["hook"] = "patient-view"
    issue = outcome(client.post(SELECT, json=body), 422)
    assert issue["expression"] == ["hook"]


@pytest.mark.parametrize("field", ["patientId", "userId", "draftOrders", "selections"])
def test_missing_context_field_is_named(client: TestClient[Any], field: str) -> None:
    body = valid_body()
    del body["context"][field]
    issue = outcome(client.post(SELECT, json=body), 422)
    assert issue["expression"] == [f"context.{field}"]


def test_missing_context_object_is_named(client: TestClient[Any]) -> None:
    body = valid_body()
    del body["context"]
    issue = outcome(client.post(SELECT, json=body), 422)
    assert "context" in issue["diagnostics"]


def test_wrong_type_is_named_with_its_path(client: TestClient[Any]) -> None:
    body = valid_body()
    body["context"]["userId"] = 42
    issue = outcome(client.post(SELECT, json=body), 422)
    assert issue["expression"] == ["context.userId"]


def test_non_fhir_resource_in_draft_orders(client: TestClient[Any]) -> None:
    body = valid_body()
    body["context"]["draftOrders"]["entry"].append({"resource": {"resourceType": "Banana", "id": "b"}})
    issue = outcome(client.post(SELECT, json=body), 422)
    assert issue["expression"] == ["context.draftOrders.entry[1].resource.resourceType"]


def test_resource_without_resource_type(client: TestClient[Any]) -> None:
    body = valid_body()
    body["prefetch"]["allergies"]["entry"] = [{"resource": {"id": "x"}}]
    issue = outcome(client.post(SELECT, json=body), 422)
    assert issue["expression"] == ["prefetch.allergies.entry[0].resource"]
    assert "resourceType" in issue["diagnostics"]


def test_prefetch_of_the_wrong_resource_type(client: TestClient[Any]) -> None:
    body = valid_body()
    body["prefetch"]["medications"] = {"resourceType": "Patient", "id": "p1"}
    issue = outcome(client.post(SELECT, json=body), 422)
    assert issue["expression"] == ["prefetch.medications.resourceType"]


def test_prefetched_patient_must_be_the_context_patient(client: TestClient[Any]) -> None:
    body = valid_body()
    body["prefetch"]["patient"]["id"] = "someone-else"
    issue = outcome(client.post(SELECT, json=body), 422)
    assert issue["expression"] == ["prefetch.patient.id"]


def test_unknown_top_level_field_is_refused(client: TestClient[Any]) -> None:
    body = valid_body()
    body["surprise"] = True
    issue = outcome(client.post(SELECT, json=body), 422)
    assert "surprise" in issue["diagnostics"]


def test_required_prefetch_missing_without_fhir_server_is_412(client: TestClient[Any]) -> None:
    body = valid_body()
    del body["prefetch"]["medications"]
    issue = outcome(client.post(SELECT, json=body), 412)
    assert issue["expression"] == ["prefetch.medications"]


def test_null_prefetch_counts_as_missing(client: TestClient[Any]) -> None:
    body = valid_body()
    body["prefetch"]["allergies"] = None
    issue = outcome(client.post(SELECT, json=body), 412)
    assert issue["expression"] == ["prefetch.allergies"]


def test_unknown_service_is_404(client: TestClient[Any]) -> None:
    issue = outcome(client.post("/cds-services/no-such-service", json=valid_body()), 404)
    assert "no-such-service" in issue["diagnostics"]


def test_feedback_errors(client: TestClient[Any]) -> None:
    url = SELECT + "/feedback"
    outcome(client.post(url, content=b'{"feedback": [{'), 400)
    issue = outcome(
        client.post(
            url, json={"feedback": [{"card": "x", "outcome": "maybe", "outcomeTimestamp": "2026-01-01T00:00:00Z"}]}
        ),
        422,
    )
    assert issue["expression"] == ["feedback[0].outcome"]
    issue = outcome(
        client.post(
            url,
            json={"feedback": [{"card": "nope", "outcome": "accepted", "outcomeTimestamp": "2026-01-01T00:00:00Z"}]},
        ),
        422,
    )
    assert issue["expression"] == ["feedback[0].card"]


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=st.sampled_from(
        ["context", "context.draftOrders", "prefetch", "prefetch.patient", "hook", "context.selections"]
    ),
    value=JSON_VALUES,
)
def test_garbage_anywhere_is_never_a_server_error(client: TestClient[Any], path: str, value: Any) -> None:
    body = valid_body()
    target = body
    *parents, leaf = path.split(".")
    for key in parents:
        target = target[key]
    target[leaf] = value
    response = client.post(SELECT, content=json.dumps(body).encode())
    assert response.status_code < 500, response.text


def test_absurdly_deep_nesting_is_a_400_not_a_crash(client: TestClient[Any]) -> None:
    resource = '{"resourceType": "Medication"}'
    for _ in range(5000):
        resource = '{"resourceType": "MedicationRequest", "contained": [' + resource + "]}"
    body = json.dumps(valid_body()).replace('"entry": [', '"entry": [{"resource": ' + resource + "}, ", 1)
    issue = outcome(client.post(SELECT, content=body.encode()), 400)
    assert "deeply" in issue["diagnostics"]
