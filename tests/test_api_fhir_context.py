"""FHIR details the screening depends on: dates, contained medications, statuses, genomics, pregnancy."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
from litestar.testing import TestClient

from cds_api.app import create_app
from cds_api.fhir_context import ContextBuilder, age_in_years, draft_medications, medication_id, parse_fhir_datetime
from cds_api.fhir_models import HookRequest
from cds_api.prefetch import MEDICATION_PREFETCH, complete_record
from cds_api.settings import ApiSettings
from ontology.curie import CodeSystemMap
from ontology.schema import GraphSchema
from rules.findings import Finding
from rules.patient import PatientContext
from tests.api_support import (
    TableEngine,
    code_table,
    cyp2c19_poor,
    egfr,
    hla_b5701,
    hook_request,
    med_request,
    pregnancy_status,
)

NOW = datetime(2026, 11, 22, 8, 0, tzinfo=UTC)


def patient_context(schema: GraphSchema, body: dict[str, Any]) -> PatientContext:
    request = msgspec.json.decode(msgspec.json.encode(body), type=HookRequest)
    drafts, others = draft_medications(request)
    record = complete_record(request, MEDICATION_PREFETCH)
    builder = ContextBuilder(CodeSystemMap.from_schema(schema))
    return builder.build(request, drafts, others, record, code_table(), NOW)


def test_fhir_dates_of_every_precision() -> None:
    assert parse_fhir_datetime("1950") == datetime(1950, 1, 1, tzinfo=UTC)
    assert parse_fhir_datetime("1950-05") == datetime(1950, 5, 1, tzinfo=UTC)
    assert parse_fhir_datetime("2026-10-01T08:00:00+02:00") == datetime(2026, 10, 1, 6, 0, tzinfo=UTC)
    assert parse_fhir_datetime("2026-10-01T08:00:00Z") == datetime(2026, 10, 1, 8, 0, tzinfo=UTC)
    assert parse_fhir_datetime("not a date") is None
    assert parse_fhir_datetime("1950-03-04") == datetime(1950, 3, 4, tzinfo=UTC)
    assert parse_fhir_datetime(" 1950-03-04 ") == datetime(1950, 3, 4, tzinfo=UTC)
    assert parse_fhir_datetime("1950-13-04") is None  # no 13th month
    assert parse_fhir_datetime("1950-02-30") is None
    assert age_in_years("1950-11-22", NOW) == 76.0


def test_one_code_in_two_systems_keeps_two_curies(schema: GraphSchema) -> None:
    """CURIEs are remembered by code, then system: the same digits under RxNorm and SNOMED CT are two concepts."""
    builder = ContextBuilder(CodeSystemMap.from_schema(schema))
    rxnorm, snomed = "http://www.nlm.nih.gov/research/umls/rxnorm", "http://snomed.info/sct"
    for _ in range(2):  # the second round reads the memo
        assert builder.curie(rxnorm, "7980") == "RXNORM:7980"
        assert builder.curie(snomed, "7980") == "SNOMEDCT:7980"
        assert builder.curie("urn:example:unknown-system", "7980") is None
    # a code sent under ever more systems stays correct once the memo stops remembering them
    for n in range(20):
        assert builder.curie(f"urn:example:system-{n}", "7980") is None
    assert builder.curie(rxnorm, "7980") == "RXNORM:7980"


def test_contained_medication_is_resolved(schema: GraphSchema) -> None:
    draft = {
        "resourceType": "MedicationRequest",
        "id": "d1",
        "status": "draft",
        "intent": "order",
        "contained": [
            {
                "resourceType": "Medication",
                "id": "med",
                "code": {
                    "coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": "197699"}],
                    "text": "fluconazole 150 MG Oral Tablet",
                },
            }
        ],
        "medicationReference": {"reference": "#med"},
    }
    context = patient_context(schema, hook_request(drafts=[draft]))
    (entry,) = context.drafts
    assert entry.ingredient_ids == ("RXNORM:4450",)
    assert entry.codes == ("RXNORM:197699",)


def test_patient_facts(schema: GraphSchema) -> None:
    body = hook_request(
        drafts=[med_request("d1", "197699", "draft")],
        meds=[med_request("m1", "855332"), med_request("m2", "861007", "stopped")],
        labs=[egfr("o1", 25.0), pregnancy_status(True)],
        genomics=[cyp2c19_poor(), hla_b5701(present=True)],
    )
    context = patient_context(schema, body)
    assert context.sex == "female" and context.age_years is not None and 76 <= context.age_years <= 77
    assert [m.ref for m in context.active_medications] == ["MedicationRequest/m1"]  # stopped one left out
    assert context.pregnant is True
    assert [(lab.loinc, lab.value) for lab in context.labs] == [("33914-3", 25.0)]
    genotypes = {g.gene: g for g in context.genotypes}
    assert genotypes["CYP2C19"].phenotype == "Poor metabolizer"
    assert genotypes["HLA-B"].phenotype == "positive" and genotypes["HLA-B"].allele == "HLA-B*57:01"


def test_unrecognised_active_medication_is_reported_not_dropped(schema: GraphSchema) -> None:
    odd = med_request("m9", "855332")
    odd["medicationCodeableConcept"] = {"text": "Grandma's tonic"}
    context = patient_context(schema, hook_request(drafts=[med_request("d1", "197699", "draft")], meds=[odd]))
    assert any("Grandma's tonic" in note for note in context.unmapped)


class CountingEngine:
    """The table engine plus the ``refresh`` hook a reloadable engine has."""

    def __init__(self) -> None:
        self._engine = TableEngine()
        self.refreshed: list[float] = []

    def refresh(self, force: bool = False) -> object:
        self.refreshed.append(time.monotonic())
        return None

    def evaluate(self, patient: PatientContext, now: datetime) -> list[Finding]:
        return self._engine.evaluate(patient, now)


def test_reloadable_engine_is_refreshed_in_the_background(tmp_path: Path) -> None:
    engine = CountingEngine()
    terminology = code_table()
    settings = ApiSettings(home=tmp_path, auth="disabled", rules_reload_seconds=0.05)
    with TestClient(create_app(settings, lambda: terminology, engine)):
        deadline = time.monotonic() + 10
        while not engine.refreshed and time.monotonic() < deadline:
            time.sleep(0.02)
    assert engine.refreshed


def test_a_medication_reference_reads_as_the_id_it_names() -> None:
    assert medication_id("Medication/123") == "123"
    assert medication_id("https://ehr.example/fhir/Medication/abc-1/_history/2") == "abc-1"
    assert (
        medication_id("#med1") is None and medication_id("Substance/9") is None and medication_id("Medication/") is None
    )
