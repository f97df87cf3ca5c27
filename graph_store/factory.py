"""Open the store a settings URI names."""

from __future__ import annotations

from pathlib import Path

from graph_store.contract import GraphStore
from graph_store.embedded import EmbeddedGraphStore
from ontology.schema import GraphSchema

BOLT_SCHEMES = ("bolt://", "bolt+s://", "bolt+ssc://", "neo4j://", "neo4j+s://", "neo4j+ssc://")


def open_embedded(path: Path, schema: GraphSchema) -> GraphStore:
    return EmbeddedGraphStore(path, schema)
