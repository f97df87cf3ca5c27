"""Export a store's whole graph as RDF, streaming node by node (see :mod:`ontology.rdf_export`)."""

from __future__ import annotations

import os
from pathlib import Path

from graph_store.contract import GraphStore
from ontology.rdf_export import ExportCounts, RdfFormat, export_rdf
from ontology.schema import GraphSchema


def export_store(store: GraphStore, schema: GraphSchema, path: Path, fmt: RdfFormat) -> ExportCounts:
    """Write the store's graph to ``path``; a failed export leaves no half-written file behind."""
    partial = path.with_name(f".{path.name}.partial")
    try:
        with partial.open("w", encoding="utf-8", newline="\n") as out:
            counts = export_rdf(schema, store.iter_nodes(), store.iter_edges(), out, fmt, store.metadata())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return counts
