"""The graph store contract every backend implements, and the one compliance suite in
``tests/store_contract.py`` checks.

Stores receive rows the loader already validated; they own persistence, atomicity
and queries, not validation.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from enum import StrEnum
from typing import Protocol, runtime_checkable

import polars as pl

from graph_loader.rows import EdgeRow, NodeRow
from ontology.vocab import Label, RelType


class StoreError(RuntimeError):
    """A store could not do what was asked; the message names the store and the cause."""


class Direction(StrEnum):
    OUT = "out"
    IN = "in"
    BOTH = "both"


@runtime_checkable
class GraphStore(Protocol):
    """A property graph of schema-valid nodes and edges."""

    @property
    def description(self) -> str:
        """Where the store is (a path or a server URI), for messages; never includes secrets."""
        ...

    def replace_graph(self, nodes: Iterable[NodeRow], edges: Iterable[EdgeRow], metadata: dict[str, str]) -> None:
        """Atomically replace the whole graph. If anything fails, the previous graph stays readable as it was."""
        ...

    def upsert(self, nodes: Iterable[NodeRow], edges: Iterable[EdgeRow]) -> None:
        """Merge nodes and edges into the graph by id (nodes) and key (edges); idempotent.

        Endpoints of each edge must exist after the nodes are merged, else :class:`StoreError`.
        """
        ...

    def get_node(self, node_id: str) -> NodeRow | None: ...

    def neighbours(
        self, node_id: str, rel_type: RelType | None = None, direction: Direction = Direction.OUT
    ) -> list[NodeRow]:
        """Nodes one hop away, sorted by id."""
        ...

    def shortest_path(self, source_id: str, target_id: str, max_hops: int = 6) -> list[str] | None:
        """Node ids along a shortest path ignoring direction, or None."""
        ...

    def node_counts(self) -> dict[str, int]:
        """Nodes per label; labels with no nodes are omitted."""
        ...

    def relationship_counts(self) -> dict[str, int]: ...

    def iter_nodes(self, label: Label | None = None) -> Iterator[NodeRow]: ...

    def iter_edges(self, rel_type: RelType | None = None) -> Iterator[EdgeRow]: ...

    def nodes_frame(self, label: Label) -> pl.DataFrame:
        """One row per node: ``id`` and one column per schema property of the label."""
        ...

    def edges_frame(self, rel_type: RelType) -> pl.DataFrame:
        """One row per edge: ``source_id``, ``target_id`` and one column per schema property of the type
        (the ``source`` column is the dataset that asserted the edge)."""
        ...

    def metadata(self) -> dict[str, str]:
        """What the last :meth:`replace_graph` recorded (source versions, build time)."""
        ...

    def close(self) -> None: ...
