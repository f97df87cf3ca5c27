"""What the engine needs from the compiled knowledge index, as small protocols.

The engine depends on these shapes, not on how the index builds them, so it stays pure
and testable with a hand-made graph. :mod:`rules.graph_knowledge` compiles them from a store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from knowledge_index.allergy import AllergyIndex
from knowledge_index.indications import IndicationIndex
from knowledge_index.pgx import PgxIndex
from ontology.vocab import ClassType, Severity


class ClassLookup(Protocol):
    def classes_of(self, ingredient_id: str) -> frozenset[str]:
        """Every class the ingredient belongs to, ancestors included."""
        ...

    def members_of(self, class_id: str) -> frozenset[str]:
        """Every ingredient of the class, its subclasses' included."""
        ...

    def moieties_of(self, ingredient_id: str) -> frozenset[str]:
        """The ingredients that act in a salt (lithium for lithium carbonate); empty for most."""
        ...


@dataclass(frozen=True, slots=True)
class InteractionFact:
    """One source's statement that two drugs (or their classes) interact."""

    matched_a: str
    """The id on the first drug's side that matched: the ingredient itself or one of its classes."""
    matched_b: str
    severity: Severity
    interruptive: bool
    source: str
    """Dataset tag ``name@version``."""
    description: str
    mechanism: str | None = None
    management: str | None = None
    references: tuple[str, ...] = ()
    source_severity: str | None = None


class DrugInteractions(Protocol):
    def interactions_with(self, b: str) -> Sequence[InteractionFact]:
        """Every fact between the drug this view was made for and ingredient ``b``."""
        ...


class InteractionLookup(Protocol):
    def interactions(self, a: str, b: str) -> Sequence[InteractionFact]:
        """Every fact for ingredients ``a`` and ``b`` (either order), ingredient- and class-level."""
        ...

    def for_drug(self, a: str) -> DrugInteractions:
        """A view of everything ``a`` interacts with, for screening one draft against many drugs."""
        ...

    def interaction_keys(self, ingredients: Iterable[str]) -> frozenset[str]:
        """The ids (ingredients and their classes) through which ``ingredients`` can interact."""
        ...

    def interacts_with_keys(self, candidate: str, key_sets: Sequence[frozenset[str]]) -> bool:
        """Whether ``candidate`` interacts with anything behind the keys of ``key_sets`` (for picking
        alternatives). Several sets, so a caller need not copy a large one to add a few keys."""
        ...

    def classes_interacting(self, ingredient: str, key_sets: Sequence[frozenset[str]]) -> tuple[str, ...]:
        """The classes of ``ingredient`` through which it interacts with anything behind ``key_sets``."""
        ...


ATC_LEVEL4_LENGTH = 5


def is_therapeutic_class(class_id: str, class_type: str) -> bool:
    """FDA Established Pharmacologic Classes and ATC level 4 mean "does the same job".

    Mechanism, physiologic-effect and chemical-structure classes are left out: they pair drugs
    that merely share an enzyme or a ring system, which would be noise as duplicate therapy.
    """
    if class_type == ClassType.EPC.value:
        return True
    return class_type == ClassType.ATC.value and len(class_id.removeprefix("ATC:")) == ATC_LEVEL4_LENGTH


@dataclass(frozen=True, slots=True)
class ClassInfo:
    name: str
    class_type: str


class _NoClasses:
    def classes_of(self, ingredient_id: str) -> frozenset[str]:
        return frozenset()

    def members_of(self, class_id: str) -> frozenset[str]:
        return frozenset()

    def moieties_of(self, ingredient_id: str) -> frozenset[str]:
        return frozenset()


class _NoInteractions:
    def interactions(self, a: str, b: str) -> Sequence[InteractionFact]:
        return ()

    def interactions_with(self, b: str) -> Sequence[InteractionFact]:
        return ()

    def for_drug(self, a: str) -> DrugInteractions:
        return self

    def interaction_keys(self, ingredients: Iterable[str]) -> frozenset[str]:
        return frozenset()

    def interacts_with_keys(self, candidate: str, key_sets: Sequence[frozenset[str]]) -> bool:
        return False

    def classes_interacting(self, ingredient: str, key_sets: Sequence[frozenset[str]]) -> tuple[str, ...]:
        return ()


@dataclass(frozen=True, slots=True)
class EngineKnowledge:
    classes: ClassLookup
    interactions: InteractionLookup
    class_info: Mapping[str, ClassInfo] = field(default_factory=dict)
    drug_names: Mapping[str, str] = field(default_factory=dict)
    allergy: AllergyIndex = field(default_factory=AllergyIndex.empty)
    pgx: PgxIndex = field(default_factory=PgxIndex.empty)
    indications: IndicationIndex = field(default_factory=IndicationIndex.empty)
    dataset_versions: Mapping[str, str] = field(default_factory=dict)
    therapeutic_classes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Ingredient -> the classes that count for duplicate therapy (see :func:`is_therapeutic_class`)."""
    therapeutic_actions: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Ingredient -> its MeSH therapeutic-use actions (see :mod:`rules.alternatives`)."""

    @classmethod
    def empty(cls) -> EngineKnowledge:
        """No graph: only rules that name ingredients directly can fire (used by rule self-tests)."""
        return cls(classes=_NoClasses(), interactions=_NoInteractions())

    def drug_name(self, ingredient_id: str) -> str:
        return self.drug_names.get(ingredient_id, ingredient_id)

    def class_name(self, class_id: str) -> str:
        info = self.class_info.get(class_id)
        return info.name if info else self.drug_names.get(class_id, class_id)

    def shared_moiety(self, a: str, b: str) -> str | None:
        """The substance two ingredient ids both are: one's moiety when the other is it (lithium carbonate,
        lithium), or the moiety of two salts (lithium carbonate, lithium citrate); None otherwise."""
        moieties_a, moieties_b = self.classes.moieties_of(a), self.classes.moieties_of(b)
        if b in moieties_a:
            return b
        if a in moieties_b:
            return a
        common = moieties_a & moieties_b
        return min(common) if common else None

    def same_substance(self, a: str, b: str) -> bool:
        """Whether two ingredient ids are one substance (equal, or see :meth:`shared_moiety`): taking both
        is duplicate therapy, not an interaction."""
        return a == b or self.shared_moiety(a, b) is not None

    def covered_as(self, key: str) -> str:
        """How an ingredient came under ``key``, one of its class keys: "a member of <class>", or, when the
        key is the ingredient's moiety (lithium for lithium carbonate), "a form of <moiety>"."""
        if key not in self.class_info and key in self.drug_names:
            return f"a form of {self.drug_names[key]}"
        return f"a member of {self.class_name(key)}"
