"""Disease course (onset, inheritance) from the HPO annotation file into the index and the learned ranker's features."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from ddx_ranker.engine import DdxEngine
from ddx_ranker.features import FEATURE_NAMES, candidate_features
from ddx_ranker.models import PatientFindings
from ddx_ranker.scoring import prepare
from graph_loader.adapters.hpo import HpoFilesAdapter
from graph_loader.pipeline import build_graph
from knowledge_index.phenotype import INHERITANCE_MODES, PhenotypeIndex
from ontology.schema import GraphSchema
from tests.ddx_tiny_ontology import ATAXIA, CATARACT, tiny_phenotype_index
from tests.test_adapters_hpo import write_release

DRAVET_ONSET = "OMIM:607208\tDravet syndrome\t\tHP:0003593\tOMIM:607208\tTAS\t\t\t\t\tC\tHPO:test[2025-01-01]\n"
NOT_ONSET = "OMIM:154700\tMarfan syndrome\tNOT\tHP:0003577\tPMID:9\tPCS\t\t\t\t\tC\tHPO:test[2025-01-01]\n"


@pytest.fixture(scope="module")
def index() -> PhenotypeIndex:
    return tiny_phenotype_index()


def test_release_files_put_onset_and_inheritance_on_the_disease(tmp_path: Path, schema: GraphSchema) -> None:
    directory = write_release(tmp_path / "hpo")
    with (directory / "phenotype.hpoa").open("a", encoding="utf-8") as hpoa:
        hpoa.write(DRAVET_ONSET + NOT_ONSET)
    graph, report = build_graph([HpoFilesAdapter.from_dir(directory)], schema)
    assert report.rejected == []
    dravet = graph.nodes["OMIM:607208"].props
    assert dravet["onset"] == "HP:0003593"  # infantile onset
    assert dravet["inheritance"] == "HP:0000007"
    assert "onset" not in graph.nodes["OMIM:154700"].props, "a NOT onset row states no onset"
    assert "inheritance" not in graph.nodes["ORPHA:558"].props
    phenotype_targets = {e.target for e in graph.edges if e.source == "OMIM:607208"}
    assert "HP:0003593" not in phenotype_targets and "HP:0000007" not in phenotype_targets


def test_index_keeps_onset_range_and_inheritance_flags(index: PhenotypeIndex) -> None:
    ids = ("OMIM:100002", "OMIM:100004", "OMIM:100001")
    eye_heart, cataract_ataxia, seizure_ataxia = (index.disease_index[d] for d in ids)
    assert list(index.onset_range[eye_heart]) == [1.0, 1.0]  # congenital
    assert list(index.onset_range[cataract_ataxia]) == [6.0, 7.0]  # adult to middle age
    assert np.isnan(index.onset_range[seizure_ataxia]).all()
    modes = list(INHERITANCE_MODES)
    assert index.inheritance[eye_heart, modes.index("x_linked")] == 1.0
    assert index.inheritance[eye_heart, modes.index("x_linked_recessive")] == 1.0
    assert index.inheritance[cataract_ataxia, modes.index("autosomal_recessive")] == 1.0
    assert index.inheritance[seizure_ataxia, -1] == 0.0, "no inheritance stated"


def test_age_and_sex_reach_the_features(index: PhenotypeIndex) -> None:
    engine = DdxEngine.compile(index)
    diseases = np.array([index.disease_index[d] for d in ("OMIM:100002", "OMIM:100004")], dtype=np.int64)

    def features(age: str | None, sex: str | None) -> dict[str, np.ndarray]:
        prepared = prepare(index, PatientFindings(observed=(CATARACT, ATAXIA), age_range=age, sex=sex))
        matrix = candidate_features(engine.scorer, prepared, engine.scorer.score(prepared), diseases)
        return {name: matrix[:, j] for j, name in enumerate(FEATURE_NAMES)}

    girl = features("child", "female")
    assert list(girl["patient_age"]) == [4.0, 4.0]
    # a child is past a congenital onset but not yet at an adult one
    assert list(girl["age_minus_earliest_onset"]) == [3.0, -2.0]
    assert list(girl["x_linked_recessive_in_female"]) == [1.0, 0.0]
    boy = features("child", "male")
    assert list(boy["x_linked_recessive_in_female"]) == [0.0, 0.0]
    assert list(boy["patient_male"]) == [1.0, 1.0]
    unknown = features(None, None)
    assert all(math.isnan(v) for v in unknown["patient_age"]) and all(math.isnan(v) for v in unknown["patient_male"])


def test_a_graph_without_disease_course_is_reported_when_the_learned_ranker_is_loaded(
    index: PhenotypeIndex, caplog: pytest.LogCaptureFixture
) -> None:
    import dataclasses

    from ddx_ranker.learned import LearnedRanker

    model = LearnedRanker.shipped()
    with caplog.at_level("WARNING", logger="kgcds.ddx"):
        DdxEngine.compile(index, model)
    assert not [r for r in caplog.records if "inheritance" in r.getMessage()]
    old_store = dataclasses.replace(index, inheritance=np.zeros_like(index.inheritance))
    with caplog.at_level("WARNING", logger="kgcds.ddx"):
        DdxEngine.compile(old_store, model)
    assert any("kgcds load" in r.getMessage() for r in caplog.records)
