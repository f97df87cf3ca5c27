"""The compiled index answers from memory, and refuses to compile an empty store."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_store.embedded import EmbeddedGraphStore
from knowledge_index.compiled import EmptyGraphError, compile_index
from knowledge_index.hierarchy import Hierarchy
from ontology.schema import GraphSchema
from tests.tiny_graph import tiny_edges, tiny_nodes


def test_hierarchy_closure_follows_every_parent() -> None:
    # A diamond: D is-a B and C, both is-a A.
    h = Hierarchy(parents={"D": ("B", "C"), "B": ("A",), "C": ("A",)})
    assert h.ancestors("D") == {"A", "B", "C"}
    assert h.ancestors("A") == frozenset()
    assert h.is_a("D", "A") and h.is_a("D", "D") and not h.is_a("A", "D")
    assert h.with_ancestors(["B", "X"]) == {"A", "B", "X"}


def test_compiled_index_answers_after_the_store_is_gone(tmp_path: Path, schema: GraphSchema) -> None:
    store = EmbeddedGraphStore(tmp_path / "graph", schema)
    store.replace_graph(tiny_nodes(), tiny_edges(), {"source.tiny": "1"})
    index = compile_index(store, schema)
    store.close()
    for child in (tmp_path / "graph").rglob("*.parquet"):
        child.unlink()  # the hot path must not read the store again

    assert index.metadata == {"source.tiny": "1"}
    assert index.phenotype_hierarchy.ancestors("HP:0001250") == {"HP:0000707", "HP:0000118"}
    hits = index.interactions.lookup("RXNORM:11289", "RXNORM:4450", index.drug_classes)
    assert {h.source for h in hits} == {"onc_high_priority@2012", "ansm_thesaurus@2020-10"}
    assert "ATC:J02AC" in index.drug_classes.classes_of("RXNORM:4450")
    assert index.conditions.map_coding("http://www.omim.org", "100001").curies == ("OMIM:100001",)
    assert not index.conditions.map_coding("http://www.omim.org", "999999").mapped


def test_an_empty_store_cannot_be_compiled(tmp_path: Path, schema: GraphSchema) -> None:
    with pytest.raises(EmptyGraphError, match="run `kgcds load` first"):
        compile_index(EmbeddedGraphStore(tmp_path, schema), schema)
