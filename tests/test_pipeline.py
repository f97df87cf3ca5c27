"""The load pipeline: idempotent, atomic, and every refused row reported."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from graph_loader.adapter import Row
from graph_loader.pipeline import LoadError, load_graph
from graph_loader.report import UnmappedReference
from graph_loader.rows import NodeRow
from graph_store.embedded import EmbeddedGraphStore
from ontology.schema import GraphSchema
from ontology.vocab import Label
from tests.tiny_graph import tiny_edges, tiny_nodes


@dataclass
class ListAdapter:
    """An adapter over rows held in memory; ``fail_after`` simulates a source that breaks mid-read."""

    name: str
    version: str
    items: list[Row] = field(default_factory=list)
    fail_after: int | None = None

    def rows(self) -> Iterator[Row]:
        for i, row in enumerate(self.items):
            if self.fail_after is not None and i >= self.fail_after:
                raise OSError(f"{self.name}: truncated file")
            yield row


def _tiny_adapter() -> ListAdapter:
    return ListAdapter("tiny", "1", [*tiny_nodes(), *tiny_edges()])


def test_loading_twice_gives_the_same_graph(tmp_path: Path, schema: GraphSchema) -> None:
    store = EmbeddedGraphStore(tmp_path, schema)

    def snapshot() -> tuple[object, ...]:
        nodes = sorted((n.id, str(n.props)) for n in store.iter_nodes())
        edges = sorted((e.type, e.source, e.target, str(e.props)) for e in store.iter_edges())
        return store.node_counts(), store.relationship_counts(), nodes, edges

    load_graph(store, [_tiny_adapter()], schema)
    first = snapshot()
    load_graph(store, [_tiny_adapter()], schema)
    assert snapshot() == first
    assert store.metadata()["source.tiny"] == "1"


def test_a_source_failing_mid_load_leaves_the_previous_graph(tmp_path: Path, schema: GraphSchema) -> None:
    store = EmbeddedGraphStore(tmp_path, schema)
    load_graph(store, [_tiny_adapter()], schema)
    before = (store.node_counts(), store.relationship_counts(), store.metadata())
    broken = ListAdapter("extra", "2", [NodeRow(Label.GENE, "NCBIGene:1", {"symbol": "A1BG"})] * 3, fail_after=2)
    with pytest.raises(LoadError, match="extra@2 could not be read: extra: truncated file"):
        load_graph(store, [_tiny_adapter(), broken], schema)
    assert (store.node_counts(), store.relationship_counts(), store.metadata()) == before


def test_refused_rows_and_unmapped_references_are_reported_not_loaded(tmp_path: Path, schema: GraphSchema) -> None:
    store = EmbeddedGraphStore(tmp_path, schema)
    bad = ListAdapter(
        "bad",
        "1",
        [
            NodeRow(Label.DRUG, "RXNORM:1", {}, origin="bad:2"),
            UnmappedReference("bad:3", "Unobtainium", "no ingredient with this name"),
        ],
    )
    report = load_graph(store, [_tiny_adapter(), bad], schema)
    assert [str(r) for r in report.rejected] == ["bad:2: node RXNORM:1: missing required property 'name'"]
    assert report.unmapped[0].value == "Unobtainium"
    assert store.get_node("RXNORM:1") is None
    assert store.node_counts()["Drug"] == 2
    assert report.sources["bad"].nodes == 1
