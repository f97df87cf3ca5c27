"""What the engine returns: one finding per problem, ready for the API to turn into a card.

Compiled with mypyc (:mod:`kgcds.native`): the record classes are plain native classes with written-out
constructors, which compiled code builds and reads directly. (A msgspec struct read from compiled code
goes through Python's generic attribute lookup, and a dataclass's generated ``__init__`` runs interpreted:
both cost more per call.) ``Final`` attributes make them read-only, from Python too; equality, hashing
and repr are by value (:class:`rules.records.ValueRecord`), as a frozen struct's were.
"""

from __future__ import annotations

from typing import Final, Literal

from ontology.vocab import Severity
from rules.records import ValueRecord

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


class Suggestion(ValueRecord):
    label: Final[str]
    action: Final[Literal["remove-draft", "replace-draft"]]
    replacement_ingredient_id: Final[str | None]
    replacement_name: Final[str | None]

    def __init__(
        self,
        label: str,
        action: Literal["remove-draft", "replace-draft"],
        replacement_ingredient_id: str | None,
        replacement_name: str | None,
    ) -> None:
        self.label = label
        self.action = action
        self.replacement_ingredient_id = replacement_ingredient_id
        self.replacement_name = replacement_name

    def _values(self) -> tuple[object, ...]:
        return (self.label, self.action, self.replacement_ingredient_id, self.replacement_name)


class Finding(ValueRecord):
    rule_id: Final[str]
    rule_version: Final[str]
    kind: Final[str]
    """One of :data:`FINDING_KINDS`."""
    severity: Final[Severity]
    interruptive: Final[bool]
    """False when every source says to show the alert passively (ONC non-interruptive): an ``info`` card."""
    draft_ref: Final[str]
    other_ref: Final[str | None]
    """The active medication, other draft, allergy or condition involved, when there is one."""
    summary: Final[str]
    """At most 140 characters."""
    detail_markdown: Final[str]
    management: Final[str | None]
    source_label: Final[str]
    source_url: Final[str | None]
    source_dataset: Final[str]
    """Dataset tag(s) ``name@version``; several joined with ``; `` when sources were merged."""
    source_version: Final[str]
    references: Final[tuple[str, ...]]
    suggestions: Final[tuple[Suggestion, ...]]
    dedupe_key: Final[tuple[str, ...]]
    detail_tail: Final[str]
    """A suffix of ``detail_markdown`` that depends only on the rule set and the index, never on the patient
    (the same string for every patient with this pair of drugs), so the API can reuse what it derives from
    it; empty when there is none."""
    template_key: Final[TemplateKey | None]
    """Set only with a ``detail_tail`` that ends the detail exactly (nothing after it, not even white
    space): what the finding says apart from its patient part (the detail before the tail, the refs, the
    suggestions and the summary, which may carry the patient's values), so the API may key what it
    derives from that on it."""

    def __init__(
        self,
        rule_id: str,
        rule_version: str,
        kind: str,
        severity: Severity,
        interruptive: bool,
        draft_ref: str,
        other_ref: str | None,
        summary: str,
        detail_markdown: str,
        management: str | None,
        source_label: str,
        source_url: str | None,
        source_dataset: str,
        source_version: str,
        references: tuple[str, ...],
        suggestions: tuple[Suggestion, ...],
        dedupe_key: tuple[str, ...],
        detail_tail: str = "",
        template_key: TemplateKey | None = None,
    ) -> None:
        self.rule_id = rule_id
        self.rule_version = rule_version
        self.kind = kind
        self.severity = severity
        self.interruptive = interruptive
        self.draft_ref = draft_ref
        self.other_ref = other_ref
        self.summary = summary
        self.detail_markdown = detail_markdown
        self.management = management
        self.source_label = source_label
        self.source_url = source_url
        self.source_dataset = source_dataset
        self.source_version = source_version
        self.references = references
        self.suggestions = suggestions
        self.dedupe_key = dedupe_key
        self.detail_tail = detail_tail
        self.template_key = template_key

    def _values(self) -> tuple[object, ...]:
        return (
            self.rule_id,
            self.rule_version,
            self.kind,
            self.severity,
            self.interruptive,
            self.draft_ref,
            self.other_ref,
            self.summary,
            self.detail_markdown,
            self.management,
            self.source_label,
            self.source_url,
            self.source_dataset,
            self.source_version,
            self.references,
            self.suggestions,
            self.dedupe_key,
            self.detail_tail,
            self.template_key,
        )


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
