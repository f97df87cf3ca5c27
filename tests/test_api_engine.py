"""The real app with the real rules engine, rule library and drug lexicon over a small medication graph.

The graph is the rules helper's hand-made fixture (tests/rules_fixture_graph.py); drugs arrive as
real RxNorm product codes the graph does not hold, so they resolve through the lexicon by text.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from cds_api.app import create_app
from cds_api.bootstrap import CompiledServices, compile_services
from cds_api.settings import ApiSettings
from evaluation.synthea_orders import SERVICE_ID, order_sign_request, read_bundles
from ontology.schema import GraphSchema
from tests.api_support import (
    allergy,
    condition,
    cyp2c19_poor,
    egfr,
    hla_b5701,
    hook_request,
    med_by_text,
    med_request,
    pregnancy_status,
)
from tests.rules_fixture_graph import build_rules_store

SELECT = "/cds-services/medication-safety-order-select"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory, schema: GraphSchema) -> CompiledServices:
    root = tmp_path_factory.mktemp("engine")
    store = build_rules_store(root / "graph", schema)
    try:
        return compile_services(store, schema)
    finally:
        store.close()


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, compiled: CompiledServices) -> Iterator[TestClient[Any]]:
    settings = ApiSettings(home=tmp_path_factory.mktemp("engine-home"), auth="disabled")
    with TestClient(create_app(settings, lambda: compiled.terminology, compiled.engine)) as test_client:
        yield test_client


def screen(client: TestClient[Any], **parts: Any) -> list[dict[str, Any]]:
    response = client.post(SELECT, json=hook_request(**parts))
    assert response.status_code == 200, response.text
    cards: list[dict[str, Any]] = response.json()["cards"]
    return cards


def test_warfarin_plus_fluconazole_is_critical(client: TestClient[Any]) -> None:
    cards = screen(client, drafts=[med_request("d1", "197699", "draft")], meds=[med_request("m1", "855332")])
    assert [c["indicator"] for c in cards] == ["critical"]
    assert "MedicationRequest/d1" in cards[0]["detail"]
    # One evidence paragraph (the sources), the pharmacist rule's literature under its own heading.
    paragraphs = cards[0]["detail"].split("\n\n")
    assert sum(p.startswith("**Evidence:**") for p in paragraphs) == 1
    (references,) = [p for p in paragraphs if p.startswith("**References:**")]
    assert "Holbrook" in references


def test_fluconazole_alone_is_silent(client: TestClient[Any]) -> None:
    assert screen(client, drafts=[med_request("d1", "197699", "draft")]) == []


def test_amoxicillin_with_penicillin_allergy_alerts_unless_refuted(client: TestClient[Any]) -> None:
    drafts = [med_request("d1", "308191", "draft")]
    penicillin = allergy("a1", "7984", "penicillin V")
    cards = screen(client, drafts=drafts, allergies=[penicillin])
    assert len(cards) == 1 and cards[0]["indicator"] in {"critical", "warning"}
    refuted = allergy("a1", "7984", "penicillin V", verification="refuted")
    assert screen(client, drafts=drafts, allergies=[refuted]) == []


def test_metformin_renal_threshold(client: TestClient[Any]) -> None:
    drafts = [med_request("d1", "861007", "draft")]
    (card,) = screen(client, drafts=drafts, labs=[egfr("o1", 25.0)])
    assert "25" in card["detail"] and "30" in card["detail"]
    assert screen(client, drafts=drafts, labs=[egfr("o1", 90.0)]) == []


def test_clopidogrel_with_cyp2c19_poor_metabolizer(client: TestClient[Any]) -> None:
    drafts = [med_request("d1", "309362", "draft")]
    (card,) = screen(client, drafts=drafts, genomics=[cyp2c19_poor()])
    assert card["indicator"] == "critical"
    assert "CYP2C19" in card["summary"]
    assert screen(client, drafts=drafts) == []


def test_abacavir_with_hla_b5701(client: TestClient[Any]) -> None:
    drafts = [med_by_text("d1", "242680", "abacavir 300 MG Oral Tablet")]
    (card,) = screen(client, drafts=drafts, genomics=[hla_b5701(present=True)])
    assert card["indicator"] == "critical"
    assert screen(client, drafts=drafts, genomics=[hla_b5701(present=False)]) == []


def test_all_synthea_patients_screen_with_the_real_engine(client: TestClient[Any], shared_data: Path) -> None:
    bundles = list(read_bundles(shared_data / "fhir" / "synthea_patients.ndjson.gz"))
    with_orders = [b for b in bundles if any(e["resource"]["resourceType"] == "MedicationRequest" for e in b["entry"])]
    assert len(bundles) == 28
    screened = 0
    for bundle in bundles:
        body = order_sign_request(bundle, drafts=3, all_observations=True)
        if body is None:
            continue
        response = client.post(f"/cds-services/{SERVICE_ID}", json=body)
        assert response.status_code == 200, response.text
        screened += 1
    assert screened == len(with_orders) > 20


def test_warfarin_in_pregnancy(client: TestClient[Any]) -> None:
    drafts = [med_request("d1", "855332", "draft")]
    (card,) = screen(client, drafts=drafts, labs=[pregnancy_status(True)])
    assert card["source"]["topic"]["code"] == "pregnancy-warfarin"
    assert screen(client, drafts=drafts, labs=[pregnancy_status(False)]) == []


def test_nsaid_in_heart_failure_but_not_once_resolved(client: TestClient[Any]) -> None:
    drafts = [med_request("d1", "197805", "draft")]  # ibuprofen 400 MG Oral Tablet
    (card,) = screen(client, drafts=drafts, conditions=[condition("c1", "84114007", "Heart failure")])
    assert card["source"]["topic"]["code"] == "stopp-h2-nsaid-heart-failure"
    resolved = condition("c1", "84114007", "Heart failure", status="resolved")
    assert screen(client, drafts=drafts, conditions=[resolved]) == []


def test_nsaid_with_egfr_below_50(client: TestClient[Any]) -> None:
    drafts = [med_request("d1", "197805", "draft")]
    (card,) = screen(client, drafts=drafts, labs=[egfr("o1", 42.0)])
    assert "42" in card["summary"] and "50" in card["summary"]
    assert screen(client, drafts=drafts, labs=[egfr("o1", 75.0)]) == []


def test_allergy_recorded_as_a_drug_group_by_name(client: TestClient[Any]) -> None:
    penicillins = allergy("a1", "000", "Penicillins")
    penicillins["code"] = {"text": "Penicillins"}
    (card,) = screen(client, drafts=[med_request("d1", "308191", "draft")], allergies=[penicillins])
    assert card["indicator"] in {"critical", "warning"}
    assert screen(client, drafts=[med_request("d1", "197699", "draft")], allergies=[penicillins]) == []


@pytest.mark.parametrize(
    ("system", "code", "display"),
    [
        ("http://snomed.info/sct", "91936005", "Allergy to penicillin"),  # SNOMED CT disorder
        ("http://snomed.info/sct", "764146007", "Penicillin"),  # SNOMED CT substance, singular
        (None, None, "PCN"),  # free text, a synonym the group lists
    ],
)
def test_penicillin_allergy_as_records_word_it(
    client: TestClient[Any], system: str | None, code: str | None, display: str
) -> None:
    recorded = allergy("a1", "000", display)
    recorded["code"] = {
        "coding": [{"system": system, "code": code, "display": display}] if system else [],
        "text": display,
    }
    (card,) = screen(client, drafts=[med_request("d1", "308191", "draft")], allergies=[recorded])
    assert card["indicator"] == "critical"  # a group allergy (major), raised for high criticality
    assert "penicillins group" in card["detail"].lower() and "by allergy group name" in card["detail"]
    assert screen(client, drafts=[med_request("d1", "197699", "draft")], allergies=[recorded]) == []
    refuted = {**recorded, "verificationStatus": {"coding": [{"code": "refuted"}]}}
    assert screen(client, drafts=[med_request("d1", "308191", "draft")], allergies=[refuted]) == []


def test_allergy_coded_as_a_drug_class_of_another_vocabulary(client: TestClient[Any]) -> None:
    # US Core allows NDF-RT class codes for allergies; the text here names nothing, so only the code can tell.
    coded = allergy("a1", "000", "Class 11281")
    coded["code"] = {"coding": [{"system": "http://hl7.org/fhir/ndfrt", "code": "N0000011281"}], "text": "Class 11281"}
    (card,) = screen(client, drafts=[med_request("d1", "308191", "draft")], allergies=[coded])
    assert card["source"]["topic"]["code"] == "kgcds.allergy.group"
    assert "allergy Class 11281 was identified" not in card["detail"]  # an exact code: no wording was read


def test_a_salt_is_screened_as_the_substance_it_delivers(client: TestClient[Any]) -> None:
    """Lithium carbonate is what gets prescribed; the thiazide interaction is stated for lithium."""
    carbonate = med_by_text("d1", "0", "lithium carbonate 300 MG Oral Capsule")
    thiazide = med_by_text("m1", "0", "hydrochlorothiazide 25 MG Oral Tablet", "active")
    (card,) = screen(client, drafts=[carbonate], meds=[thiazide])
    assert card["indicator"] == "critical" and card["source"]["topic"]["code"] == "kgcds.drug-drug"
    assert "lithium carbonate (as a form of lithium)" in card["detail"]
    assert card["detail"].count("identified by") == 1  # said once, not by the engine and the card both
    # Two salts of one substance are duplicate therapy, never an interaction of lithium with itself.
    citrate = med_by_text("m2", "0", "lithium citrate 60 MG/ML Oral Solution", "active")
    (duplicate,) = screen(client, drafts=[carbonate], meds=[citrate])
    assert duplicate["source"]["topic"]["code"] == "kgcds.duplicate.ingredient"
    assert duplicate["summary"].startswith("Duplicate lithium:")
    assert duplicate["detail"].count("**Evidence:**") == 1  # the STOPP citation sits in the one evidence line
    # An allergy is to the substance that acts, whichever salt the record names.
    (allergic,) = screen(client, drafts=[carbonate], allergies=[allergy("a1", "52105", "lithium citrate")])
    assert allergic["indicator"] == "critical"
    assert (
        "lithium carbonate and lithium citrate (recorded in the allergy) are both forms of lithium"
        in (allergic["detail"])
    )
    # The moiety's knowledge reaches only its forms.
    assert screen(client, drafts=[med_by_text("d1", "0", "metformin 500 MG Oral Tablet")], meds=[thiazide]) == []


def test_an_interaction_with_a_drug_put_on_the_skin_is_shown_for_information(client: TestClient[Any]) -> None:
    """Azoles + warfarin is stated for systemic use; a ketoconazole cream puts little into the blood."""
    warfarin = med_request("m1", "855332")
    cream = med_by_text("d1", "0", "ketoconazole 20 MG/ML Topical Cream")
    (card,) = screen(client, drafts=[cream], meds=[warfarin])
    assert card["indicator"] == "info" and card["summary"].endswith("when systemic; here applied to the skin")
    assert "is applied to the skin, so little of it reaches the blood" in card["detail"]
    assert "**major** interaction" in card["detail"]  # what the source says is still said
    tablet = med_by_text("d1", "0", "ketoconazole 200 MG Oral Tablet")
    assert [c["indicator"] for c in screen(client, drafts=[tablet], meds=[warfarin])] == ["critical"]


def by_reference(order: dict[str, Any], medication_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The order naming its drug by reference to a Medication resource (US Core allows either), and that resource."""
    medication = {"resourceType": "Medication", "id": medication_id, "code": order.pop("medicationCodeableConcept")}
    order["medicationReference"] = {"reference": f"Medication/{medication_id}"}
    return order, medication


