"""Graph stores: one contract (:class:`GraphStore`), an embedded default and a Neo4j/Bolt implementation."""

from graph_store.contract import Direction, GraphStore, StoreError

__all__ = ["Direction", "GraphStore", "StoreError"]
