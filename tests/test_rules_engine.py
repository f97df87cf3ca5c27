"""The engine's seven checks on the hand-made graph of ``rules_fixture_graph``: each fires for the
clinical case it exists for and stays silent for its look-alike."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ontology.schema import GraphSchema
from ontology.vocab import Severity
from rules.engine import RulesEngine
from rules.findings import SUMMARY_MAX, Finding
from rules.graph_knowledge import knowledge_from_store
from rules.knowledge import EngineKnowledge
from rules.patient import LabResult, MedicationEntry
from rules.ruleset import RuleSet
from tests import rules_fixture_graph as g
from tests.rules_patients import NOW, allergy, condition, genotype, lab, med, patient


@pytest.fixture(scope="module")
def knowledge(tmp_path_factory: pytest.TempPathFactory, schema: GraphSchema) -> EngineKnowledge:
    store = g.build_rules_store(Path(tmp_path_factory.mktemp("rules_graph")), schema)
    return knowledge_from_store(store)


@pytest.fixture(scope="module")
def engine(knowledge: EngineKnowledge) -> RulesEngine:
    return RulesEngine(knowledge, RuleSet.load())


def kinds(findings: list[Finding], kind: str) -> list[Finding]:
    return [f for f in findings if f.kind == kind]


# ---- 1. drug-drug -----------------------------------------------------------------------------------


def test_warfarin_fluconazole_one_finding_citing_both_sources(engine: RulesEngine) -> None:
    p = patient(
        active=(med(g.WARFARIN, "warfarin 5 mg"),), drafts=(med(g.FLUCONAZOLE, "fluconazole 150 mg", draft=True),)
    )
    ddi = kinds(engine.evaluate(p, NOW), "drug-drug")
    assert len(ddi) == 1
    f = ddi[0]
    assert f.severity is Severity.MAJOR and f.interruptive
    assert f.draft_ref == "MedicationRequest/draft-fluconazole-150-mg"
    assert f.other_ref == "MedicationRequest/active-warfarin-5-mg"
    assert g.ONC in f.source_dataset and g.ANSM in f.source_dataset
    assert "warfarin" in f.detail_markdown and "CYP2C9" in f.detail_markdown
    assert len(f.summary) <= SUMMARY_MAX


def test_class_level_interaction_reaches_a_member(engine: RulesEngine) -> None:
    # itraconazole has no ingredient-level entry with warfarin: only ANSM's azoles x vitamin K antagonists
    p = patient(active=(med(g.WARFARIN, "warfarin"),), drafts=(med(g.ITRACONAZOLE, "itraconazole", draft=True),))
    (f,) = kinds(engine.evaluate(p, NOW), "drug-drug")
    assert f.severity is Severity.MAJOR
    assert "antifongiques azolés" in f.detail_markdown


def test_replacement_suggestion_has_same_indication_and_no_interaction(engine: RulesEngine) -> None:
    p = patient(active=(med(g.WARFARIN, "warfarin"),), drafts=(med(g.FLUCONAZOLE, "fluconazole", draft=True),))
    (f,) = kinds(engine.evaluate(p, NOW), "drug-drug")
    actions = {(s.action, s.replacement_ingredient_id) for s in f.suggestions}
    assert ("remove-draft", None) in actions
    assert ("replace-draft", g.TERBINAFINE) in actions
    assert ("replace-draft", g.ITRACONAZOLE) not in actions  # interacts with warfarin through its class


def test_two_drafts_screened_against_each_other_once(engine: RulesEngine) -> None:
    p = patient(
        drafts=(med(g.SIMVASTATIN, "simvastatin", draft=True), med(g.CLARITHROMYCIN, "clarithromycin", draft=True))
    )
    ddi = kinds(engine.evaluate(p, NOW), "drug-drug")
    assert [(f.severity, f.draft_ref, f.other_ref) for f in ddi] == [
        (Severity.CONTRAINDICATED, "MedicationRequest/draft-simvastatin", "MedicationRequest/draft-clarithromycin")
    ]


def test_onc_non_interruptive_pair_is_passive(engine: RulesEngine) -> None:
    p = patient(active=(med(g.LISINOPRIL, "lisinopril"),), drafts=(med(g.IBUPROFEN, "ibuprofen", draft=True),))
    (f,) = kinds(engine.evaluate(p, NOW), "drug-drug")
    assert f.interruptive is False and f.severity is Severity.MINOR  # shown at the info tier only


def test_pharmacist_rule_adds_to_index_and_wins_when_more_severe(engine: RulesEngine) -> None:
    # ANSM says NSAID x vitamin K antagonist is moderate; STOPP C10 (YAML) says major: one finding, major, both cited
    p = patient(active=(med(g.WARFARIN, "warfarin"),), drafts=(med(g.NAPROXEN, "naproxen", draft=True),))
    (f,) = kinds(engine.evaluate(p, NOW), "drug-drug")
    assert f.rule_id == "stopp-c10-nsaid-anticoagulant" and f.severity is Severity.MAJOR
    assert g.ANSM in f.source_dataset and "stoppstart_v2@huibers2018" in f.source_dataset


def test_unrelated_drugs_do_not_interact(engine: RulesEngine) -> None:
    p = patient(active=(med(g.METFORMIN, "metformin"),), drafts=(med(g.FLUCONAZOLE, "fluconazole", draft=True),))
    assert engine.evaluate(p, NOW) == []


# ---- 2. allergy -------------------------------------------------------------------------------------


def test_amoxicillin_with_penicillin_allergy(engine: RulesEngine) -> None:
    p = patient(
        allergies=(allergy("Allergy to penicillin", groups=("ALLERGYGROUP:penicillin",)),),
        drafts=(med(g.AMOXICILLIN, "amoxicillin 500 mg", draft=True),),
    )
    (f,) = kinds(engine.evaluate(p, NOW), "allergy")
    assert f.rule_id == "kgcds.allergy.group" and f.severity is Severity.MAJOR
    assert f.other_ref == "AllergyIntolerance/Allergy-to-penicillin"
    assert "penicillins" in f.detail_markdown


def test_refuted_or_entered_in_error_allergy_is_silent(engine: RulesEngine) -> None:
    for status in ("refuted", "entered-in-error"):
        p = patient(
            allergies=(allergy("Allergy to penicillin", groups=("ALLERGYGROUP:penicillin",), verification=status),),
            drafts=(med(g.AMOXICILLIN, "amoxicillin", draft=True),),
        )
        assert kinds(engine.evaluate(p, NOW), "allergy") == []


def test_same_ingredient_is_contraindicated(engine: RulesEngine) -> None:
    p = patient(
        allergies=(allergy("amoxicillin", ingredients=(g.AMOXICILLIN,)),),
        drafts=(med(g.AMOXICILLIN, "amoxicillin", draft=True),),
    )
    (f,) = kinds(engine.evaluate(p, NOW), "allergy")
    assert f.rule_id == "kgcds.allergy.ingredient" and f.severity is Severity.CONTRAINDICATED


def test_high_criticality_raises_severity_one_tier(engine: RulesEngine) -> None:
    severities = {}
    for criticality in ("low", "high"):
        p = patient(
            allergies=(allergy("penicillin", groups=("ALLERGYGROUP:penicillin",), criticality=criticality),),
            drafts=(med(g.AMOXICILLIN, "amoxicillin", draft=True),),
        )
        (f,) = kinds(engine.evaluate(p, NOW), "allergy")
        severities[criticality] = f.severity
    assert severities == {"low": Severity.MAJOR, "high": Severity.CONTRAINDICATED}


def test_allergy_to_one_penicillin_covers_another(engine: RulesEngine) -> None:
    p = patient(
        allergies=(allergy("penicillin V", ingredients=(g.PENICILLIN_V,)),),
        drafts=(med(g.AMOXICILLIN, "amoxicillin", draft=True),),
    )
    (f,) = kinds(engine.evaluate(p, NOW), "allergy")
    assert f.rule_id == "kgcds.allergy.group"


def test_cephalosporin_in_penicillin_allergy_is_lower_severity(engine: RulesEngine) -> None:
    p = patient(
        allergies=(allergy("Allergy to penicillin", groups=("ALLERGYGROUP:penicillin",)),),
        drafts=(med(g.CEPHALEXIN, "cephalexin", draft=True),),
    )
    (f,) = kinds(engine.evaluate(p, NOW), "allergy")
    assert f.rule_id == "kgcds.allergy.cross-sensitivity"
    assert f.severity.rank > Severity.MAJOR.rank


def test_unrelated_allergy_is_silent(engine: RulesEngine) -> None:
    p = patient(
        allergies=(allergy("Allergy to peanuts"),),
        drafts=(med(g.AMOXICILLIN, "amoxicillin", draft=True),),
    )
    assert kinds(engine.evaluate(p, NOW), "allergy") == []


# ---- 3. drug-disease --------------------------------------------------------------------------------


def test_nsaid_in_heart_failure_for_older_patient(engine: RulesEngine) -> None:
    hf = condition("SNOMEDCT:88805009", "Chronic congestive heart failure")
    p = patient(age=78, conditions=(hf,), drafts=(med(g.IBUPROFEN, "ibuprofen", draft=True),))
    (f,) = kinds(engine.evaluate(p, NOW), "drug-disease")
    assert f.rule_id == "stopp-h2-nsaid-heart-failure" and f.other_ref == "Condition/SNOMEDCT:88805009"
    assert "Chronic congestive heart failure" in f.summary


def test_icd10_prefix_and_resolved_condition(engine: RulesEngine) -> None:
    drafts = (med(g.IBUPROFEN, "ibuprofen", draft=True),)
    active = patient(age=78, conditions=(condition("ICD10CM:I50.22", "Chronic systolic HF"),), drafts=drafts)
    resolved = patient(age=78, conditions=(condition("ICD10CM:I50.22", "HF", status="resolved"),), drafts=drafts)
    assert kinds(engine.evaluate(active, NOW), "drug-disease")
    assert kinds(engine.evaluate(resolved, NOW), "drug-disease") == []


# ---- 4. renal ---------------------------------------------------------------------------------------


def test_metformin_at_egfr_25_alerts_with_value_threshold_and_date(engine: RulesEngine) -> None:
    p = patient(labs=(lab("33914-3", 25, days_ago=3),), drafts=(med(g.METFORMIN, "metformin 500 mg", draft=True),))
    (f,) = kinds(engine.evaluate(p, NOW), "renal")
    assert f.rule_id == "stopp-e6-metformin-egfr30"
    assert "25" in f.summary and "30" in f.summary and "2026-11-19" in f.summary
    assert "25" in f.detail_markdown and "< 30" in f.detail_markdown


def test_metformin_at_egfr_90_is_silent(engine: RulesEngine) -> None:
    p = patient(labs=(lab("33914-3", 90),), drafts=(med(g.METFORMIN, "metformin", draft=True),))
    assert kinds(engine.evaluate(p, NOW), "renal") == []


def test_latest_egfr_wins(engine: RulesEngine) -> None:
    labs = (lab("33914-3", 25, days_ago=60), lab("33914-3", 70, days_ago=5))
    p = patient(labs=labs, drafts=(med(g.METFORMIN, "metformin", draft=True),))
    assert kinds(engine.evaluate(p, NOW), "renal") == []


def test_egfr_estimated_from_creatinine(engine: RulesEngine) -> None:
    # creatinine 3.0 mg/dL, 80-year-old woman: CKD-EPI 2021 gives about 15 -> below 30
    p = patient(
        age=80,
        sex="female",
        labs=(lab("2160-0", 3.0, unit="mg/dL"),),
        drafts=(med(g.METFORMIN, "metformin", draft=True),),
    )
    (f,) = kinds(engine.evaluate(p, NOW), "renal")
    assert "CKD-EPI 2021" in f.detail_markdown


def test_nsaid_class_rule_at_egfr_45(engine: RulesEngine) -> None:
    p = patient(labs=(lab("62238-1", 45),), drafts=(med(g.NAPROXEN, "naproxen", draft=True),))
    (f,) = kinds(engine.evaluate(p, NOW), "renal")
    assert f.rule_id == "stopp-e4-nsaid-egfr50"


# ---- 5. duplicate therapy ---------------------------------------------------------------------------


def test_two_ace_inhibitors_are_duplicate_therapy(engine: RulesEngine) -> None:
    p = patient(active=(med(g.LISINOPRIL, "lisinopril"),), drafts=(med(g.ENALAPRIL, "enalapril", draft=True),))
    (f,) = kinds(engine.evaluate(p, NOW), "duplicate-therapy")
    assert f.rule_id == "kgcds.duplicate.class" and "Angiotensin Converting Enzyme Inhibitor" in f.summary


def test_same_ingredient_twice(engine: RulesEngine) -> None:
    p = patient(active=(med(g.METFORMIN, "metformin 500"),), drafts=(med(g.METFORMIN, "metformin 1000", draft=True),))
    (f,) = kinds(engine.evaluate(p, NOW), "duplicate-therapy")
    assert f.rule_id == "kgcds.duplicate.ingredient"


def test_a_cream_and_a_tablet_of_one_class_are_shown_not_alerted(engine: RulesEngine) -> None:
    tablet = med(g.NAPROXEN, "naproxen 500 MG Oral Tablet")
    gel = med(g.IBUPROFEN, "ibuprofen 50 MG/G Topical Gel", draft=True)
    (f,) = kinds(engine.evaluate(patient(active=(tablet,), drafts=(gel,)), NOW), "duplicate-therapy")
    assert f.severity is Severity.MINOR and not f.interruptive and f.summary.endswith("(skin and systemic)")
    assert "is applied to the skin and the other is not" in f.detail_markdown
    # Two systemic forms are a duplicate to act on; so are two creams of one drug, on the same skin.
    oral = med(g.IBUPROFEN, "ibuprofen 400 MG Oral Tablet", draft=True)
    (f,) = kinds(engine.evaluate(patient(active=(tablet,), drafts=(oral,)), NOW), "duplicate-therapy")
    assert f.severity is Severity.MODERATE and f.interruptive
    cream = med(g.IBUPROFEN, "ibuprofen 50 MG/G Topical Cream", ref="MedicationRequest/cream")
    (f,) = kinds(engine.evaluate(patient(active=(cream,), drafts=(gel,)), NOW), "duplicate-therapy")
    assert f.severity is Severity.MODERATE and f.interruptive


def test_atc_level_3_and_allergy_groups_are_not_therapeutic_duplicates(engine: RulesEngine) -> None:
    # clopidogrel and prasugrel share ATC B01AC (level 4) -> duplicate; the fixture's ATC B01A (level 3) alone would not
    p = patient(active=(med(g.CLOPIDOGREL, "clopidogrel"),), drafts=(med(g.PRASUGREL, "prasugrel", draft=True),))
    (f,) = kinds(engine.evaluate(p, NOW), "duplicate-therapy")
    assert "ATC:B01AC" in f.detail_markdown
    # amoxicillin and penicillin V share only an allergy group: not a therapeutic duplicate
    p2 = patient(active=(med(g.PENICILLIN_V, "penicillin V"),), drafts=(med(g.AMOXICILLIN, "amoxicillin", draft=True),))
    assert kinds(engine.evaluate(p2, NOW), "duplicate-therapy") == []


def test_interacting_duplicate_pair_gives_one_card(engine: RulesEngine) -> None:
    # ibuprofen + naproxen: duplicate NSAIDs; one card for the pair
    p = patient(active=(med(g.IBUPROFEN, "ibuprofen"),), drafts=(med(g.NAPROXEN, "naproxen", draft=True),))
    found = engine.evaluate(p, NOW)
    assert len([f for f in found if f.other_ref == "MedicationRequest/active-ibuprofen"]) == 1


# ---- 6. pharmacogenomics ----------------------------------------------------------------------------


def test_clopidogrel_with_cyp2c19_poor_metabolizer(engine: RulesEngine) -> None:
    p = patient(
        genotypes=(genotype("CYP2C19", "Poor Metabolizer", "*2/*2"),),
        drafts=(med(g.CLOPIDOGREL, "clopidogrel", draft=True),),
    )
    (f,) = kinds(engine.evaluate(p, NOW), "pharmacogenomic")
    assert f.severity is Severity.MAJOR
    assert "prasugrel or ticagrelor" in (f.management or "")


def test_clopidogrel_with_normal_or_rapid_metabolizer_is_silent(engine: RulesEngine) -> None:
    for phenotype in ("Normal Metabolizer", "Rapid Metabolizer"):
        p = patient(
            genotypes=(genotype("CYP2C19", phenotype),), drafts=(med(g.CLOPIDOGREL, "clopidogrel", draft=True),)
        )
        assert kinds(engine.evaluate(p, NOW), "pharmacogenomic") == []


def test_cpic_index_check_alone_fires_for_poor_metabolizer(knowledge: EngineKnowledge) -> None:
    bare = RulesEngine(knowledge, RuleSet.empty())
    p = patient(
        genotypes=(genotype("CYP2C19", "Poor Metabolizer"),), drafts=(med(g.CLOPIDOGREL, "clopidogrel", draft=True),)
    )
    (f,) = bare.evaluate(p, NOW)
    assert f.rule_id == "kgcds.pgx.cpic" and f.source_dataset == g.CPIC
    assert f.source_url and "cpicpgx.org" in f.source_url


def test_abacavir_with_hla_b5701(engine: RulesEngine) -> None:
    positive = patient(
        genotypes=(genotype("HLA-B", "positive", "HLA-B*57:01"),), drafts=(med(g.ABACAVIR, "abacavir", draft=True),)
    )
    negative = patient(
        genotypes=(genotype("HLA-B", "negative", "HLA-B*57:01"),), drafts=(med(g.ABACAVIR, "abacavir", draft=True),)
    )
    (f,) = kinds(engine.evaluate(positive, NOW), "pharmacogenomic")
    assert f.severity is Severity.CONTRAINDICATED
    assert kinds(engine.evaluate(negative, NOW), "pharmacogenomic") == []


# ---- 7. pregnancy -----------------------------------------------------------------------------------


def test_isotretinoin_in_pregnancy(engine: RulesEngine) -> None:
    drafts = (med(g.ISOTRETINOIN, "isotretinoin", draft=True),)
    (f,) = kinds(engine.evaluate(patient(age=28, pregnant=True, drafts=drafts), NOW), "pregnancy")
    assert f.severity is Severity.CONTRAINDICATED
    assert kinds(engine.evaluate(patient(age=28, pregnant=False, drafts=drafts), NOW), "pregnancy") == []


# ---- whole patient ----------------------------------------------------------------------------------


def test_findings_are_sorted_most_severe_first_and_cite_sources(engine: RulesEngine) -> None:
    p = patient(
        active=(med(g.WARFARIN, "warfarin"), med(g.SIMVASTATIN, "simvastatin")),
        allergies=(allergy("Allergy to penicillin", groups=("ALLERGYGROUP:penicillin",)),),
        labs=(lab("33914-3", 25),),
        drafts=(
            med(g.CLARITHROMYCIN, "clarithromycin", draft=True),
            med(g.AMOXICILLIN, "amoxicillin", draft=True),
            med(g.METFORMIN, "metformin", draft=True),
        ),
    )
    found = engine.evaluate(p, NOW)
    ranks = [f.severity.rank for f in found]
    assert ranks == sorted(ranks)
    assert {f.kind for f in found} >= {"drug-drug", "allergy", "renal"}
    for f in found:
        assert f.source_dataset and f.rule_id and f.rule_version and len(f.summary) <= SUMMARY_MAX
        assert "Why for this patient" in f.detail_markdown


def test_pharmacist_rule_text_names_each_drug_in_its_role(engine: RulesEngine) -> None:
    # the rule's texts say "{other} inhibits CYP2C9": {other} must be the azole whichever drug is the draft
    for active, draft in ((g.WARFARIN, g.FLUCONAZOLE), (g.FLUCONAZOLE, g.WARFARIN)):
        p = patient(active=(med(active, "on list"),), drafts=(med(draft, "ordered", draft=True),))
        (f,) = kinds(engine.evaluate(p, NOW), "drug-drug")
        assert f.rule_id == "ddi-warfarin-azole-antifungals"
        assert f.summary.startswith("Warfarin with fluconazole")
        assert "fluconazole inhibits CYP2C9" in f.detail_markdown


def test_pharmacist_rule_can_supersede_the_sources(knowledge: EngineKnowledge, tmp_path: Path) -> None:
    # a site handles simvastatin + clarithromycin by its own protocol: its rule replaces ANSM's grading
    rule = {
        "id": "site-simvastatin-macrolide",
        "version": "1",
        "kind": "drug-drug",
        "title": "Simvastatin with clarithromycin (site protocol)",
        "match": {"ingredients": [g.SIMVASTATIN]},
        "conditions": {"with_drug": {"ingredients": [g.CLARITHROMYCIN]}},
        "severity": "moderate",
        "supersedes_index": True,
        "summary": "{drug} with {other}: hold the statin during the course",
        "detail": "Site protocol.",
        "source": {"label": "site rules", "dataset": "site_rules@1"},
        "cases": [
            {"name": "pair", "patient": {"active": [g.SIMVASTATIN]}, "draft": [g.CLARITHROMYCIN], "expect": [{}]}
        ],
    }
    (tmp_path / "site.yaml").write_text(yaml.safe_dump(rule))
    site = RulesEngine(knowledge, RuleSet.load(tmp_path))
    p = patient(
        active=(med(g.SIMVASTATIN, "simvastatin"),), drafts=(med(g.CLARITHROMYCIN, "clarithromycin", draft=True),)
    )
    (f,) = kinds(site.evaluate(p, NOW), "drug-drug")
    assert f.rule_id == "site-simvastatin-macrolide" and f.severity is Severity.MODERATE
    assert f.source_dataset == "site_rules@1"  # the superseded source is no longer what the card rests on


def test_dates_without_zone_and_odd_values_do_not_break_screening(engine: RulesEngine) -> None:
    from datetime import datetime

    naive = LabResult("33914-3", 25, None, datetime(2026, 11, 20))  # a FHIR date-only value
    nan = LabResult("33914-3", float("nan"), None, None)
    unresolved = MedicationEntry("MedicationRequest/x", "mystery", ("RXNORM:0",), (), True, "unresolved")
    p = patient(labs=(naive, nan), drafts=(med(g.METFORMIN, "metformin", draft=True), unresolved))
    (f,) = engine.evaluate(p, NOW.replace(tzinfo=None))
    assert f.rule_id == "stopp-e6-metformin-egfr30" and "2026-11-20" in f.summary


def test_phenotype_reported_with_its_gene_name_is_understood(knowledge: EngineKnowledge) -> None:
    bare = RulesEngine(knowledge, RuleSet.empty())
    p = patient(
        genotypes=(genotype("CYP2C19", "CYP2C19 Poor  Metabolizer"),),
        drafts=(med(g.CLOPIDOGREL, "clopidogrel", draft=True),),
    )
    (f,) = bare.evaluate(p, NOW)
    assert f.rule_id == "kgcds.pgx.cpic" and f.severity is Severity.MAJOR
