"""ICD-10-CM adapter: the whole April 2026 release through the validating pipeline."""

from __future__ import annotations

import pytest

from graph_loader.adapters.icd10cm import Icd10CmAdapter
from graph_loader.pipeline import build_graph
from graph_loader.report import LoadReport
from graph_loader.validate import ValidatedGraph
from ontology.schema import GraphSchema
from ontology.vocab import Label, RelType


@pytest.fixture(scope="module")
def icd_graph() -> tuple[ValidatedGraph, LoadReport]:
    from ontology.schema import load_schema

    return build_graph([Icd10CmAdapter.installed()], load_schema())


def test_release_is_named_from_the_package_data() -> None:
    assert Icd10CmAdapter.installed().version == "2026-04-01"


def test_every_item_loads_without_refusals(icd_graph: tuple[ValidatedGraph, LoadReport]) -> None:
    graph, report = icd_graph
    assert report.rejected == []
    # 98,505 listed items, 39 of them blocks that are also a category of the same name (B10, C7A ...).
    assert len(graph.nodes) == 98_505 - 39
    assert report.merged_duplicates == 0, "the adapter yields each item once"
    assert {n.label for n in graph.nodes.values()} == {Label.DISEASE}
    # Every item but the 22 chapters has exactly one parent.
    assert len(graph.edges) == len(graph.nodes) - 22


def test_hierarchy_runs_code_category_block_chapter(icd_graph: tuple[ValidatedGraph, LoadReport]) -> None:
    graph, _ = icd_graph
    parent = {e.source: e.target for e in graph.edges if e.type == RelType.IS_A}
    chain = ["ICD10CM:E11.9"]
    while chain[-1] in parent:
        chain.append(parent[chain[-1]])
    assert chain == ["ICD10CM:E11.9", "ICD10CM:E11", "ICD10CM:E08-E13", "ICD10CM:E00-E89"]
    assert graph.nodes["ICD10CM:E00-E89"].props["name"].startswith("Endocrine, nutritional and metabolic")
    assert parent["ICD10CM:I48.91"] == "ICD10CM:I48.9"
    assert parent["ICD10CM:O09.90"] == "ICD10CM:O09.9"
    assert "stage 4" in graph.nodes["ICD10CM:N18.4"].props["name"]
    # Single-category blocks hang from their chapter or enclosing block, not from themselves.
    assert parent["ICD10CM:B10"] == "ICD10CM:A00-B99"
    assert parent["ICD10CM:B10.0"] == "ICD10CM:B10"
    assert parent["ICD10CM:C7A"] == parent["ICD10CM:C73-C75"] == "ICD10CM:C00-D49"


def test_ids_fit_the_schema_prefix(schema: GraphSchema, icd_graph: tuple[ValidatedGraph, LoadReport]) -> None:
    graph, _ = icd_graph
    assert "ICD10CM" in schema.nodes[Label.DISEASE].id_prefixes
    assert all(node_id.startswith("ICD10CM:") and " " not in node_id for node_id in graph.nodes)
