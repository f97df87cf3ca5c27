"""Engine findings -> CDS Hooks 2.0 cards.

Cards follow the spec exactly: optional fields are omitted (``omit_defaults``), never ``null``;
``summary`` is at most 140 characters; a card with suggestions carries ``selectionBehavior``.
One card per problem: findings sharing a ``dedupe_key`` (the same pair seen from both drafts, or
the same pair asserted by several sources) collapse into the most severe one.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec

from ontology.curie import CodeSystemMap, CurieError
from ontology.vocab import Severity
from rules.findings import SUMMARY_MAX, Finding, Suggestion
from rules.patient import MedicationEntry

RULE_TOPIC_SYSTEM = "https://w3id.org/kgcds/rule"
OVERRIDE_REASON_SYSTEM = "https://w3id.org/kgcds/override-reason"
UNSCREENED_RULE_ID = "kgcds-order-not-recognised"


class CardCoding(msgspec.Struct, frozen=True, omit_defaults=True):
    code: str
    system: str | None = None
    display: str | None = None


class Source(msgspec.Struct, frozen=True, omit_defaults=True):
    label: str
    url: str | None = None
    topic: CardCoding | None = None


class Action(msgspec.Struct, frozen=True, omit_defaults=True):
    type: str
    description: str
    resource: dict[str, Any] | None = None
    resourceId: str | None = None


class CardSuggestion(msgspec.Struct, frozen=True, omit_defaults=True):
    label: str
    uuid: str | None = None
    isRecommended: bool | None = None
    actions: tuple[Action, ...] = ()


class Link(msgspec.Struct, frozen=True):
    """CDS Hooks requires ``type`` on every link, so this struct does not omit its default."""

    label: str
    url: str
    type: str = "absolute"


class Card(msgspec.Struct, frozen=True, omit_defaults=True):
    uuid: str
    summary: str
    indicator: str
    source: Source
    detail: str | None = None
    suggestions: tuple[CardSuggestion, ...] = ()
    selectionBehavior: str | None = None
    overrideReasons: tuple[CardCoding, ...] = ()
    links: tuple[Link, ...] = ()


class CardsResponse(msgspec.Struct, frozen=True):
    cards: tuple[Card, ...]


OVERRIDE_REASONS: tuple[CardCoding, ...] = (
    CardCoding("benefit-outweighs-risk", OVERRIDE_REASON_SYSTEM, "Benefit outweighs risk for this patient"),
    CardCoding("will-monitor", OVERRIDE_REASON_SYSTEM, "Will monitor or adjust dose"),
    CardCoding("tolerated-before", OVERRIDE_REASON_SYSTEM, "Patient has tolerated this before"),
    CardCoding("not-applicable", OVERRIDE_REASON_SYSTEM, "Alert does not apply to this patient"),
)


SEVERITY_RANK: dict[Severity, int] = {severity: rank for rank, severity in enumerate(Severity)}


def random_uuid(h: str | None = None) -> str:
    """A version-4 UUID string, formatted straight from random bytes (a card can carry dozens of them).

    ``h``: 32 hex digits of fresh randomness, when the caller drew several UUIDs' worth at once.
    """
    if h is None:
        h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"


def indicator_for(finding: Finding) -> str:
    if not finding.interruptive or finding.severity is Severity.MINOR:
        return "info"
    if finding.severity in (Severity.CONTRAINDICATED, Severity.MAJOR):
        return "critical"
    return "warning"


def truncate(text: str, limit: int = SUMMARY_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class IssuedCard:
    """What the feedback store remembers about a card: no patient data, only which rule fired."""

    card_uuid: str
    rule_id: str
    rule_version: str
    indicator: str


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    best: dict[tuple[str, ...], Finding] = {}
    for finding in findings:
        key = finding.dedupe_key or (finding.rule_id, finding.draft_ref, finding.other_ref or "")
        current = best.get(key)
        if current is None or _rank(finding) < _rank(current):
            best[key] = finding
    return sorted(best.values(), key=_rank)


def _rank(finding: Finding) -> tuple[int, int, str]:
    # Interruptive before passive, then by severity; rule id keeps the order stable between calls.
    return (0 if finding.interruptive else 1, SEVERITY_RANK[finding.severity], finding.rule_id)


class CardFactory:
    def __init__(self, codes: CodeSystemMap) -> None:
        self._codes = codes
        self._fhir_codes: dict[str, tuple[str, str] | None] = {}
        # Sources and links depend only on the rule and its references: built once, shared by every card
        # (the structs are frozen). Bounded by the number of rules and reference lists.
        self._sources: dict[tuple[str, str, str, str, str | None], Source] = {}
        self._links: dict[tuple[str, ...], tuple[Link, ...]] = {}

    def cards(
        self, findings: Sequence[Finding], drafts: Mapping[str, MedicationEntry], patient_id: str | None
    ) -> tuple[list[Card], list[IssuedCard]]:
        cards: list[Card] = []
        issued: list[IssuedCard] = []
        for finding in dedupe(findings):
            card = self.card(finding, drafts.get(finding.draft_ref), patient_id)
            cards.append(card)
            issued.append(IssuedCard(card.uuid, finding.rule_id, finding.rule_version, card.indicator))
        return cards, issued

    def card(self, finding: Finding, draft: MedicationEntry | None, patient_id: str | None) -> Card:
        draft_name = draft.display if draft else finding.draft_ref
        randomness = os.urandom(32).hex()  # the card's UUID and its suggestions' base in one system call
        suggestions: tuple[CardSuggestion, ...] = ()
        if finding.suggestions:
            remove = Action(
                type="delete", description=f"Remove the draft order for {draft_name}", resourceId=finding.draft_ref
            )
            # Suggestion ids only need to be unique within the card (feedback names card + suggestion):
            # one random base per card, numbered, instead of a fresh random UUID each.
            base = random_uuid(randomness[32:])[:-4]
            made = (
                self._suggestion(s, f"{base}{i:04x}", remove, patient_id) for i, s in enumerate(finding.suggestions)
            )
            suggestions = tuple(s for s in made if s is not None)
        indicator = indicator_for(finding)
        return Card(
            uuid=random_uuid(randomness[:32]),
            summary=truncate(finding.summary),
            indicator=indicator,
            source=self._source(finding),
            detail=self._detail(finding, draft_name, draft),
            suggestions=suggestions,
            selectionBehavior="at-most-one" if suggestions else None,
            overrideReasons=OVERRIDE_REASONS if indicator != "info" else (),
            links=self._links_for(finding.references),
        )

    def _source(self, finding: Finding) -> Source:
        key = (finding.rule_id, finding.rule_version, finding.kind, finding.source_label, finding.source_url)
        found = self._sources.get(key)
        if found is None:
            found = self._sources[key] = Source(
                label=finding.source_label,
                url=finding.source_url,
                topic=CardCoding(
                    code=finding.rule_id,
                    system=RULE_TOPIC_SYSTEM,
                    display=f"{finding.rule_id} v{finding.rule_version} ({finding.kind})",
                ),
            )
        return found

    def _links_for(self, references: tuple[str, ...]) -> tuple[Link, ...]:
        found = self._links.get(references)
        if found is None:
            found = self._links[references] = tuple(
                Link(label=ref, url=ref) for ref in references if ref.startswith("https://")
            )
        return found

    def unscreened(self, draft: MedicationEntry) -> tuple[Card, IssuedCard]:
        """An info card for a draft no ingredient could be found for: silence must not read as "safe"."""
        codes = ", ".join(draft.codes) or "no code"
        card = Card(
            uuid=random_uuid(),
            summary=truncate(f"Not screened: {draft.display} was not recognised"),
            indicator="info",
            source=Source(
                label="kgcds medication safety",
                topic=CardCoding(code=UNSCREENED_RULE_ID, system=RULE_TOPIC_SYSTEM, display="Order not recognised"),
            ),
            detail=(
                f"**Order:** {draft.display} (`{draft.ref}`, {codes})\n\n"
                "No active ingredient could be identified for this order, so it was **not** checked for "
                "interactions, allergies, contraindications, renal dosing or pharmacogenomics. "
                f"{draft.match_note or ''}".rstrip()
            ),
        )
        return card, IssuedCard(card.uuid, UNSCREENED_RULE_ID, "1", card.indicator)

    def _detail(self, finding: Finding, draft_name: str, draft: MedicationEntry | None) -> str:
        body = finding.detail_markdown.strip()
        parts = [f"**Order:** {draft_name} (`{finding.draft_ref}`)", body]
        if draft is not None and draft.match_note:
            parts.append(f"_Order identified {draft.match_note}._")
        # Rules may already write management and evidence into their detail; never say it twice.
        if finding.management and finding.management.strip() not in body:
            parts.append(f"**Management:** {finding.management.strip()}")
        missing_refs = [ref for ref in finding.references if ref not in body]
        if missing_refs:
            parts.append("**Evidence:** " + "; ".join(missing_refs))
        parts.append(
            f"**Source:** {finding.source_dataset} (rule `{finding.rule_id}` version {finding.rule_version}, "
            f"severity {finding.severity.value})"
        )
        return "\n\n".join(p for p in parts if p)

    def _suggestion(
        self, suggestion: Suggestion, suggestion_uuid: str, remove: Action, patient_id: str | None
    ) -> CardSuggestion | None:
        if suggestion.action == "remove-draft":
            return CardSuggestion(label=suggestion.label, uuid=suggestion_uuid, actions=(remove,))
        replacement = self._replacement(suggestion, patient_id)
        if replacement is None:
            return None
        name = suggestion.replacement_name or "the alternative"
        create = Action(type="create", description=f"Order {name} instead", resource=replacement)
        return CardSuggestion(label=suggestion.label, uuid=suggestion_uuid, actions=(remove, create))

    def _replacement(self, suggestion: Suggestion, patient_id: str | None) -> dict[str, Any] | None:
        ingredient = suggestion.replacement_ingredient_id
        if ingredient is None:
            return None
        if ingredient not in self._fhir_codes:
            try:
                self._fhir_codes[ingredient] = self._codes.to_fhir(ingredient)
            except CurieError:
                self._fhir_codes[ingredient] = None
        found = self._fhir_codes[ingredient]
        if found is None:
            return None
        system, code = found
        name = suggestion.replacement_name or code
        resource: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "status": "draft",
            "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": system, "code": code, "display": name}], "text": name},
        }
        if patient_id:
            resource["subject"] = {"reference": f"Patient/{patient_id}"}
        return resource
