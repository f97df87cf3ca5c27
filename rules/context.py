"""Per-evaluation state shared by the checks, and helpers that build findings."""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ontology.vocab import Severity
from rules.alternatives import class_effect_classes
from rules.findings import SUMMARY_MAX, Finding, Suggestion
from rules.knowledge import DrugInteractions, EngineKnowledge
from rules.patient import MedicationEntry, PatientContext
from rules.ruleset import RuleSet

MAX_ALTERNATIVES = 2
MEMO_LIMIT = 200_000
_PAIR_ENTRIES = "pair results held"
"""Memo key: how many results the per-draft pair memos hold together."""


@dataclass(slots=True)
class EvalContext:
    patient: PatientContext
    now: datetime
    knowledge: EngineKnowledge
    ruleset: RuleSet
    candidates: Callable[[str, str], tuple[str, ...]]
    """Same-indication candidates for a drug orderable by a route, best first (cached by the engine)."""
    interactions_of: Callable[[str], DrugInteractions]
    """Everything a drug interacts with (patient-independent, cached by the engine)."""
    memo: dict[Hashable, object] = field(default_factory=dict)
    """Patient-independent results kept by the engine across evaluations (its index and rules never change)."""
    _classes: dict[str, frozenset[str]] = field(default_factory=dict)
    _alternatives: dict[tuple[str, str], tuple[Suggestion, ...]] = field(default_factory=dict)
    _removals: dict[str, tuple[Suggestion, ...]] = field(default_factory=dict)
    _suggestions: dict[tuple[str, str], tuple[Suggestion, ...]] = field(default_factory=dict)
    _all_ingredients: set[str] | None = None
    _others: dict[int, list[tuple[MedicationEntry, str]]] = field(default_factory=dict)
    _allergic: set[str] | None = None
    _sites: dict[str, str | None] = field(default_factory=dict)
    _active: tuple[frozenset[str], frozenset[str]] | None = None
    """The active medications' ingredients and their interaction keys (see ``_keys_taken_besides``)."""

    def remember(self, key: Hashable, value: object) -> None:
        # Bounded: keys are pairs of ingredient sets, so a long-running server could meet many.
        if len(self.memo) >= MEMO_LIMIT:
            self.memo.clear()
        self.memo[key] = value

    def pair_memo(self, check: str, draft_ids: tuple[str, ...]) -> dict[tuple[str, ...], object]:
        """The remembered results of ``check`` for a draft's ingredients, by the other order's ingredients.

        One memo entry per draft, so each other order costs a single lookup by its own ingredient ids.
        """
        key = (check, draft_ids)
        found = self.memo.get(key)
        if not isinstance(found, dict):
            found = {}
            self.remember(key, found)
        return found

    def remember_pair(self, pairs: dict[tuple[str, ...], object], other_ids: tuple[str, ...], value: object) -> None:
        # The per-draft memos count against the engine's one bound: past it, everything is forgotten at once.
        held = self.memo.get(_PAIR_ENTRIES, 0)
        if not isinstance(held, int) or held >= MEMO_LIMIT:
            self.memo.clear()
            held = 0
        self.memo[_PAIR_ENTRIES] = held + 1
        pairs[other_ids] = value

    def classes_of(self, ingredient_id: str) -> frozenset[str]:
        found = self._classes.get(ingredient_id)
        if found is None:
            found = self.knowledge.classes.classes_of(ingredient_id)
            self._classes[ingredient_id] = found
        return found

    def others_for(self, index: int) -> list[tuple[MedicationEntry, str]]:
        """What draft ``index`` is screened against: active medications and the drafts after it.

        Later drafts only, so a pair of drafts is screened once. Built once per evaluation (several checks ask).
        """
        out = self._others.get(index)
        if out is None:
            out = [(m, "active medication") for m in self.patient.active_medications]
            out.extend((d, "another draft order") for d in self.patient.drafts[index + 1 :])
            self._others[index] = out
        return out

    def local_site(self, med: MedicationEntry) -> str | None:
        """Where the order is applied when little of it reaches the blood (skin, ear); None when systemic."""
        if med.ref not in self._sites:
            self._sites[med.ref] = self.knowledge.indications.order_site(med.codes, med.display, med.ingredient_ids)
        return self._sites[med.ref]

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

    def alternatives(self, draft_ingredient: str, draft: MedicationEntry) -> tuple[Suggestion, ...]:
        """Drugs the draft could be replaced by, best first; empty when none is clinically sensible.

        A replacement shares an indication with the draft, can be ordered alone by the draft's route,
        interacts with nothing else the patient takes and touches no allergy (same group or a group
        that cross-reacts with one). An order whose route cannot be told gets no replacement.
        """
        route = self.knowledge.indications.order_route(draft.codes, draft.display, draft_ingredient)
        if route is None:
            return ()
        cached = self._alternatives.get((draft_ingredient, route))
        if cached is not None:
            return cached
        taken = self.all_ingredients()
        allergic = self.allergic_groups()
        knowledge = self.knowledge
        keys = self._keys_taken_besides(draft_ingredient)
        # Cheapest and likeliest refusals first: most candidates interact with something the patient takes,
        # and then the class effects need not be worked out at all.
        shared_effect: frozenset[str] | None = None
        picks: list[str] = []
        for candidate in self.candidates(draft_ingredient, route):
            if candidate in taken or candidate not in knowledge.drug_names:
                continue
            if knowledge.interactions.interacts_with_keys(candidate, keys):
                continue
            if shared_effect is None:
                shared_effect = self._class_effects(draft_ingredient, keys)
            if shared_effect and not shared_effect.isdisjoint(knowledge.therapeutic_classes.get(candidate, ())):
                continue
            if allergic and self._touches_allergy(candidate, allergic):
                continue
            if self._rule_interacts(candidate, taken, draft_ingredient):
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
        self._alternatives[(draft_ingredient, route)] = found
        return found

    def _keys_taken_besides(self, draft_ingredient: str) -> tuple[frozenset[str], ...]:
        """The interaction keys of everything the patient takes or is ordered but ``draft_ingredient``, as
        one or two sets.

        The active medications' keys are united once per evaluation; each draft then adds only the other
        drafts', as a second set (one union of twenty drugs' keys instead of one per draft, and no copy of
        it per draft)."""
        if self._active is None:
            ingredients = frozenset(i for m in self.patient.active_medications for i in m.ingredient_ids)
            self._active = ingredients, self._interaction_keys(ingredients)
        active, active_keys = self._active
        if draft_ingredient in active:  # also on the active list: it must be left out of that union too
            return (self._interaction_keys(frozenset(self.all_ingredients() - {draft_ingredient})),)
        drafted = {i for d in self.patient.drafts for i in d.ingredient_ids} - active - {draft_ingredient}
        return (active_keys, self._interaction_keys(frozenset(drafted))) if drafted else (active_keys,)

    def _interaction_keys(self, ingredients: frozenset[str]) -> frozenset[str]:
        """:meth:`~rules.knowledge.InteractionLookup.interaction_keys`, remembered by the set of ingredients:
        the same medication lists come back (every order-select call while one patient's orders are picked)."""
        key = ("interaction keys", ingredients)
        found = self.memo.get(key)
        if not isinstance(found, frozenset):
            found = self.knowledge.interactions.interaction_keys(ingredients)
            self.remember(key, found)
        return found

    def suggestions(self, draft: MedicationEntry, draft_ingredient: str) -> tuple[Suggestion, ...]:
        """Cancel the draft, then its alternatives: the same for every card about this draft and ingredient."""
        key = (draft.ref, draft_ingredient)
        found = self._suggestions.get(key)
        if found is None:
            cancel, alternatives = self.cancel_only(draft), self.alternatives(draft_ingredient, draft)
            found = self._suggestions[key] = (*cancel, *alternatives) if alternatives else cancel
        return found

    def _class_effects(self, draft_ingredient: str, keys: tuple[frozenset[str], ...]) -> frozenset[str]:
        """The draft's therapeutic classes presumed to share an interaction it has with the patient's drugs
        (see :mod:`rules.alternatives`): a replacement from one of them would likely interact too."""
        found: frozenset[str] = frozenset()
        for class_id in self.knowledge.interactions.classes_interacting(draft_ingredient, keys):
            key = ("class effect of", draft_ingredient, class_id)
            classes = self.memo.get(key)
            if not isinstance(classes, frozenset):
                classes = class_effect_classes(self.knowledge, draft_ingredient, class_id)
                self.remember(key, classes)
            found |= classes
        return found

    def allergic_groups(self) -> set[str]:
        """The patient's alerting allergy groups plus the ingredients the allergies name."""
        if self._allergic is None:
            self._allergic = self.allergy_groups()
            for allergy in self.patient.allergies:
                if allergy.verification_status not in ("refuted", "entered-in-error"):
                    self._allergic.update(allergy.ingredient_ids)
        return self._allergic

    def _rule_interacts(self, candidate: str, taken: set[str], draft_ingredient: str) -> bool:
        """Whether a pharmacist drug-drug rule would fire between ``candidate`` and a drug the patient takes."""
        classes_c = self.classes_of(candidate)
        key = ("drug-drug rules of", candidate)
        rules = self.memo.get(key)
        if not isinstance(rules, tuple):
            rules = tuple(self.ruleset.drug_drug_candidates(candidate, classes_c))
            self.remember(key, rules)
        for b in taken if rules else ():
            if b == draft_ingredient:
                continue
            classes_b = self.classes_of(b)
            for rule in rules:
                assert rule.with_drug is not None  # drug-drug index only holds such rules
                if rule.match.matches(candidate, classes_c) and rule.with_drug.matches(b, classes_b):
                    return True
                if rule.with_drug.matches(candidate, classes_c) and rule.match.matches(b, classes_b):
                    return True
        return False

    def _touches_allergy(self, candidate: str, allergic: set[str]) -> bool:
        key = ("allergy footprint of", candidate)
        footprint = self.memo.get(key)
        if not isinstance(footprint, frozenset):
            # The candidate itself, its allergy groups and classes, and every group that cross-reacts with them.
            index = self.knowledge.allergy
            groups = index.groups_of(candidate)
            crossing = {cross.to_group for g in groups for cross in index.cross_reactions.get(g, ())}
            footprint = frozenset({candidate, *groups, *self.classes_of(candidate), *crossing})
            self.remember(key, footprint)
        return not footprint.isdisjoint(allergic)

    def cancel_only(self, draft: MedicationEntry) -> tuple[Suggestion, ...]:
        """The suggestions of a card that can only offer to cancel the draft: one tuple per draft, so the
        API builds their JSON once for every such card (it keys it by the tuple's identity)."""
        found = self._removals.get(draft.ref)
        if found is None:
            found = self._removals[draft.ref] = (remove_suggestion(draft),)
        return found


