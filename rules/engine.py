"""The engine contract the API codes against, and the concrete rules engine."""

from __future__ import annotations

from collections.abc import Hashable
from datetime import datetime
from operator import itemgetter
from typing import Protocol

from rules.alternatives import ranked_candidates
from rules.checks import allergy, conditional, drug_drug, duplicate, pgx
from rules.context import EvalContext
from rules.findings import SEVERITY_RANK, Finding
from rules.knowledge import DrugInteractions, EngineKnowledge
from rules.patient import PatientContext
from rules.ruleset import RuleSet


class Engine(Protocol):
    def evaluate(self, patient: PatientContext, now: datetime) -> list[Finding]: ...


_CHECKS = (drug_drug.check, allergy.check, conditional.check, duplicate.check, pgx.check)


class RulesEngine:
    """Pure evaluation over compiled knowledge and a validated rule set (no store, no I/O)."""

    def __init__(self, knowledge: EngineKnowledge, ruleset: RuleSet) -> None:
        self._knowledge = knowledge
        self._ruleset = ruleset
        # Patient-independent, so safe to keep across evaluations; bounded by the number of drugs.
        self._candidates: dict[tuple[str, str], tuple[str, ...]] = {}
        self._partners: dict[str, DrugInteractions] = {}
        self._memo: dict[Hashable, object] = {}

    @property
    def ruleset(self) -> RuleSet:
        return self._ruleset

    def evaluate(self, patient: PatientContext, now: datetime) -> list[Finding]:
        ctx = EvalContext(
            patient,
            now,
            self._knowledge,
            self._ruleset,
            self._alternative_candidates,
            self._interactions_of,
            self._memo,
        )
        findings: list[Finding] = []
        for run in _CHECKS:
            findings.extend(run(ctx))
        return dedupe(findings)

    def _interactions_of(self, drug_id: str) -> DrugInteractions:
        found = self._partners.get(drug_id)
        if found is None:
            found = self._knowledge.interactions.for_drug(drug_id)
            self._partners[drug_id] = found
        return found

    def _alternative_candidates(self, drug_id: str, route: str) -> tuple[str, ...]:
        found = self._candidates.get((drug_id, route))
        if found is None:
            found = ranked_candidates(self._knowledge, drug_id, route)
            self._candidates[(drug_id, route)] = found
        return found


def dedupe(findings: list[Finding]) -> list[Finding]:
    """One finding per problem: the most severe wins, interruptive before passive, first found on a tie.

    Then most severe first, interruptive before passive, and by draft, kind and other order (stable)."""
    best: dict[tuple[str, ...], tuple[tuple[int, bool, str, str, str], Finding]] = {}
    for item in findings:
        rank = (SEVERITY_RANK[item.severity], not item.interruptive, item.draft_ref, item.kind, item.other_ref or "")
        current = best.get(item.dedupe_key)
        if current is None or rank[:2] < current[0][:2]:
            best[item.dedupe_key] = (rank, item)
    return [item for _, item in sorted(best.values(), key=_RANK)]


_RANK = itemgetter(0)
