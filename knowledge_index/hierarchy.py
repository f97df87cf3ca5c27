"""IS_A hierarchies compiled to parent maps with memoised ancestor closures."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import polars as pl

from graph_store.contract import GraphStore
from ontology.vocab import Label, RelType


@dataclass(frozen=True, slots=True)
class Hierarchy:
    """Parents of each node in one hierarchy; ``ancestors`` is computed once per node and kept.

    Closures are memoised rather than precomputed: ICD-10-CM alone has ~100k codes, and a
    request only ever asks about the handful of codes a patient has.
    """

    parents: Mapping[str, tuple[str, ...]]
    _memo: dict[str, frozenset[str]] = field(default_factory=dict, repr=False, compare=False)

    def ancestors(self, node_id: str) -> frozenset[str]:
        """Every proper ancestor (transitively), not including the node itself."""
        cached = self._memo.get(node_id)
        if cached is not None:
            return cached
        seen: set[str] = set()
        stack = list(self.parents.get(node_id, ()))
        while stack:
            current = stack.pop()
            if current in seen:
                continue
            seen.add(current)
            stack.extend(self.parents.get(current, ()))
        result = frozenset(seen)
        self._memo[node_id] = result
        return result

    def is_a(self, node_id: str, ancestor_id: str) -> bool:
        return node_id == ancestor_id or ancestor_id in self.ancestors(node_id)

    def with_ancestors(self, node_ids: Iterable[str]) -> frozenset[str]:
        out: set[str] = set()
        for nid in node_ids:
            out.add(nid)
            out |= self.ancestors(nid)
        return frozenset(out)

    @classmethod
    def from_store(cls, store: GraphStore, label: Label) -> Hierarchy:
        """The IS_A edges whose child has ``label``."""
        ids = store.nodes_frame(label).select("id")
        edges = store.edges_frame(RelType.IS_A).select("source_id", "target_id")
        edges = edges.join(ids, left_on="source_id", right_on="id", how="semi")
        grouped = edges.group_by("source_id").agg(pl.col("target_id").sort())
        parents = {
            child: tuple(ps)
            for child, ps in zip(grouped["source_id"].to_list(), grouped["target_id"].to_list(), strict=True)
        }
        return cls(parents=parents)