def remove_suggestion(draft: MedicationEntry) -> Suggestion:
    return Suggestion(
        label=f"Cancel the order for {draft.display}",
        action="remove-draft",
        replacement_ingredient_id=None,
        replacement_name=None,
    )


def pair_key(a: str, b: str) -> tuple[str, str, str]:
    """The dedupe key of a pair of orders, whichever of the two it is seen from."""
    return ("pair", a, b) if a <= b else ("pair", b, a)


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
    return template.format_map(_Blank(values))


def severity_text(severity: Severity) -> str:
    return severity.value


def noted(draft: MedicationEntry, detail: str) -> str:
    """``detail`` with the note on how the draft was identified (by name, not by its code): the patient's own
    words, so a detail that carries one has no patient-independent tail."""
    return f"{detail}\n\n_Note: {draft.display} was identified {draft.match_note}._"


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
    """A finding about ``draft``, its summary fitted and its detail noted (see :func:`noted`). The
    drug-drug and conditional checks build theirs directly: they run once per card on the hot path."""
    return Finding(
        rule_id=rule_id,
        rule_version=rule_version,
        kind=kind,
        severity=severity,
        interruptive=interruptive,
        draft_ref=draft.ref,
        other_ref=other_ref,
        summary=fit_summary(summary),
        detail_markdown=noted(draft, detail) if draft.match_note else detail,
        management=management,
        source_label=source_label,
        source_url=source_url,
        source_dataset=source_dataset,
        source_version=source_version,
        references=references,
        suggestions=suggestions,
        dedupe_key=dedupe_key,
    )
