"""Compile :class:`~rules.knowledge.EngineKnowledge` from a graph store (once, at start-up).

Class membership and interactions come from the shared compiled indexes
(:mod:`knowledge_index.drug_classes`, :mod:`knowledge_index.interactions`). The adapter
below precomputes, per ingredient, only the keys (itself and its classes) that take part
in any interaction: an ingredient has dozens of classes but rarely more than three of them
appear in an interaction source, so a pair costs a handful of dict probes instead of a
cross product of class sets.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from graph_store.contract import GraphStore
from knowledge_index.allergy import AllergyIndex
from knowledge_index.drug_classes import DrugClassIndex
from knowledge_index.indications import IndicationIndex
from knowledge_index.interactions import InteractionEntry, InteractionIndex
from knowledge_index.pgx import PgxIndex
from ontology.vocab import ClassType, Label
from rules.alternatives import MAX_ACTION_MEMBERS
from rules.knowledge import ClassInfo, EngineKnowledge, InteractionFact, is_therapeutic_class


@dataclass(frozen=True, slots=True)
class IndexInteractions:
    """:class:`InteractionIndex` seen through the engine's ``InteractionLookup`` protocol."""

    adjacency: Mapping[str, Mapping[str, tuple[InteractionEntry, ...]]]
    keys_by_ingredient: Mapping[str, tuple[str, ...]]
    partner_sets: dict[str, frozenset[str]] = field(default_factory=dict)
    """Cache: candidate -> every key it interacts with (the index is immutable, so never stale)."""
    key_partners: dict[str, frozenset[str]] = field(default_factory=dict)
    """Cache: one key (an ingredient or a class) -> every key it interacts with."""

    @classmethod
    def build(cls, index: InteractionIndex, classes: DrugClassIndex) -> IndexInteractions:
        adjacency = index.adjacency
        keys = {
            ingredient: (ingredient, *sorted(c for c in ingredient_classes if c in adjacency))
            for ingredient, ingredient_classes in classes.classes_of_ingredient.items()
        }
        return cls(adjacency, keys)

    def keys_of(self, ingredient: str) -> tuple[str, ...]:
        return self.keys_by_ingredient.get(ingredient) or (ingredient,)

    def interactions(self, a: str, b: str) -> Sequence[InteractionFact]:
        if a == b:
            return []
        keys_b = self.keys_of(b)
        out: list[InteractionFact] = []
        seen: set[int] = set()
        for key_a in self.keys_of(a):
            others = self.adjacency.get(key_a)
            if others is None:
                continue
            for key_b in keys_b:
                for entry in others.get(key_b, ()):
                    if id(entry) not in seen:
                        seen.add(id(entry))
                        out.append(_fact(entry, key_a, key_b))
        return out

    def for_drug(self, a: str) -> DrugPartners:
        # One merged map per draft: each other drug then costs a probe per key, not per key pair.
        merged: dict[str, list[tuple[str, InteractionEntry]]] = {}
        for key_a in self.keys_of(a):
            for key_b, entries in self.adjacency.get(key_a, {}).items():
                bucket = merged.setdefault(key_b, [])
                bucket.extend((key_a, entry) for entry in entries)
        return DrugPartners(a, merged, self)

    def interaction_keys(self, ingredients: Iterable[str]) -> frozenset[str]:
        return frozenset().union(*map(self.keys_of, ingredients))

    def interacts_with_keys(self, candidate: str, key_sets: Sequence[frozenset[str]]) -> bool:
        partners = self.partner_sets.get(candidate)
        if partners is None:
            # Everything the candidate can interact with, once per candidate: then one set test per patient.
            partners = frozenset().union(*map(self._partners_of_key, self.keys_of(candidate)))
            self.partner_sets[candidate] = partners
        return _meets_any(partners, key_sets)

    def classes_interacting(self, ingredient: str, key_sets: Sequence[frozenset[str]]) -> tuple[str, ...]:
        return tuple(c for c in self.keys_of(ingredient)[1:] if _meets_any(self._partners_of_key(c), key_sets))

    def _partners_of_key(self, key: str) -> frozenset[str]:
        partners = self.key_partners.get(key)
        if partners is None:
            partners = self.key_partners[key] = frozenset(self.adjacency.get(key, ()))
        return partners


