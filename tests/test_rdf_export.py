"""RDF export: the tiny graph written from a store, parsed back with rdflib."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from rdflib import RDF, RDFS, Graph, Literal, Namespace, URIRef
from rdflib.namespace import OWL

from graph_store.embedded import EmbeddedGraphStore
from graph_store.rdf_export import export_store
from kgcds.cli import main
from ontology.rdf_export import RdfFormat, export_rdf
from ontology.schema import GraphSchema
from tests.tiny_graph import ANSM, ONC, tiny_edges, tiny_nodes

KG = Namespace("https://w3id.org/kgcds/schema#")
HP = Namespace("http://purl.obolibrary.org/obo/HP_")
OMIM = Namespace("https://omim.org/entry/")
RXNORM = Namespace("http://purl.bioontology.org/ontology/RXNORM/")


@pytest.fixture
def tiny_store(tmp_path: Path, schema: GraphSchema) -> EmbeddedGraphStore:
    store = EmbeddedGraphStore(tmp_path / "graph", schema)
    store.replace_graph(tiny_nodes(), tiny_edges(), {"source.hpo": "test"})
    return store


@pytest.mark.parametrize("fmt", ["turtle", "nt"])
def test_tiny_graph_round_trips_through_rdflib(
    tiny_store: EmbeddedGraphStore, schema: GraphSchema, tmp_path: Path, fmt: RdfFormat
) -> None:
    out = tmp_path / f"graph.{fmt}"
    counts = export_store(tiny_store, schema, out, fmt)
    g = Graph()
    g.parse(out, format=fmt)
    assert counts.nodes == len(tiny_nodes()) and counts.edges == len(tiny_edges())
    assert counts.triples == len(g), "every written triple is parsed back, none duplicated"

    seizure, epilepsy, warfarin, fluconazole = HP["0001250"], OMIM["100001"], RXNORM["11289"], RXNORM["4450"]
    assert (seizure, RDF.type, KG.Phenotype) in g
    assert (epilepsy, RDF.type, KG.Disease) in g
    assert (seizure, KG.name, Literal("Seizure")) in g
    assert set(g.objects(seizure, KG.synonyms)) == {Literal("Epileptic seizure"), Literal("Seizures")}
    assert (seizure, KG.ic, Literal(3.5)) in g
    assert (seizure, RDFS.label, Literal("Seizure")) in g
    assert (seizure, KG.IS_A, HP["0000707"]) in g
    assert (epilepsy, KG.HAS_PHENOTYPE, seizure) in g
    # The schema ontology travels with the data.
    assert (KG.Disease, RDF.type, OWL.Class) in g
    assert (URIRef("https://w3id.org/kgcds/graph"), OWL.imports, URIRef("https://w3id.org/kgcds/schema")) in g

    # Edge properties live on the reified statement; two sources give two statements.
    phenotype_statements = list(g.subjects(RDF.predicate, KG.HAS_PHENOTYPE))
    freq = [g.value(s, KG.frequency) for s in phenotype_statements if g.value(s, RDF.subject) == epilepsy]
    assert [f.toPython() for f in freq if f is not None] == [0.9]
    interactions = [s for s in g.subjects(RDF.predicate, KG.INTERACTS_WITH) if g.value(s, RDF.object) == fluconazole]
    assert {str(g.value(s, KG.source)): str(g.value(s, KG.severity)) for s in interactions} == {
        ONC: "major",
        ANSM: "moderate",
    }
    assert all(g.value(s, RDF.subject) == warfarin for s in interactions)
    assert (warfarin, KG.INTERACTS_WITH, fluconazole) in g


def test_export_is_deterministic_and_escapes_text(schema: GraphSchema) -> None:
    nodes = tiny_nodes()
    nodes[4] = type(nodes[4])(nodes[4].label, nodes[4].id, {"name": 'Toy "epilepsy"\nline two \\ end'})
    first, second = io.StringIO(), io.StringIO()
    export_rdf(schema, nodes, tiny_edges(), first, "nt")
    export_rdf(schema, nodes, tiny_edges(), second, "nt")
    assert first.getvalue() == second.getvalue()
    g = Graph().parse(data=first.getvalue(), format="nt")
    assert g.value(OMIM["100001"], KG.name) == Literal('Toy "epilepsy"\nline two \\ end')


def test_cli_export_writes_turtle(tiny_store: EmbeddedGraphStore, tmp_path: Path) -> None:
    out = tmp_path / "graph.ttl"
    result = CliRunner().invoke(main, ["export", "--store", str(tiny_store.root), "--format", "turtle", str(out)])
    assert result.exit_code == 0, result.output
    assert "11 nodes, 10 edges" in result.output
    assert (HP["0001250"], RDF.type, KG.Phenotype) in Graph().parse(out, format="turtle")


def test_cli_export_refuses_missing_directory(tiny_store: EmbeddedGraphStore, tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["export", "--store", str(tiny_store.root), str(tmp_path / "no" / "g.ttl")])
    assert result.exit_code == 2
    assert "FILE" in result.output
