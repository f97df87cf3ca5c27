"""Smoke test on the real HPO (the hpo3 package's compiled release): one store build, a known clinical answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from ddx_ranker.engine import DdxEngine
from ddx_ranker.models import PatientFindings
from graph_loader.adapters.hpo import Hpo3Adapter
from graph_loader.pipeline import load_graph
from graph_store.embedded import EmbeddedGraphStore
from knowledge_index.phenotype import PhenotypeIndex
from ontology.schema import GraphSchema

MARFAN_FEATURES = (
    "HP:0001166",  # arachnodactyly
    "HP:0001083",  # ectopia lentis
    "HP:0002616",  # aortic root aneurysm
    "HP:0000098",  # tall stature
    "HP:0001065",  # striae distensae
    "HP:0000767",  # pectus excavatum
)


@pytest.mark.slow
def test_marfan_features_rank_marfan_syndrome_in_the_top_ten(tmp_path: Path, schema: GraphSchema) -> None:
    store = EmbeddedGraphStore(tmp_path / "graph", schema)
    load_graph(store, [Hpo3Adapter.load()], schema)
    index = PhenotypeIndex.from_store(store)
    assert index.n_diseases > 12_000 and index.n_terms > 19_000
    engine = DdxEngine.compile(index)
    for ranker in ("lr", "resnik"):
        differential = engine.differential(PatientFindings(observed=MARFAN_FEATURES), top_k=10, ranker=ranker)
        assert "OMIM:154700" in [r.disease_id for r in differential.results], ranker
    marfan = next(r for r in differential.results if r.disease_id == "OMIM:154700")
    assert marfan.explanation is not None
    assert {m.finding for m in marfan.explanation.matched} >= {"HP:0001166", "HP:0001083", "HP:0002616"}
    assert differential.next_findings, "the leading candidates differ in features worth checking"
