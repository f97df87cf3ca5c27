"""The fast screening path says exactly what the plain one says, and nothing of another patient.

The hot path remembers patient-independent work (per code, ingredient pair, rule) and sends cards
with their shared parts pre-encoded; these tests pin that a new patient with the same drugs gets
cards about its own orders, that the pre-encoded cards are byte for byte the plain cards, and
that a product code decides a drug whatever the display text says.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
import pytest

from cds_api.bootstrap import CompiledServices, compile_services
from cds_api.card_models import CardsResponse, WireResponse
from cds_api.cards import CardFactory
from cds_api.fhir_context import draft_medications
from cds_api.prefetch import complete_record
from cds_api.services import Screening
from cds_api.terminology import DrugResolution, Terminology
from evaluation.bench_order_select import distinct_patient
from ontology.curie import CodeSystemMap
from ontology.schema import GraphSchema
from ontology.vocab import Severity
from rules.findings import Finding, Suggestion, TemplateKey
from rules.patient import ConditionEntry, MedicationEntry, PatientContext
from tests import rules_fixture_graph as g
from tests.api_support import allergy, condition, egfr, hook_request, med_request
from tests.rules_fixture_graph import build_rules_store
from tests.rules_patients import NOW

UUID = re.compile(rb"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
SERVICE = "medication-safety-order-select"


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory, schema: GraphSchema) -> CompiledServices:
    store = build_rules_store(tmp_path_factory.mktemp("latency") / "graph", schema)
    try:
        return compile_services(store, schema)
    finally:
        store.close()


@pytest.fixture(scope="module")
def screening(compiled: CompiledServices, schema: GraphSchema) -> Screening:
    return Screening.wired(CodeSystemMap.from_schema(schema), compiled.engine, lambda: compiled.terminology)


def busy_patient() -> dict[str, Any]:
    """Warfarin on the list; fluconazole, ibuprofen and amoxicillin drafted; penicillin allergy; eGFR 25."""
    return hook_request(
        drafts=[
            med_request("d1", "197699", "draft"),
            med_request("d2", "197805", "draft"),
            med_request("d3", "308191", "draft"),
        ],
        meds=[med_request("m1", "855332"), med_request("m2", "861007")],
        allergies=[allergy("a1", "7980", "penicillin G")],
        conditions=[condition("c1", "84114007", "Heart failure")],
        labs=[egfr("o1", 25.0)],
    )


def screen_bytes(screening: Screening, request: dict[str, Any]) -> bytes:
    service = screening.service(SERVICE)
    decoded = screening.decode(service, json.dumps(request).encode())
    return screening.screen(decoded, complete_record(decoded, service.prefetch), NOW).body


def without_uuids(body: bytes) -> list[dict[str, Any]]:
    cards: list[dict[str, Any]] = json.loads(UUID.sub(b"uuid", body))["cards"]
    return cards


def test_a_new_patient_with_the_same_drugs_gets_cards_about_its_own_orders(screening: Screening) -> None:
    template = busy_patient()
    first = without_uuids(screen_bytes(screening, distinct_patient(template, 1)))
    second_body = screen_bytes(screening, distinct_patient(template, 2))
    second = without_uuids(second_body)
    assert len(first) >= 4  # interaction, allergy, renal and duplicate/other problems: a busy record
    assert [(c["source"]["topic"]["code"], c["indicator"]) for c in first] == [
        (c["source"]["topic"]["code"], c["indicator"]) for c in second
    ]
    text = second_body.decode()
    assert "(patient 1)" not in text and "/d1-1" not in text and "Patient/p1-1" not in text
    for card in second:
        assert "(patient 2)" in card["detail"] and "MedicationRequest/d" in card["detail"], card["detail"]
        for suggestion in card.get("suggestions", ()):
            for action in suggestion["actions"]:
                assert action.get("resourceId", "MedicationRequest/d1-2").endswith("-2")
                subject = action.get("resource", {}).get("subject", {"reference": "Patient/p1-2"})
                assert subject["reference"] == "Patient/p1-2"
    # and remembering patient 2's drugs changed nothing for patient 1
    assert without_uuids(screen_bytes(screening, distinct_patient(template, 1))) == first


TOPICAL_SUMMARY = "Warfarin + fluconazole: major interaction when systemic; here applied to the skin"


def hand_made(draft: MedicationEntry, **changes: Any) -> Finding:
    fields: dict[str, Any] = dict(
        rule_id="site-test",
        rule_version="2",
        kind="drug-drug",
        severity=Severity.MAJOR,
        interruptive=True,
        draft_ref=draft.ref,
        other_ref="MedicationRequest/m1",
        summary="Warfarin + fluconazole: major interaction",
        detail_markdown="**Head** for this patient.\n\nShared × tail — the same for everyone.",
        management="Monitor the INR.",
        source_label="A source",
        source_url="https://example.org/source",
        source_dataset="site_rules@1",
        source_version="1",
        references=("https://example.org/ref", "Some paper 2015"),
        suggestions=(
            Suggestion("Cancel the order", "remove-draft", None, None),
            Suggestion("Replace with terbinafine", "replace-draft", g.TERBINAFINE, "terbinafine"),
        ),
        dedupe_key=("pair", draft.ref, "MedicationRequest/m1"),
        detail_tail="Shared × tail — the same for everyone.",
    )
    return Finding(**(fields | changes))


def test_pre_encoded_cards_are_the_plain_cards_byte_for_byte(schema: GraphSchema, compiled: CompiledServices) -> None:
    factory = CardFactory(CodeSystemMap.from_schema(schema))
    draft = MedicationEntry("MedicationRequest/d1", "fluconazole 150 MG Oral Tablet", (), (g.FLUCONAZOLE,), True, None)
    noted = MedicationEntry("MedicationRequest/d2", "ibuprofen 200 mg", (), (g.IBUPROFEN,), True, "by name")
    findings = [
        hand_made(draft),
        hand_made(draft, detail_tail="not the end of the detail", dedupe_key=("x",)),  # ignored, not trusted
        # a template key is trusted only once its first finding showed the detail ends with the tail
        hand_made(draft, detail_tail="not the end either", dedupe_key=("x2",), template_key=TemplateKey(("x2",))),
        hand_made(draft, dedupe_key=("k1",), rule_id="keyed", template_key=TemplateKey(("keyed",))),
        hand_made(draft, dedupe_key=("k2",), rule_id="keyed", other_ref="m2", template_key=TemplateKey(("keyed",))),
        # one key, another summary (a topical site, a patient's lab value): the card carries its own summary
        hand_made(
            draft,
            dedupe_key=("k3",),
            rule_id="keyed",
            other_ref="m3",
            summary=TOPICAL_SUMMARY,
            template_key=TemplateKey(("keyed",)),
        ),
        hand_made(noted, detail_markdown="", detail_tail="", dedupe_key=("y",), severity=Severity.MINOR),
        hand_made(noted, management="Shared × tail", references=(), dedupe_key=("z",), interruptive=False),
        # the patient part already gives the management text, or a reference straddles the seam: not repeated
        hand_made(
            draft,
            detail_markdown="Monitor the INR. Shared × tail — the same for everyone.",
            dedupe_key=("w",),
            rule_id="site-test-2",
        ),
        hand_made(
            draft,
            detail_markdown="see https://example.org/ref\n\nShared × tail — the same for everyone.",
            references=("https://example.org/ref\n\nShared",),
            dedupe_key=("v",),
            rule_id="site-test-3",
        ),
        hand_made(draft, suggestions=(), dedupe_key=("u",), rule_id="site-test-4"),
    ]
    drafts = {draft.ref: draft, noted.ref: noted}
    plain, plain_issued = factory.cards(findings, drafts, "p1")
    wire, wire_issued = factory.wire_cards(findings, drafts, "p1")
    encoder = msgspec.json.Encoder()
    plain_body = encoder.encode(CardsResponse(cards=tuple(plain)))
    wire_body = encoder.encode(WireResponse(cards=tuple(wire)))
    assert UUID.sub(b"u", wire_body) == UUID.sub(b"u", plain_body)
    assert [(i.rule_id, i.indicator) for i in wire_issued] == [(i.rule_id, i.indicator) for i in plain_issued]
    assert [i.card_uuid for i in wire_issued] == [c["uuid"] for c in json.loads(wire_body)["cards"]]
    cards = json.loads(wire_body)["cards"]
    assert cards[0]["detail"].count("Shared × tail") == 1 and "**Management:** Monitor the INR." in cards[0]["detail"]
    by_rule = {card["source"]["topic"]["code"]: card for card in cards}
    assert "**Management:**" not in by_rule["site-test-2"]["detail"]
    assert "**Evidence:**" not in by_rule["site-test-3"]["detail"]
    assert "suggestions" not in by_rule["site-test-4"] and "selectionBehavior" not in by_rule["site-test-4"]
    assert "_Order identified by name._" in json.dumps(cards, ensure_ascii=False)
    keyed = [card["summary"] for card in cards if card["source"]["topic"]["code"] == "keyed"]
    assert sorted(keyed) == sorted([findings[0].summary, findings[0].summary, TOPICAL_SUMMARY])


def coded_ibuprofen_patient() -> dict[str, Any]:
    """The busy patient with the ibuprofen draft coded by its ingredient, not identified by its name."""
    request = busy_patient()
    ibuprofen = request["context"]["draftOrders"]["entry"][1]["resource"]
    ibuprofen["medicationCodeableConcept"]["coding"][0]["code"] = g.IBUPROFEN.removeprefix("RXNORM:")
    return request


@pytest.mark.parametrize("make_request", [busy_patient, coded_ibuprofen_patient])
def test_the_real_engine_cards_are_the_same_either_way(
    screening: Screening, compiled: CompiledServices, make_request: Callable[[], dict[str, Any]]
) -> None:
    service = screening.service(SERVICE)
    request = screening.decode(service, json.dumps(make_request()).encode())
    drafts, others = draft_medications(request)
    record = complete_record(request, service.prefetch)
    patient = screening.builder.build(request, drafts, others, record, compiled.terminology, NOW)
    findings = compiled.engine.evaluate(patient, NOW)
    # Cards with a shared tail and a template key are joined from a cached template: drug-drug ones, and
    # conditional-rule ones unless the draft was identified by name (the note is the patient's own words).
    keyed = {f.kind for f in findings if f.detail_tail and f.template_key}
    named = any(d.match_note for d in patient.drafts if g.IBUPROFEN in d.ingredient_ids)
    assert keyed == ({"drug-drug"} if named else {"drug-drug", "renal", "drug-disease"})
    by_ref = {d.ref: d for d in patient.drafts}
    plain, _ = screening.cards.cards(findings, by_ref, "p1")
    wire, _ = screening.cards.wire_cards(findings, by_ref, "p1")
    encoder = msgspec.json.Encoder()
    assert UUID.sub(b"u", encoder.encode(WireResponse(cards=tuple(wire)))) == UUID.sub(
        b"u", encoder.encode(CardsResponse(cards=tuple(plain)))
    )


def test_a_known_product_code_decides_the_drug_whatever_the_text(compiled: CompiledServices) -> None:
    terminology = compiled.terminology
    usual = terminology.resolve_drug(("RXNORM:855332",), "warfarin sodium 5 MG Oral Tablet")
    odd = terminology.resolve_drug(("RXNORM:855332",), "patient's own supply, see note (bed 4)")
    assert usual.ingredient_ids == odd.ingredient_ids == (g.WARFARIN,)
    assert usual.note is None and odd.note is None
    # a code the lexicon does not know still lets the text decide, and says so
    by_text = terminology.resolve_drug(("RXNORM:308191",), "Amoxicillin 500 MG Oral Capsule")
    unknown = terminology.resolve_drug(("RXNORM:308191",), "something else entirely")
    assert by_text.ingredient_ids == (g.AMOXICILLIN,) and by_text.note
    assert unknown.ingredient_ids == ()


def test_a_full_memo_is_forgotten_without_changing_any_finding(
    compiled: CompiledServices, screening: Screening, monkeypatch: pytest.MonkeyPatch
) -> None:
    import rules.context
    from cds_api.fhir_context import draft_medications
    from rules.engine import RulesEngine

    service = screening.service(SERVICE)
    request = screening.decode(service, json.dumps(busy_patient()).encode())
    drafts, others = draft_medications(request)
    patient = screening.builder.build(
        request, drafts, others, complete_record(request, service.prefetch), compiled.terminology, NOW
    )
    reference = compiled.engine.evaluate(patient, NOW)
    ruleset = compiled.engine.ruleset
    monkeypatch.setattr(rules.context, "MEMO_LIMIT", 3)
    engine = RulesEngine(compiled.engine._knowledge, ruleset)  # a fresh memo, bounded at 3 entries
    for _ in range(3):
        assert engine.evaluate(patient, NOW) == reference
        assert len(engine._memo) <= 4


@dataclass
class CountingTerminology:
    """The real terminology, counting how many conditions were mapped."""

    inner: Terminology
    condition_reads: int = 0

    def resolve_drug(self, codes: Sequence[str], text: str | None) -> DrugResolution:
        return self.inner.resolve_drug(codes, text)

    def condition_codes(self, codes: Sequence[str]) -> tuple[str, ...]:
        self.condition_reads += 1
        return self.inner.condition_codes(codes)


def screen_counting(screening: Screening, compiled: CompiledServices, body: dict[str, Any]) -> tuple[Any, int]:
    counting = CountingTerminology(compiled.terminology)
    lazy = Screening(screening.builder, screening.cards, screening.engine, lambda: counting, screening.services)
    service = lazy.service(SERVICE)
    request = lazy.decode(service, json.dumps(body).encode())
    result = lazy.screen(request, complete_record(request, service.prefetch), NOW)
    return json.loads(result.body)["cards"], counting.condition_reads


def test_conditions_are_read_only_when_a_rule_asks_and_then_alert_as_before(
    screening: Screening, compiled: CompiledServices
) -> None:
    record = {"conditions": [condition("c1", "84114007", "Heart failure")], "labs": [egfr("o1", 25.0)]}
    # amoxicillin: no rule reads a condition, so the record's conditions are never mapped
    cards, reads = screen_counting(
        screening, compiled, hook_request(drafts=[med_request("d3", "308191", "draft")], **record)
    )
    assert reads == 0
    assert not any("Heart failure" in card["detail"] for card in cards)
    # ibuprofen: the drug-disease and renal rules read them, and fire as they did when read up front
    ibuprofen = hook_request(drafts=[med_request("d2", "197805", "draft")], **record)
    cards, reads = screen_counting(screening, compiled, ibuprofen)
    assert reads == 1
    summaries = " | ".join(card["summary"] for card in cards)
    assert "Heart failure" in summaries and "eGFR 25" in summaries, summaries

    service = screening.service(SERVICE)
    request = screening.decode(service, json.dumps(ibuprofen).encode())
    drafts, others = draft_medications(request)
    lazy = screening.builder.build(
        request, drafts, others, complete_record(request, service.prefetch), compiled.terminology, NOW
    )
    eager = PatientContext(
        age_years=lazy.age_years,
        sex=lazy.sex,
        pregnant=lazy.pregnant,
        active_medications=lazy.active_medications,
        drafts=lazy.drafts,
        allergies=lazy.allergies,
        conditions=lazy.conditions,
        labs=lazy.labs,
        genotypes=lazy.genotypes,
        unmapped=lazy.unmapped,
    )
    fresh = screening.builder.build(
        request, drafts, others, complete_record(request, service.prefetch), compiled.terminology, NOW
    )
    assert compiled.engine.evaluate(fresh, NOW) == compiled.engine.evaluate(eager, NOW)


def test_a_deferred_fact_is_read_once_on_first_use() -> None:
    reads: list[str] = []

    def conditions() -> tuple[ConditionEntry, ...]:
        reads.append("conditions")
        return (ConditionEntry("Condition/c1", "Heart failure", ("SNOMEDCT:84114007",), "active"),)

    patient = PatientContext(
        age_years=70,
        sex="female",
        pregnant=lambda: reads.append("pregnant") or None,
        active_medications=(),
        drafts=(),
        allergies=(),
        conditions=conditions,
        labs=(),
        genotypes=(),
        unmapped=(),
    )
    assert reads == []
    assert [c.display for c in patient.conditions] == ["Heart failure"]
    assert [c.display for c in patient.conditions] == ["Heart failure"]
    assert patient.pregnant is None and patient.pregnant is None
    assert reads == ["conditions", "pregnant"]
