"""A card's words state the severity it carries: after the most-severe-source merge, a pharmacist rule
winning, a site override, or a high-criticality raise, the summary and detail never name another tier."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cds_api.cards import CardFactory, indicator_for
from ontology.curie import CodeSystemMap
from ontology.schema import GraphSchema
from ontology.vocab import Severity
from rules.engine import RulesEngine
from rules.findings import Finding
from rules.graph_knowledge import knowledge_from_store
from rules.knowledge import EngineKnowledge
from rules.patient import PatientContext
from rules.ruleset import RuleSet
from tests import rules_fixture_graph as g
from tests.rules_patients import NOW, allergy, med, patient

TIER_WORDS = re.compile(r"\b(contraindicated|major|moderate|minor) interaction\b")
"""A tier as the builtin texts word it ("major" alone can be clinical: "major GI bleeding")."""
CARRIED = re.compile(r"severity (contraindicated|major|moderate|minor)\)$")


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory: pytest.TempPathFactory, schema: GraphSchema) -> EngineKnowledge:
    return knowledge_from_store(g.build_rules_store(Path(tmp_path_factory.mktemp("wording")), schema))


def engine_with(knowledge: EngineKnowledge, tmp_path: Path, overrides: str | None = None) -> RulesEngine:
    path = None
    if overrides is not None:
        path = tmp_path / "overrides.yaml"
        path.write_text(overrides, encoding="utf-8")
    return RulesEngine(knowledge, RuleSet.load(overrides_path=path))


def scenarios() -> list[PatientContext]:
    warfarin = med(g.WARFARIN, "warfarin 5 mg")
    return [
        # ONC major + ANSM moderate + pharmacist rule: merged into one card
        patient(active=(warfarin,), drafts=(med(g.FLUCONAZOLE, "fluconazole 150 mg", draft=True),)),
        # ONC non-interruptive only: kept at the info tier
        patient(active=(med(g.LISINOPRIL, "lisinopril"),), drafts=(med(g.IBUPROFEN, "ibuprofen", draft=True),)),
        # class-level ANSM statement plus a pharmacist rule
        patient(active=(warfarin,), drafts=(med(g.NAPROXEN, "naproxen", draft=True),)),
        patient(drafts=(med(g.CLARITHROMYCIN, "clarithromycin", draft=True), med(g.SIMVASTATIN, "simva", draft=True))),
    ]


def assert_states_its_severity(finding: Finding) -> None:
    said = set(TIER_WORDS.findall(finding.summary))
    assert said <= {finding.severity.value}, (finding.summary, finding.severity)
    first_line = finding.detail_markdown.splitlines()[0]
    assert f"**{finding.severity.value}**" in first_line, (first_line, finding.severity)


def override(*entries: str) -> str:
    return "overrides:\n" + "".join(f"  - rule_id: {e}\n    reason: site policy\n" for e in entries)


OVERRIDES = {
    "none": None,
    "builtin raised": override("kgcds.drug-drug\n    severity: major\n    interruptive: true"),
    "builtin interruptive": override("kgcds.drug-drug\n    interruptive: true"),
    "pharmacist rules lowered": override(
        "ddi-warfarin-azole-antifungals\n    severity: minor", "stopp-c10-nsaid-anticoagulant\n    severity: moderate"
    ),
}


@pytest.mark.parametrize("name", list(OVERRIDES))
def test_drug_drug_summary_and_detail_name_the_final_tier(
    name: str, knowledge: EngineKnowledge, tmp_path: Path
) -> None:
    engine = engine_with(knowledge, tmp_path, OVERRIDES[name])
    findings = [f for p in scenarios() for f in engine.evaluate(p, NOW) if f.kind == "drug-drug"]
    assert len(findings) == 4
    for finding in findings:
        assert_states_its_severity(finding)


def test_site_override_changes_the_words_with_the_tier(knowledge: EngineKnowledge, tmp_path: Path) -> None:
    p = scenarios()[1]
    (passive,) = engine_with(knowledge, tmp_path).evaluate(p, NOW)
    assert passive.severity is Severity.MINOR and passive.summary.endswith("minor interaction")
    (raised,) = engine_with(knowledge, tmp_path, OVERRIDES["builtin raised"]).evaluate(p, NOW)
    assert raised.severity is Severity.MAJOR and raised.summary.endswith("major interaction")
    assert indicator_for(raised) == "critical"
    assert "moderate" not in raised.summary


def test_high_criticality_allergy_states_the_raised_tier(knowledge: EngineKnowledge, tmp_path: Path) -> None:
    engine = engine_with(knowledge, tmp_path)
    draft = med(g.CEPHALEXIN, "cephalexin 500 mg", draft=True)
    low = allergy("penicillin", groups=("ALLERGYGROUP:penicillin",), criticality="low")
    high = allergy("penicillin", groups=("ALLERGYGROUP:penicillin",), criticality="high")
    (plain,) = engine.evaluate(patient(drafts=(draft,), allergies=(low,)), NOW)
    (raised,) = engine.evaluate(patient(drafts=(draft,), allergies=(high,)), NOW)
    assert raised.severity.rank < plain.severity.rank
    assert_states_its_severity(plain)
    assert_states_its_severity(raised)
    assert f"raised from {plain.severity.value}" in raised.detail_markdown


def test_cards_say_the_tier_their_indicator_comes_from(
    knowledge: EngineKnowledge, tmp_path: Path, schema: GraphSchema
) -> None:
    factory = CardFactory(CodeSystemMap.from_schema(schema))
    seen: set[str] = set()
    for overrides in OVERRIDES.values():
        engine = engine_with(knowledge, tmp_path, overrides)
        for p in scenarios():
            cards, _ = factory.cards(engine.evaluate(p, NOW), {d.ref: d for d in p.drafts}, "p1")
            for card in cards:
                found = CARRIED.search(card.detail or "")
                assert found is not None, card.detail
                carried = found.group(1)
                assert set(TIER_WORDS.findall(card.summary)) <= {carried}, (card.summary, carried)
                if card.indicator == "critical":
                    assert carried in ("contraindicated", "major")
                seen.add(card.indicator)
    assert {"critical", "warning", "info"} <= seen
