"""The graph store compliance suite: every store runs these same tests.

A test module subclasses :class:`StoreContract` and provides a ``store`` fixture that
yields an empty store of its kind (see ``test_store_embedded.py`` and ``test_store_bolt.py``).
"""

from __future__ import annotations

import pytest

from graph_loader.rows import EdgeRow, NodeRow
from graph_store.contract import Direction, GraphStore, StoreError
from ontology.vocab import Label, RelType
from tests.tiny_graph import ANSM, ONC, tiny_edges, tiny_nodes

META = {"built_at": "2026-01-01T00:00:00+00:00", "source.test": "1"}


def _load(store: GraphStore) -> None:
    store.replace_graph(tiny_nodes(), tiny_edges(), META)


class StoreContract:
    def test_is_a_graph_store(self, store: GraphStore) -> None:
        assert isinstance(store, GraphStore)
        assert store.description

    def test_empty_store_counts_nothing(self, store: GraphStore) -> None:
        assert store.node_counts() == {}
        assert store.relationship_counts() == {}
        assert store.get_node("HP:0001250") is None

    def test_counts_after_load(self, store: GraphStore) -> None:
        _load(store)
        assert store.node_counts() == {
            "Phenotype": 4,
            "Disease": 2,
            "Gene": 1,
            "Drug": 2,
            "DrugProduct": 1,
            "DrugClass": 1,
        }
        assert store.relationship_counts() == {
            "IS_A": 3,
            "HAS_PHENOTYPE": 2,
            "ASSOCIATED_WITH_GENE": 1,
            "HAS_INGREDIENT": 1,
            "MEMBER_OF_CLASS": 1,
            "INTERACTS_WITH": 2,
        }

    def test_get_node_round_trips_properties(self, store: GraphStore) -> None:
        _load(store)
        seizure = store.get_node("HP:0001250")
        assert seizure is not None
        assert seizure.label == Label.PHENOTYPE
        assert seizure.props["name"] == "Seizure"
        assert seizure.props["synonyms"] == ["Epileptic seizure", "Seizures"]
        assert seizure.props["ic"] == pytest.approx(3.5)
        warfarin = store.get_node("RXNORM:11289")
        assert warfarin is not None and warfarin.props["xrefs"] == ["DRUGBANK:DB00682"]

    def test_neighbours_by_type_and_direction(self, store: GraphStore) -> None:
        _load(store)
        parents = store.neighbours("HP:0001250", RelType.IS_A, Direction.OUT)
        assert [n.id for n in parents] == ["HP:0000707"]
        children = store.neighbours("HP:0000118", RelType.IS_A, Direction.IN)
        assert [n.id for n in children] == ["HP:0000707", "HP:0001626"]
        around = store.neighbours("OMIM:100001", None, Direction.BOTH)
        assert [n.id for n in around] == ["HP:0001250", "NCBIGene:6323"]
        assert store.neighbours("OMIM:100001", RelType.IS_A) == []
        assert store.neighbours("NOPE:1") == []

    def test_interacting_drug_is_found_from_either_side(self, store: GraphStore) -> None:
        _load(store)
        assert [n.id for n in store.neighbours("RXNORM:4450", RelType.INTERACTS_WITH, Direction.BOTH)] == [
            "RXNORM:11289"
        ]

    def test_shortest_path_ignores_direction(self, store: GraphStore) -> None:
        _load(store)
        assert store.shortest_path("HP:0001250", "HP:0001626") == [
            "HP:0001250",
            "HP:0000707",
            "HP:0000118",
            "HP:0001626",
        ]
        assert store.shortest_path("HP:0001250", "HP:0001626", max_hops=2) is None
        assert store.shortest_path("HP:0001250", "RXNORM:4450") is None

    def test_two_sources_for_one_pair_are_two_edges(self, store: GraphStore) -> None:
        _load(store)
        edges = [e for e in store.iter_edges(RelType.INTERACTS_WITH)]
        assert sorted(e.props["source"] for e in edges) == [ANSM, ONC]
        by_source = {e.props["source"]: e for e in edges}
        assert by_source[ONC].props["severity"] == "major"
        assert by_source[ANSM].props["source_language"] == "fr"

    def test_iteration_round_trips_the_graph(self, store: GraphStore) -> None:
        _load(store)
        assert {(n.label, n.id) for n in store.iter_nodes()} == {(n.label, n.id) for n in tiny_nodes()}
        got = {(e.type, e.source, e.target, e.props.get("source")) for e in store.iter_edges()}
        want = {(e.type, e.source, e.target, e.props.get("source")) for e in tiny_edges()}
        assert got == want
        assert [n.id for n in store.iter_nodes(Label.GENE)] == ["NCBIGene:6323"]

    def test_frames_have_schema_columns(self, store: GraphStore) -> None:
        _load(store)
        drugs = store.nodes_frame(Label.DRUG)
        assert {"id", "name", "synonyms", "xrefs"} <= set(drugs.columns)
        assert sorted(drugs["id"].to_list()) == ["RXNORM:11289", "RXNORM:4450"]
        ddi = store.edges_frame(RelType.INTERACTS_WITH)
        assert {"source_id", "target_id", "source", "severity", "description"} <= set(ddi.columns)
        assert ddi.height == 2
        assert store.nodes_frame(Label.CASE).height == 0

    def test_replacing_twice_is_idempotent(self, store: GraphStore) -> None:
        _load(store)
        first = (store.node_counts(), store.relationship_counts())
        _load(store)
        assert (store.node_counts(), store.relationship_counts()) == first

    def test_metadata_round_trips(self, store: GraphStore) -> None:
        _load(store)
        assert store.metadata() == META

    def test_failed_replace_leaves_previous_graph(self, store: GraphStore) -> None:
        _load(store)
        before = (store.node_counts(), store.relationship_counts())
        bad_edges = [*tiny_edges(), EdgeRow(RelType.IS_A, "HP:0001250", "HP:9999999", {"source": "x"})]
        with pytest.raises(StoreError):
            store.replace_graph([NodeRow(Label.GENE, "NCBIGene:1", {"symbol": "A1BG"})], bad_edges, {"x": "y"})
        assert (store.node_counts(), store.relationship_counts()) == before
        assert store.get_node("NCBIGene:1") is None
        assert store.metadata() == META

    def test_upsert_adds_merges_and_is_idempotent(self, store: GraphStore) -> None:
        _load(store)
        new_node = NodeRow(Label.DRUG, "RXNORM:36567", {"name": "simvastatin"})
        new_edge = EdgeRow(
            RelType.INTERACTS_WITH,
            "RXNORM:11289",
            "RXNORM:36567",
            {"source": ONC, "severity": "moderate", "description": "x"},
        )
        renamed = NodeRow(Label.DRUG, "RXNORM:4450", {"name": "fluconazole (renamed)"})
        for _ in range(2):
            store.upsert([new_node, renamed], [new_edge])
        assert store.node_counts()["Drug"] == 3
        assert store.relationship_counts()["INTERACTS_WITH"] == 3
        node = store.get_node("RXNORM:4450")
        assert node is not None and node.props["name"] == "fluconazole (renamed)"

    def test_a_drug_to_drug_moiety_edge_round_trips(self, store: GraphStore) -> None:
        _load(store)
        salt = NodeRow(Label.DRUG, "RXNORM:42351", {"name": "lithium carbonate"})
        moiety = NodeRow(Label.DRUG, "RXNORM:6448", {"name": "lithium"})
        props = {"source": "active_moieties@test", "evidence": "lithium carbonate is a salt of lithium (by name)"}
        store.upsert([salt, moiety], [EdgeRow(RelType.HAS_ACTIVE_MOIETY, "RXNORM:42351", "RXNORM:6448", props)])
        frame = store.edges_frame(RelType.HAS_ACTIVE_MOIETY)
        assert frame.select("source_id", "target_id", "source", "evidence").rows() == [
            ("RXNORM:42351", "RXNORM:6448", props["source"], props["evidence"])
        ]

    def test_upsert_with_missing_endpoint_fails_cleanly(self, store: GraphStore) -> None:
        _load(store)
        before = store.relationship_counts()
        with pytest.raises(StoreError):
            store.upsert([], [EdgeRow(RelType.TREATS, "RXNORM:11289", "OMIM:999999", {"source": "x"})])
        assert store.relationship_counts() == before
