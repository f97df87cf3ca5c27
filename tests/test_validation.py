"""Loader validation: bad rows are refused with a reason naming the field; good rows merge."""

from __future__ import annotations

from graph_loader.report import LoadReport
from graph_loader.rows import EdgeRow, NodeRow
from graph_loader.validate import GraphValidator
from ontology.schema import GraphSchema
from ontology.vocab import Label, RelType


def _validator(schema: GraphSchema) -> tuple[GraphValidator, LoadReport]:
    report = LoadReport()
    return GraphValidator(schema, report), report


def test_missing_required_property_is_refused_by_name(schema: GraphSchema) -> None:
    v, report = _validator(schema)
    v.add_node(NodeRow(Label.DRUG, "RXNORM:11289", {"synonyms": ["Coumadin"]}, origin="rxnorm:12"))
    assert v.finish().nodes == {}
    [row] = report.rejected
    assert row.origin == "rxnorm:12"
    assert "name" in row.reason and "missing" in row.reason


def test_wrong_prefix_type_and_enum_are_refused(schema: GraphSchema) -> None:
    v, report = _validator(schema)
    v.add_node(NodeRow(Label.PHENOTYPE, "OMIM:100001", {"name": "x"}, origin="a:1"))
    v.add_node(NodeRow(Label.DRUG, "warfarin", {"name": "warfarin"}, origin="a:2"))
    v.add_node(NodeRow(Label.DRUG_PRODUCT, "RXNORM:1", {"name": "x", "tty": "XYZ"}, origin="a:3"))
    v.add_node(NodeRow(Label.PHENOTYPE, "HP:0000001", {"name": "All", "ic": "high"}, origin="a:4"))
    v.add_node(NodeRow(Label.DRUG, "RXNORM:2", {"name": "x", "colour": "red"}, origin="a:5"))
    reasons = {r.origin: r.reason for r in report.rejected}
    assert "prefix 'OMIM' not allowed for Phenotype" in reasons["a:1"]
    assert "not a CURIE" in reasons["a:2"]
    assert "tty must be one of" in reasons["a:3"]
    assert "ic must be a number" in reasons["a:4"]
    assert "'colour' is not in the schema" in reasons["a:5"]


def test_dangling_edges_and_wrong_endpoint_labels_are_refused(schema: GraphSchema) -> None:
    v, report = _validator(schema)
    v.add_node(NodeRow(Label.DRUG, "RXNORM:11289", {"name": "warfarin"}, origin="d:1"))
    v.add_node(NodeRow(Label.PHENOTYPE, "HP:0001250", {"name": "Seizure"}, origin="h:1"))
    v.add_edge(EdgeRow(RelType.TREATS, "RXNORM:11289", "DOID:9352", {"source": "x@1"}, origin="t:1"))
    v.add_edge(EdgeRow(RelType.HAS_PHENOTYPE, "RXNORM:11289", "HP:0001250", {"source": "x@1"}, origin="t:2"))
    graph = v.finish()
    assert graph.edges == []
    reasons = {r.origin: r.reason for r in report.rejected}
    assert "dangling edge: node DOID:9352 does not exist" in reasons["t:1"]
    assert "Drug->Phenotype not allowed for HAS_PHENOTYPE" in reasons["t:2"]


def test_same_id_from_two_sources_merges_lists(schema: GraphSchema) -> None:
    v, report = _validator(schema)
    v.add_node(NodeRow(Label.DRUG, "RXNORM:11289", {"name": "warfarin", "synonyms": ["Coumadin"]}, origin="rx:1"))
    v.add_node(NodeRow(Label.DRUG, "RXNORM:11289", {"name": "Warfarin", "synonyms": ["Jantoven"]}, origin="db:9"))
    node = v.finish().nodes["RXNORM:11289"]
    assert node.props["name"] == "warfarin", "first source wins on scalars"
    assert node.props["synonyms"] == ["Coumadin", "Jantoven"]
    assert report.rejected == [] and report.merged_duplicates == 1


def test_conflicting_duplicate_within_one_source_is_refused(schema: GraphSchema) -> None:
    v, report = _validator(schema)
    v.add_node(NodeRow(Label.GENE, "NCBIGene:1557", {"symbol": "CYP2C19"}, origin="cpic:3"))
    v.add_node(NodeRow(Label.GENE, "NCBIGene:1557", {"symbol": "CYP2C9"}, origin="cpic:8"))
    assert v.finish().nodes["NCBIGene:1557"].props["symbol"] == "CYP2C19"
    [row] = report.rejected
    assert row.origin == "cpic:8" and "duplicate id: first given at cpic:3" in row.reason


def test_symmetric_edges_are_stored_once_per_source(schema: GraphSchema) -> None:
    v, _ = _validator(schema)
    for nid, name in (("RXNORM:11289", "warfarin"), ("RXNORM:4450", "fluconazole")):
        v.add_node(NodeRow(Label.DRUG, nid, {"name": name}))
    ddi = {"source": "onc@2012", "severity": "major", "description": "bleeding"}
    v.add_edge(EdgeRow(RelType.INTERACTS_WITH, "RXNORM:4450", "RXNORM:11289", ddi))
    v.add_edge(EdgeRow(RelType.INTERACTS_WITH, "RXNORM:11289", "RXNORM:4450", ddi))
    v.add_edge(EdgeRow(RelType.INTERACTS_WITH, "RXNORM:4450", "RXNORM:11289", {**ddi, "source": "ansm@2020"}))
    edges = v.finish().edges
    assert len(edges) == 2
    assert all((e.source, e.target) == ("RXNORM:11289", "RXNORM:4450") for e in edges)
