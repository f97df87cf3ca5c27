"""Run adapters, validate their rows, and hand one consistent graph to a store."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import polars as pl

from graph_loader.adapter import SourceAdapter, source_tag
from graph_loader.report import LoadReport, SourceReport, UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow
from graph_loader.validate import GraphValidator, ValidatedGraph
from graph_store.contract import GraphStore
from ontology.schema import GraphSchema

ProgressCallback = Callable[[str, int], None]
"""Called with (adapter name, rows read so far) as rows stream in, and with -1 when the adapter is done."""


class LoadError(RuntimeError):
    """A source could not be read at all (missing file, unreadable format); the store is untouched."""


def build_graph(
    adapters: Sequence[SourceAdapter],
    schema: GraphSchema,
    progress: ProgressCallback | None = None,
) -> tuple[ValidatedGraph, LoadReport]:
    report = LoadReport()
    validator = GraphValidator(schema, report)
    for adapter in adapters:
        started = time.perf_counter()
        src = SourceReport(name=adapter.name, version=adapter.version)
        count = 0
        try:
            for row in adapter.rows():
                count += 1
                if isinstance(row, NodeRow):
                    src.nodes += 1
                    validator.add_node(row)
                elif isinstance(row, EdgeRow):
                    src.edges += 1
                    validator.add_edge(row)
                elif isinstance(row, UnmappedReference):
                    report.unmapped.append(row)
                if progress is not None and count % 5000 == 0:
                    progress(adapter.name, count)
        except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
            raise LoadError(f"source {source_tag(adapter)} could not be read: {exc}") from exc
        src.seconds = time.perf_counter() - started
        report.sources[adapter.name] = src
        if progress is not None:
            progress(adapter.name, -1)
    return validator.finish(), report


def load_graph(
    store: GraphStore,
    adapters: Sequence[SourceAdapter],
    schema: GraphSchema,
    progress: ProgressCallback | None = None,
) -> LoadReport:
    """Build the whole graph in memory, then replace the store's graph in one atomic step."""
    graph, report = build_graph(adapters, schema, progress)
    metadata = {
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "schema_version": schema.version,
        **{f"source.{name}": s.version for name, s in report.sources.items()},
    }
    store.replace_graph(graph.nodes.values(), graph.edges, metadata)
    return report
