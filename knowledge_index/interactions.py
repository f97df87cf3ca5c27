"""Drug-drug interaction lookup, compiled from the graph's ``INTERACTS_WITH`` edges.

Sources state interactions between ingredients and between classes ("ANTICOAGULANTS
ORAUX" + "AZOLES"). A lookup for drugs a and b checks every pair of keys in
({a} ∪ classes(a)) × ({b} ∪ classes(b)), so a class-level statement reaches every
member, and reports which key each drug matched ("fluconazole is a member of ...").

Storage is an adjacency map key -> {other key -> entries}, holding each edge under both
of its ends: one dict probe per key of drug a, then one per key of drug b for the keys
that have any interaction at all; a lookup with ten classes per drug costs microseconds.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from graph_store.contract import GraphStore
from knowledge_index.drug_classes import DrugClassIndex
from ontology.vocab import RelType, Severity


@dataclass(frozen=True, slots=True)
class InteractionEntry:
    """One ``INTERACTS_WITH`` edge as stored: between two keys (ingredient or class ids)."""

    key_1: str
    key_2: str
    severity: Severity
    source: str
    description: str
    interruptive: bool | None = None
    mechanism: str | None = None
    management: str | None = None
    source_severity: str | None = None
    source_text: str | None = None
    source_language: str | None = None
    references: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Interaction:
    """One hit of a lookup: an entry, oriented to the queried pair."""

    drug_a: str
    drug_b: str
    key_a: str
    """The node drug_a matched: drug_a itself, or a class drug_a belongs to."""
    key_b: str
    entry: InteractionEntry

    @property
    def severity(self) -> Severity:
        return self.entry.severity

    @property
    def interruptive(self) -> bool | None:
        return self.entry.interruptive

    @property
    def description(self) -> str:
        return self.entry.description

    @property
    def mechanism(self) -> str | None:
        return self.entry.mechanism

    @property
    def management(self) -> str | None:
        return self.entry.management

    @property
    def source_text(self) -> str | None:
        return self.entry.source_text

    @property
    def source(self) -> str:
        return self.entry.source

    @property
    def references(self) -> tuple[str, ...]:
        return self.entry.references

    @property
    def a_via_class(self) -> bool:
        return self.key_a != self.drug_a

    @property
    def b_via_class(self) -> bool:
        return self.key_b != self.drug_b

    @property
    def class_level(self) -> bool:
        return self.a_via_class or self.b_via_class


def _entry(record: Mapping[str, Any]) -> InteractionEntry:
    return InteractionEntry(
        key_1=record["source_id"],
        key_2=record["target_id"],
        severity=Severity(record["severity"]),
        source=record["source"],
        description=record["description"],
        interruptive=record.get("interruptive"),
        mechanism=record.get("mechanism"),
        management=record.get("management"),
        source_severity=record.get("source_severity"),
        source_text=record.get("source_text"),
        source_language=record.get("source_language"),
        references=tuple(record.get("references") or ()),
    )


def _order(hit: Interaction) -> tuple[int, int, str, str, str]:
    return (hit.severity.rank, int(hit.class_level), hit.source, hit.key_a, hit.key_b)


@dataclass(frozen=True, slots=True)
class InteractionIndex:
    adjacency: Mapping[str, Mapping[str, tuple[InteractionEntry, ...]]]
    """Key -> other key -> entries between them (every edge is under both of its ends)."""
    entry_count: int

    @classmethod
    def build(cls, entries: list[InteractionEntry]) -> InteractionIndex:
        adjacency: dict[str, dict[str, list[InteractionEntry]]] = defaultdict(lambda: defaultdict(list))
        for entry in entries:
            adjacency[entry.key_1][entry.key_2].append(entry)
            adjacency[entry.key_2][entry.key_1].append(entry)
        frozen = {
            key: MappingProxyType({other: tuple(found) for other, found in others.items()})
            for key, others in adjacency.items()
        }
        return cls(adjacency=MappingProxyType(frozen), entry_count=len(entries))

    @classmethod
    def empty(cls) -> InteractionIndex:
        return cls.build([])

    @classmethod
    def from_store(cls, store: GraphStore) -> InteractionIndex:
        frame = store.edges_frame(RelType.INTERACTS_WITH)
        return cls.build([_entry(record) for record in frame.iter_rows(named=True)])

    def __len__(self) -> int:
        return self.entry_count

    def has_key(self, key: str) -> bool:
        """Whether any interaction names this ingredient or class directly."""
        return key in self.adjacency

    def lookup(self, drug_a: str, drug_b: str, classes: DrugClassIndex) -> list[Interaction]:
        """Every ingredient- and class-level interaction between two ingredients, worst first.

        The same edge reached through two key pairs (both drugs in "NSAIDs" and in "other
        NSAIDs") is reported once. Two references to the same ingredient never interact.
        """
        if drug_a == drug_b:
            return []
        keys_b = (drug_b, *classes.classes_of(drug_b))
        hits: list[Interaction] = []
        seen: set[int] = set()
        for key_a in (drug_a, *classes.classes_of(drug_a)):
            others = self.adjacency.get(key_a)
            if others is None:
                continue
            for key_b in keys_b:
                found = others.get(key_b)
                if found is None:
                    continue
                for entry in found:
                    if id(entry) not in seen:
                        seen.add(id(entry))
                        hits.append(Interaction(drug_a, drug_b, key_a, key_b, entry))
        hits.sort(key=_order)
        return hits

    def worst(self, drug_a: str, drug_b: str, classes: DrugClassIndex) -> Severity | None:
        hits = self.lookup(drug_a, drug_b, classes)
        return hits[0].severity if hits else None
