"""Gather a whole graph before a store replaces its own: every store does the same checks."""

from __future__ import annotations

from collections.abc import Iterable

from graph_loader.rows import EdgeRow, NodeRow
from graph_store.contract import StoreError
from ontology.schema import GraphSchema


def collect_graph(
    nodes: Iterable[NodeRow], edges: Iterable[EdgeRow], schema: GraphSchema, where: str
) -> tuple[dict[str, NodeRow], list[EdgeRow]]:
    """Nodes by id and edges by key (last one wins), refusing any edge whose endpoint is missing.

    Raises :class:`StoreError` naming ``where`` (the store) before anything is written.
    """
    node_map: dict[str, NodeRow] = {}
    for n in nodes:
        node_map[n.id] = n
    edge_map: dict[tuple[str, ...], EdgeRow] = {}
    for e in edges:
        if e.source not in node_map or e.target not in node_map:
            raise StoreError(f"{where}: edge {e.source}-[{e.type}]->{e.target} has a missing endpoint")
        edge_map[e.key(schema.relationships[e.type].key)] = e
    return node_map, list(edge_map.values())