def test_orders_that_reference_a_medication_resource_are_screened(client: TestClient[Any]) -> None:
    # The active warfarin order references a Medication the medications search _include-d ...
    warfarin, warfarin_medication = by_reference(med_request("m1", "855332"), "med-w")
    drafts = [med_request("d1", "197699", "draft")]
    cards = screen(client, drafts=drafts, meds=[warfarin, warfarin_medication])
    assert [c["indicator"] for c in cards] == ["critical"]
    # ... and a draft references one sent beside it in draftOrders (an absolute, versioned reference).
    fluconazole, fluconazole_medication = by_reference(med_request("d1", "197699", "draft"), "med-f")
    fluconazole["medicationReference"]["reference"] = "https://ehr.example/fhir/Medication/med-f/_history/3"
    cards = screen(
        client,
        drafts=[fluconazole, fluconazole_medication],
        meds=[med_request("m1", "855332")],
        selections=["MedicationRequest/d1"],
    )
    assert [c["indicator"] for c in cards] == ["critical"]
    # A reference to a Medication nobody sent is not dropped: the order is named as not recognised.
    unsent, _ = by_reference(med_request("m2", "855332"), "med-x")
    cards = screen(client, drafts=drafts, meds=[med_request("m1", "855332"), unsent])
    assert [c["indicator"] for c in cards] == ["critical", "info"]
    assert "medication referenced as Medication/med-x, not sent" in cards[1]["detail"]


