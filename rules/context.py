"""Per-evaluation state shared by the checks, and helpers that build findings."""

from __future__ import annotations

import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ontology.vocab import Severity
from rules.findings import SUMMARY_MAX, Finding, Suggestion
from rules.knowledge import DrugInteractions, EngineKnowledge
from rules.patient import MedicationEntry, PatientContext
from rules.ruleset import RuleSet

MAX_ALTERNATIVES = 2


@dataclass(slots=True)
class EvalContext:
    patient: PatientContext
    now: datetime
    knowledge: EngineKnowledge
    ruleset: RuleSet
    candidates: Callable[[str], tuple[str, ...]]
    """Same-indication candidates for a drug, best first (cached by the engine across evaluations)."""
    interactions_of: Callable[[str], DrugInteractions]
    """Everything a drug interacts with (patient-independent, cached by the engine)."""
    _classes: dict[str, frozenset[str]] = field(default_factory=dict)
    _alternatives: dict[str, tuple[Suggestion, ...]] = field(default_factory=dict)
    _all_ingredients: set[str] | None = None

    def classes_of(self, ingredient_id: str) -> frozenset[str]:
        found = self._classes.get(ingredient_id)
        if found is None:
            found = self.knowledge.classes.classes_of(ingredient_id)
            self._classes[ingredient_id] = found
        return found

    def others_for(self, index: int) -> list[tuple[MedicationEntry, str]]:
        """What draft ``index`` is screened against: active medications and the drafts after it.

        Later drafts only, so a pair of drafts is screened once.
        """
        out = [(m, "active medication") for m in self.patient.active_medications]
        out.extend((d, "another draft order") for d in self.patient.drafts[index + 1 :])
        return out

    def name(self, ingredient_id: str) -> str:
        return self.knowledge.drug_name(ingredient_id)

    def all_ingredients(self) -> set[str]:
        if self._all_ingredients is None:
            meds = (*self.patient.active_medications, *self.patient.drafts)
            self._all_ingredients = {i for m in meds for i in m.ingredient_ids}
        return self._all_ingredients

    def allergy_groups(self) -> set[str]:
        groups: set[str] = set()
        for allergy in self.patient.allergies:
            if allergy.verification_status in ("refuted", "entered-in-error"):
                continue
            groups.update(allergy.class_ids)
            for ingredient in allergy.ingredient_ids:
                groups.update(self.knowledge.allergy.groups_of(ingredient))
        return groups

    def alternatives(self, draft_ingredient: str) -> tuple[Suggestion, ...]:
        """Same-indication drugs that interact with nothing the patient takes and hit no allergy group."""
        cached = self._alternatives.get(draft_ingredient)
        if cached is not None:
            return cached
        taken = self.all_ingredients()
        allergic = self.allergy_groups()
        knowledge = self.knowledge
        keys = knowledge.interactions.interaction_keys(taken - {draft_ingredient})
        picks: list[str] = []
        for candidate in self.candidates(draft_ingredient):
            if candidate in taken or candidate not in knowledge.drug_names:
                continue
            if knowledge.allergy.groups_of(candidate) & allergic:
                continue
            if knowledge.interactions.interacts_with_keys(candidate, keys):
                continue
            picks.append(candidate)
            if len(picks) == MAX_ALTERNATIVES:
                break
        found = tuple(
            Suggestion(
                label=f"Replace with {self.name(p)} (same indication, no interaction found)",
                action="replace-draft",
                replacement_ingredient_id=p,
                replacement_name=self.name(p),
            )
            for p in picks
        )
        self._alternatives[draft_ingredient] = found
        return found


def remove_suggestion(draft: MedicationEntry) -> Suggestion:
    return Suggestion(
        label=f"Cancel the order for {draft.display}",
        action="remove-draft",
        replacement_ingredient_id=None,
        replacement_name=None,
    )


def fit_summary(text: str) -> str:
    text = " ".join(text.split())
    text = text[:1].upper() + text[1:]
    return text if len(text) <= SUMMARY_MAX else text[: SUMMARY_MAX - 1].rstrip() + "…"


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def fill(template: str | None, values: dict[str, Any]) -> str | None:
    if template is None:
        return None
    return string.Formatter().vformat(template, (), _Blank(values))


def severity_text(severity: Severity) -> str:
    return severity.value


def finding(
    *,
    rule_id: str,
    rule_version: str,
    kind: str,
    severity: Severity,
    interruptive: bool,
    draft: MedicationEntry,
    other_ref: str | None,
    summary: str,
    detail: str,
    management: str | None,
    source_label: str,
    source_url: str | None,
    source_dataset: str,
    source_version: str,
    references: tuple[str, ...],
    suggestions: tuple[Suggestion, ...],
    dedupe_key: tuple[str, ...],
) -> Finding:
    if draft.match_note:
        detail += f"\n\n_Note: {draft.display} was identified {draft.match_note}._"
    return Finding(
        rule_id=rule_id,
        rule_version=rule_version,
        kind=kind,
        severity=severity,
        interruptive=interruptive,
        draft_ref=draft.ref,
        other_ref=other_ref,
        summary=fit_summary(summary),
        detail_markdown=detail,
        management=management,
        source_label=source_label,
        source_url=source_url,
        source_dataset=source_dataset,
        source_version=source_version,
        references=references,
        suggestions=suggestions,
        dedupe_key=dedupe_key,
    )
