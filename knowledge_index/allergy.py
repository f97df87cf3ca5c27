"""Allergy groups and cross-sensitivity between them, compiled for the rules engine.

Groups are ``DrugClass`` nodes with ``class_type`` ``allergy_group`` (``ALLERGYGROUP:penicillin``);
ingredients join them by ``MEMBER_OF_CLASS``; ``CROSS_REACTS_WITH`` links groups with a risk
(high | moderate | low). Cross-reactivity is clinically symmetric enough to alert both ways,
so each edge is indexed in both directions.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

from graph_store.contract import GraphStore
from ontology.vocab import ClassType, Label, RelType

ALLERGY_GROUP_PREFIX = "ALLERGYGROUP:"


@dataclass(frozen=True, slots=True)
class CrossReaction:
    from_group: str
    to_group: str
    risk: str
    """high | moderate | low."""
    source: str
    description: str | None
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AllergyIndex:
    groups_of_ingredient: Mapping[str, frozenset[str]]
    members_of_group: Mapping[str, frozenset[str]]
    group_names: Mapping[str, str]
    cross_reactions: Mapping[str, tuple[CrossReaction, ...]]
    """Group id -> groups it cross-reacts with (both directions of every edge)."""
    membership_source: Mapping[str, str] = field(default_factory=dict)
    """Group id -> dataset tag that asserted its membership, for citing."""
    group_synonyms: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Group id -> other phrases allergy records name it by (``PCN`` for the penicillins)."""
    groups_by_xref: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Class codes of other vocabularies -> the groups they stand for (``NDFRT:N0000011281`` Penicillins,
    as US Core allergy records may code a drug class)."""

    def groups_named_by(self, code: str) -> tuple[str, ...]:
        """The groups an allergy record's code names: a group id itself, or a class code it cross-references."""
        if code in self.group_names:
            return (code,)
        return self.groups_by_xref.get(code, ())

    def group_phrases(self) -> dict[str, tuple[str, ...]]:
        """Group id -> every phrase that names it: its name, then its synonyms."""
        return {group: (name, *self.group_synonyms.get(group, ())) for group, name in self.group_names.items()}

    def groups_of(self, ingredient_id: str) -> frozenset[str]:
        return self.groups_of_ingredient.get(ingredient_id, frozenset())

    def name_of(self, group_id: str) -> str:
        return self.group_names.get(group_id, group_id.removeprefix(ALLERGY_GROUP_PREFIX).replace("_", " "))

    @classmethod
    def empty(cls) -> AllergyIndex:
        return cls({}, {}, {}, {})

    @classmethod
    def from_store(cls, store: GraphStore) -> AllergyIndex:
        classes = store.nodes_frame(Label.DRUG_CLASS)
        group_rows = [
            row
            for row in classes.iter_rows(named=True)
            if row["class_type"] == ClassType.ALLERGY_GROUP.value or str(row["id"]).startswith(ALLERGY_GROUP_PREFIX)
        ]
        group_names = {row["id"]: row["name"] for row in group_rows}
        group_synonyms = {row["id"]: tuple(row["synonyms"]) for row in group_rows if row.get("synonyms")}
        by_xref: dict[str, list[str]] = defaultdict(list)
        for row in group_rows:
            for xref in row.get("xrefs") or ():
                by_xref[xref].append(row["id"])
        groups: dict[str, set[str]] = defaultdict(set)
        members: dict[str, set[str]] = defaultdict(set)
        membership_source: dict[str, str] = {}
        for row in store.edges_frame(RelType.MEMBER_OF_CLASS).iter_rows(named=True):
            group = row["target_id"]
            if group in group_names:
                groups[row["source_id"]].add(group)
                members[group].add(row["source_id"])
                membership_source.setdefault(group, row["source"] or "")
        cross: dict[str, list[CrossReaction]] = defaultdict(list)
        for row in store.edges_frame(RelType.CROSS_REACTS_WITH).iter_rows(named=True):
            refs = tuple(row.get("references") or ())
            a, b = row["source_id"], row["target_id"]
            for x, y in ((a, b), (b, a)):
                cross[x].append(CrossReaction(x, y, row["risk"], row["source"], row.get("description"), refs))
        return cls(
            groups_of_ingredient={k: frozenset(v) for k, v in groups.items()},
            members_of_group={k: frozenset(v) for k, v in members.items()},
            group_names=group_names,
            cross_reactions={k: tuple(v) for k, v in cross.items()},
            membership_source=membership_source,
            group_synonyms=group_synonyms,
            groups_by_xref={code: tuple(groups) for code, groups in by_xref.items()},
        )