def _meets_any(partners: frozenset[str], key_sets: Sequence[frozenset[str]]) -> bool:
    """Whether ``partners`` shares a key with any of ``key_sets`` (read as their union, never built)."""
    return any(not partners.isdisjoint(keys) for keys in key_sets)


@dataclass(frozen=True, slots=True)
class DrugPartners:
    drug: str
    by_partner_key: Mapping[str, list[tuple[str, InteractionEntry]]]
    lookup: IndexInteractions

    def interactions_with(self, b: str) -> Sequence[InteractionFact]:
        if b == self.drug:
            return []
        out: list[InteractionFact] = []
        seen: set[int] = set()
        for key_b in self.lookup.keys_of(b):
            for key_a, entry in self.by_partner_key.get(key_b, ()):
                if id(entry) not in seen:
                    seen.add(id(entry))
                    out.append(_fact(entry, key_a, key_b))
        return out


def _fact(entry: InteractionEntry, key_a: str, key_b: str) -> InteractionFact:
    return InteractionFact(
        matched_a=key_a,
        matched_b=key_b,
        severity=entry.severity,
        # Sources that say nothing about interruptiveness mean "interrupt".
        interruptive=entry.interruptive is not False,
        source=entry.source,
        description=entry.description,
        mechanism=entry.mechanism,
        management=entry.management,
        references=entry.references,
        source_severity=entry.source_severity,
    )


def knowledge_from_indexes(
    store: GraphStore,
    classes: DrugClassIndex,
    interactions: InteractionIndex,
    allergy: AllergyIndex | None = None,
) -> EngineKnowledge:
    """When the caller already compiled the shared indexes (the API does), reuse them."""
    class_info = {cid: ClassInfo(name, classes.type_of(cid) or "") for cid, name in classes.class_names.items()}
    drug_names = {row["id"]: row["name"] for row in store.nodes_frame(Label.DRUG).iter_rows(named=True)}
    therapeutic = {
        ingredient: frozenset(c for c in found if c in class_info and is_therapeutic_class(c, class_info[c].class_type))
        for ingredient, found in classes.classes_of_ingredient.items()
    }
    return EngineKnowledge(
        therapeutic_actions=therapeutic_actions(classes),
        classes=classes,
        interactions=IndexInteractions.build(interactions, classes),
        class_info=class_info,
        drug_names=drug_names,
        allergy=allergy if allergy is not None else AllergyIndex.from_store(store),
        pgx=PgxIndex.from_store(store),
        indications=IndicationIndex.from_store(store),
        dataset_versions=dict(store.metadata()),
        therapeutic_classes={k: v for k, v in therapeutic.items() if v},
    )


def therapeutic_actions(classes: DrugClassIndex) -> dict[str, frozenset[str]]:
    """Ingredient -> MeSH pharmacologic actions that name a therapeutic use, not a mechanism or a whole system."""
    useful = {
        class_id
        for class_id, class_type in classes.class_types.items()
        if class_type == ClassType.PA.value
        and classes.class_names.get(class_id, "").endswith(" Agents")
        and len(classes.members_of(class_id)) <= MAX_ACTION_MEMBERS
    }
    direct = classes.direct_classes_of_ingredient
    found = {ingredient: frozenset(c for c in own if c in useful) for ingredient, own in direct.items()}
    return {ingredient: actions for ingredient, actions in found.items() if actions}


def knowledge_from_store(store: GraphStore) -> EngineKnowledge:
    classes = DrugClassIndex.from_store(store)
    return knowledge_from_indexes(store, classes, InteractionIndex.from_store(store))
