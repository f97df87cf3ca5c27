"""Read each table of a store once per compile.

Several index parts need the same tables (the IS_A edges for three hierarchies, the Drug
nodes for the lexicon and the classes). Over Bolt each read streams the table again, so
the compile wraps the store in this cache for its duration.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import polars as pl

from graph_loader.rows import EdgeRow, NodeRow
from graph_store.contract import Direction, GraphStore
from ontology.vocab import Label, RelType


class FrameCachingStore:
    """A read-through view of a store that memoises ``nodes_frame``/``edges_frame``; writes are refused."""

    def __init__(self, store: GraphStore) -> None:
        self._store = store
        self._nodes: dict[Label, pl.DataFrame] = {}
        self._edges: dict[RelType, pl.DataFrame] = {}

    @property
    def description(self) -> str:
        return self._store.description

    def nodes_frame(self, label: Label) -> pl.DataFrame:
        if label not in self._nodes:
            self._nodes[label] = self._store.nodes_frame(label)
        return self._nodes[label]

    def edges_frame(self, rel_type: RelType) -> pl.DataFrame:
        if rel_type not in self._edges:
            self._edges[rel_type] = self._store.edges_frame(rel_type)
        return self._edges[rel_type]

    def replace_graph(self, nodes: Iterable[NodeRow], edges: Iterable[EdgeRow], metadata: dict[str, str]) -> None:
        raise TypeError("the compile-time frame cache is read-only")

    def upsert(self, nodes: Iterable[NodeRow], edges: Iterable[EdgeRow]) -> None:
        raise TypeError("the compile-time frame cache is read-only")

    def get_node(self, node_id: str) -> NodeRow | None:
        return self._store.get_node(node_id)

    def neighbours(
        self, node_id: str, rel_type: RelType | None = None, direction: Direction = Direction.OUT
    ) -> list[NodeRow]:
        return self._store.neighbours(node_id, rel_type, direction)

    def shortest_path(self, source_id: str, target_id: str, max_hops: int = 6) -> list[str] | None:
        return self._store.shortest_path(source_id, target_id, max_hops)

    def node_counts(self) -> dict[str, int]:
        return self._store.node_counts()

    def relationship_counts(self) -> dict[str, int]:
        return self._store.relationship_counts()

    def iter_nodes(self, label: Label | None = None) -> Iterator[NodeRow]:
        return self._store.iter_nodes(label)

    def iter_edges(self, rel_type: RelType | None = None) -> Iterator[EdgeRow]:
        return self._store.iter_edges(rel_type)

    def metadata(self) -> dict[str, str]:
        return self._store.metadata()

    def close(self) -> None:
        self._nodes.clear()
        self._edges.clear()