def test_record_entries_that_cannot_be_recognised_are_named_on_an_info_card(client: TestClient[Any]) -> None:
    tonic = med_request("m9", "855332")
    tonic["medicationCodeableConcept"] = {"text": "Grandma's tonic"}
    mystery = allergy("a1", "000", "Xyzzy drops")
    mystery["code"] = {"text": "Xyzzy drops"}
    peanuts = {**allergy("a2", "000", "Allergy to peanuts"), "category": ["food"]}
    peanuts["code"] = {"text": "Allergy to peanuts"}
    drafts = [med_request("d1", "197699", "draft")]
    cards = screen(client, drafts=drafts, meds=[med_request("m1", "855332"), tonic], allergies=[mystery, peanuts])
    assert [c["indicator"] for c in cards] == ["critical", "info"]  # warfarin + fluconazole still found
    note = cards[1]
    assert note["source"]["topic"]["code"] == "kgcds-record-not-recognised"
    assert "Grandma's tonic" in note["detail"] and "Xyzzy drops" in note["detail"]
    assert "peanuts" not in note["detail"]  # a food allergy is not the drug screen's to recognise
    assert "2 record entries" in note["summary"] and "against these entries" in note["detail"]
    # Nothing unrecognised, no such card; a draft that is itself unrecognised has its own card instead.
    nkda = allergy("a3", "000", "No known drug allergy")
    nkda["code"] = {"coding": [{"system": "http://snomed.info/sct", "code": "409137002"}], "text": "NKDA"}
    refuted = {**mystery, "verificationStatus": {"coding": [{"code": "refuted"}]}}
    assert screen(client, drafts=drafts, allergies=[peanuts, nkda, refuted]) == []
    unknown_draft = med_request("d2", "855332", "draft")
    unknown_draft["medicationCodeableConcept"] = {"text": "Grandma's tonic"}
    (only,) = screen(client, drafts=[unknown_draft], meds=[tonic])
    assert only["source"]["topic"]["code"] == "kgcds-order-not-recognised"


def test_synthea_calls_send_the_labs_the_service_asks_for(shared_data: Path) -> None:
    from cds_api.prefetch import LAB_COUNT, LAB_LOINC

    asked_total = all_total = 0
    for bundle in read_bundles(shared_data / "fhir" / "synthea_patients.ndjson.gz"):
        asked, everything = order_sign_request(bundle), order_sign_request(bundle, all_observations=True)
        if asked is None or everything is None:
            continue
        labs = [e["resource"] for e in asked["prefetch"]["labs"]["entry"]]
        assert len(labs) <= LAB_COUNT
        assert all(any(c["code"] in LAB_LOINC for c in lab["code"]["coding"]) for lab in labs)
        dates = [lab.get("effectiveDateTime", "") for lab in labs]
        assert dates == sorted(dates, reverse=True)
        asked_total += len(labs)
        all_total += len(everything["prefetch"]["labs"]["entry"])
    assert 0 < asked_total < all_total
