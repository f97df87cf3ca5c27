"""What the engine returns: one finding per problem, ready for the API to turn into a card.

Structs are ``gc=False`` (plain values, no cycles), so building them does not feed the collector.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from ontology.vocab import Severity

FindingKind = Literal[
    "drug-drug", "allergy", "drug-disease", "renal", "duplicate-therapy", "pharmacogenomic", "pregnancy"
]
FINDING_KINDS: tuple[str, ...] = (
    "drug-drug",
    "allergy",
    "drug-disease",
    "renal",
    "duplicate-therapy",
    "pharmacogenomic",
    "pregnancy",
)
SUMMARY_MAX = 140
SEVERITY_RANK: dict[Severity, int] = {severity: i for i, severity in enumerate(Severity)}
"""0 for the most severe tier; a dict lookup (``Severity.rank`` rebuilds a list on every call)."""


class Suggestion(msgspec.Struct, frozen=True, gc=False):
    label: str
    action: Literal["remove-draft", "replace-draft"]
    replacement_ingredient_id: str | None
    replacement_name: str | None


class Finding(msgspec.Struct, frozen=True, gc=False):
    rule_id: str
    rule_version: str
    kind: str
    """One of :data:`FINDING_KINDS`."""
    severity: Severity
    interruptive: bool
    """False when every source says to show the alert passively (ONC non-interruptive): an ``info`` card."""
    draft_ref: str
    other_ref: str | None
    """The active medication, other draft, allergy or condition involved, when there is one."""
    summary: str
    """At most 140 characters."""
    detail_markdown: str
    management: str | None
    source_label: str
    source_url: str | None
    source_dataset: str
    """Dataset tag(s) ``name@version``; several joined with ``; `` when sources were merged."""
    source_version: str
    references: tuple[str, ...]
    suggestions: tuple[Suggestion, ...]
    dedupe_key: tuple[str, ...]
    detail_tail: str = ""
    """A suffix of ``detail_markdown`` that depends only on the rule set and the index, never on the patient
    (the same string for every patient with this pair of drugs), so the API can reuse what it derives from
    it; empty when there is none."""
    template_key: TemplateKey | None = None
    """Set only with a ``detail_tail`` that ends the detail exactly (nothing after it, not even white
    space): what the finding says apart from its patient part (the detail before the tail, the refs, the
    suggestions and the summary, which may carry the patient's values), so the API may key what it
    derives from that on it."""


class TemplateKey:
    """Everything a finding says that is not about the patient (all but the detail before its tail, the
    refs, the suggestions and the summary), as a dict key that hashes once.

    Findings from one cached analysis share one key object, so a lookup usually matches by identity; keys
    built anew for the same content are equal, so findings stay equal however often they were analysed."""

    __slots__ = ("_hash", "content")

    def __init__(self, content: tuple[object, ...]) -> None:
        self.content = content
        self._hash = hash(content)

    @classmethod
    def of(
        cls,
        *,
        rule_id: str,
        rule_version: str,
        kind: str,
        severity: Severity,
        interruptive: bool,
        management: str | None,
        source_label: str,
        source_url: str | None,
        source_dataset: str,
        references: tuple[str, ...],
        tail: str,
    ) -> TemplateKey:
        """The key of findings with these fields and ``detail_tail``: the one place that says what it covers."""
        content = (
            rule_id,
            rule_version,
            kind,
            severity,
            interruptive,
            management,
            source_label,
            source_url,
            source_dataset,
            references,
            tail,
        )
        return cls(content)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, TemplateKey) and self.content == other.content)

    def __repr__(self) -> str:
        return f"TemplateKey({self._hash:#x})"
