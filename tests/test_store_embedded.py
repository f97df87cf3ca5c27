"""The store contract suite on the embedded (parquet + networkx) store."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_store.embedded import EmbeddedGraphStore
from ontology.schema import GraphSchema
from tests.store_contract import StoreContract
from tests.tiny_graph import tiny_edges, tiny_nodes


class TestEmbeddedStore(StoreContract):
    @pytest.fixture
    def store(self, tmp_path: Path, schema: GraphSchema) -> Iterator[EmbeddedGraphStore]:
        s = EmbeddedGraphStore(tmp_path / "graph", schema)
        yield s
        s.close()


def test_store_survives_reopening(tmp_path: Path, schema: GraphSchema) -> None:
    EmbeddedGraphStore(tmp_path, schema).replace_graph(tiny_nodes(), tiny_edges(), {})
    reopened = EmbeddedGraphStore(tmp_path, schema)
    assert reopened.node_counts()["Phenotype"] == 4
    assert len(list((tmp_path / "generations").iterdir())) == 1, "old generations are removed after a swap"


def test_crash_while_writing_keeps_previous_generation(tmp_path: Path, schema: GraphSchema) -> None:
    store = EmbeddedGraphStore(tmp_path, schema)
    store.replace_graph(tiny_nodes(), tiny_edges(), {"v": "1"})

    def exploding_nodes() -> Iterator:  # type: ignore[type-arg]
        yield from tiny_nodes()[:3]
        raise OSError("disk full")

    with pytest.raises(OSError):
        store.replace_graph(exploding_nodes(), [], {"v": "2"})
    assert store.metadata() == {"v": "1"}
    assert store.node_counts()["Drug"] == 2
    assert not [p for p in (tmp_path / "generations").iterdir() if p.name.startswith(".tmp")]
