"""Which classes each ingredient belongs to, compiled from the graph for the hot path.

An ingredient belongs to the classes it is a ``MEMBER_OF_CLASS`` of and to every
``IS_A`` ancestor of those classes (a member of "QT-prolonging antiarrhythmics" is a
member of "QT-prolonging agents"). Class-level knowledge (an ANSM interaction between
two classes, a CPIC note on a class) applies to every such member.

A salt joins its moiety the same way: an ingredient with a ``HAS_ACTIVE_MOIETY`` edge
(lithium carbonate -> lithium) counts the moiety id, and every class of the moiety, among
its own keys, so what a source states for lithium reaches lithium carbonate.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from graph_store.contract import GraphStore
from ontology.vocab import Label, RelType

_EMPTY: frozenset[str] = frozenset()


def _ancestor_closure(parents: Mapping[str, frozenset[str]]) -> dict[str, frozenset[str]]:
    """Each class -> all its IS_A ancestors (not itself). Tolerates cycles."""
    closure: dict[str, frozenset[str]] = {}

    def visit(node: str, path: frozenset[str]) -> frozenset[str]:
        if node in closure:
            return closure[node]
        found: set[str] = set()
        for parent in parents.get(node, _EMPTY):
            if parent in path:
                continue  # a cycle in the source hierarchy: stop rather than loop
            found.add(parent)
            found |= visit(parent, path | {parent})
        result = frozenset(found - {node})
        closure[node] = result
        return result

    for node in parents:
        visit(node, frozenset({node}))
    return closure


@dataclass(frozen=True, slots=True)
class DrugClassIndex:
    """Ingredient <-> class membership (direct and inherited), class names and types."""

    classes_of_ingredient: Mapping[str, frozenset[str]]
    """Ingredient id -> direct classes plus their IS_A ancestors."""
    direct_classes_of_ingredient: Mapping[str, frozenset[str]]
    members_of_class: Mapping[str, frozenset[str]]
    """Class id -> every ingredient in it, directly or through a subclass."""
    class_names: Mapping[str, str]
    class_types: Mapping[str, str]
    ancestors: Mapping[str, frozenset[str]]
    moieties_of_ingredient: Mapping[str, frozenset[str]] = field(default_factory=lambda: MappingProxyType({}))
    """Salt ingredient id -> the ingredient ids that act in it (not classes: no name in ``class_names``)."""

    def classes_of(self, ingredient_id: str) -> frozenset[str]:
        return self.classes_of_ingredient.get(ingredient_id, _EMPTY)

    def members_of(self, class_id: str) -> frozenset[str]:
        return self.members_of_class.get(class_id, _EMPTY)

    def is_member(self, ingredient_id: str, class_id: str) -> bool:
        return class_id in self.classes_of(ingredient_id)

    def name_of(self, class_id: str) -> str:
        return self.class_names.get(class_id, class_id)

    def type_of(self, class_id: str) -> str | None:
        return self.class_types.get(class_id)

    def is_class(self, node_id: str) -> bool:
        return node_id in self.class_names

    def moieties_of(self, ingredient_id: str) -> frozenset[str]:
        return self.moieties_of_ingredient.get(ingredient_id, _EMPTY)

    @classmethod
    def empty(cls) -> DrugClassIndex:
        return cls.build({}, {}, {}, {})

    @classmethod
    def build(
        cls,
        names: Mapping[str, str],
        types: Mapping[str, str],
        memberships: Mapping[str, set[str]],
        parents: Mapping[str, set[str]],
        moieties: Mapping[str, set[str]] | None = None,
    ) -> DrugClassIndex:
        """From class names/types, ingredient -> direct classes, class -> parent classes and salt ->
        moieties."""
        ancestors = _ancestor_closure({k: frozenset(v) for k, v in parents.items()})
        classes: dict[str, frozenset[str]] = {}
        for ingredient, direct in memberships.items():
            every = set(direct)
            for cls_id in direct:
                every |= ancestors.get(cls_id, _EMPTY)
            classes[ingredient] = frozenset(every)
        # A moiety's own moieties count too (a chain is unlikely, but costs nothing to follow).
        moiety_closure = _ancestor_closure({k: frozenset(v) for k, v in (moieties or {}).items()})
        for salt, acting in moiety_closure.items():
            if acting:
                classes[salt] = classes.get(salt, _EMPTY).union(acting, *(classes.get(m, _EMPTY) for m in acting))
        members: dict[str, set[str]] = defaultdict(set)
        for ingredient, keys in classes.items():
            for cls_id in keys:
                members[cls_id].add(ingredient)
        return cls(
            classes_of_ingredient=MappingProxyType(classes),
            direct_classes_of_ingredient=MappingProxyType({k: frozenset(v) for k, v in memberships.items()}),
            members_of_class=MappingProxyType({k: frozenset(v) for k, v in members.items()}),
            class_names=MappingProxyType(dict(names)),
            class_types=MappingProxyType(dict(types)),
            ancestors=MappingProxyType(ancestors),
            moieties_of_ingredient=MappingProxyType({k: v for k, v in moiety_closure.items() if v}),
        )

    @classmethod
    def from_store(cls, store: GraphStore) -> DrugClassIndex:
        class_frame = store.nodes_frame(Label.DRUG_CLASS)
        names: dict[str, str] = {}
        types: dict[str, str] = {}
        for cid, name, ctype in class_frame.select("id", "name", "class_type").iter_rows():
            names[cid] = name
            types[cid] = ctype
        memberships: dict[str, set[str]] = defaultdict(set)
        for drug, cid in store.edges_frame(RelType.MEMBER_OF_CLASS).select("source_id", "target_id").iter_rows():
            memberships[drug].add(cid)
        parents: dict[str, set[str]] = defaultdict(set)
        for child, parent in store.edges_frame(RelType.IS_A).select("source_id", "target_id").iter_rows():
            if child in names and parent in names:
                parents[child].add(parent)
        moieties: dict[str, set[str]] = defaultdict(set)
        for salt, moiety in store.edges_frame(RelType.HAS_ACTIVE_MOIETY).select("source_id", "target_id").iter_rows():
            moieties[salt].add(moiety)
        return cls.build(names, types, memberships, parents, moieties)
