"""Run every rule's own cases (``kgcds rules test``): patient + order -> expected findings.

Cases run without site overrides (they test the rule as written) and with the evaluation
time passed in, so a case gives the same answer on any day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from rules.engine import RulesEngine
from rules.findings import Finding
from rules.knowledge import EngineKnowledge
from rules.patient import ConditionEntry, GenotypeResult, LabResult, MedicationEntry, PatientContext
from rules.ruleset import RuleSet
from rules.schema import CasePatient, Rule, RuleCase


@dataclass(frozen=True, slots=True)
class CaseResult:
    rule_id: str
    case_name: str
    passed: bool
    message: str


def _medication(kind: str, index: int, ingredient: str, knowledge: EngineKnowledge, draft: bool) -> MedicationEntry:
    return MedicationEntry(
        ref=f"MedicationRequest/{kind}-{index}",
        display=knowledge.drug_name(ingredient),
        codes=(ingredient,),
        ingredient_ids=(ingredient,),
        is_draft=draft,
        match_note=None,
    )


def case_patient(case: RuleCase, knowledge: EngineKnowledge, now: datetime) -> PatientContext:
    p: CasePatient = case.patient
    return PatientContext(
        age_years=p.age_years,
        sex=p.sex,
        pregnant=p.pregnant,
        active_medications=tuple(_medication("active", i, d, knowledge, False) for i, d in enumerate(p.active)),
        drafts=tuple(_medication("draft", i, d, knowledge, True) for i, d in enumerate(case.draft)),
        allergies=(),
        conditions=tuple(
            ConditionEntry(ref=f"Condition/{i}", display=code, codes=(code,), clinical_status="active")
            for i, code in enumerate(p.conditions)
        ),
        labs=tuple(
            LabResult(loinc=lab.test, value=lab.value, unit=lab.unit, effective=now - timedelta(days=lab.days_ago))
            for lab in p.labs
        ),
        genotypes=tuple(
            GenotypeResult(
                gene=g.gene,
                phenotype=g.phenotype,
                allele=g.allele,
                display=" ".join(x for x in (g.gene, g.allele, g.phenotype) if x),
            )
            for g in p.genotypes
        ),
        unmapped=(),
    )


def run_case(rule: Rule, case: RuleCase, engine: RulesEngine, knowledge: EngineKnowledge, now: datetime) -> CaseResult:
    findings = engine.evaluate(case_patient(case, knowledge, now), now)
    problems: list[str] = []
    for expectation in case.expect:
        wanted = expectation.rule_id or rule.id
        hits = [f for f in findings if f.rule_id == wanted]
        if not hits:
            problems.append(f"expected a finding from {wanted}, got {_describe(findings)}")
        elif expectation.severity is not None and all(f.severity != expectation.severity for f in hits):
            problems.append(f"expected {wanted} at {expectation.severity.value}, got {_describe(hits)}")
    if not case.expect:
        unwanted = [f for f in findings if f.rule_id == rule.id]
        if unwanted:
            problems.append(f"expected {rule.id} to stay silent, got {_describe(unwanted)}")
    return CaseResult(rule.id, case.name, not problems, "; ".join(problems))


def _describe(findings: list[Finding]) -> str:
    if not findings:
        return "no findings"
    return ", ".join(f"{f.rule_id}({f.severity.value})" for f in findings)


def run_all(rules: list[Rule], knowledge: EngineKnowledge, now: datetime) -> list[CaseResult]:
    engine = RulesEngine(knowledge, RuleSet.build(rules))
    return [run_case(rule, case, engine, knowledge, now) for rule in rules for case in rule.cases]
