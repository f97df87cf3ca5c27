"""The evaluation harness and ``kgcds evaluate ddx`` on the tiny ontology, with hand-written phenopackets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ddx_ranker.engine import DdxEngine
from ddx_ranker.learned import LearnedRanker
from ddx_ranker.models import PatientFindings
from evaluation.ddx_eval import candidate_sets, cross_validate, evaluate, load_cases, train_shipped
from graph_store.embedded import EmbeddedGraphStore
from kgcds.cli import main
from knowledge_index.phenotype import PhenotypeIndex
from ontology.schema import GraphSchema
from tests.ddx_tiny_ontology import (
    ASD,
    ATAXIA,
    CATARACT,
    FEBRILE,
    FOCAL,
    SEIZURE,
    VSD,
    tiny_phenotype_index,
    tiny_rows,
)

# (phenopacket id, observed, excluded, diagnosis, gene)
CASES = [
    ("PMID_1_a", [FOCAL, ATAXIA], [], "OMIM:100001", "SCN1A"),
    ("PMID_1_b", [ATAXIA], [SEIZURE], "OMIM:100004", None),
    ("PMID_2_a", [CATARACT, ATAXIA], [], "OMIM:100004", None),
    ("PMID_2_b", [VSD, ASD], [], "ORPHA:500", None),
    ("PMID_3_a", [FEBRILE], [], "OMIM:100003", None),
    ("PMID_3_b", [CATARACT], [], "OMIM:999999", None),  # a diagnosis the graph does not know
]


def phenopacket(pid: str, observed: list[str], excluded: list[str], disease: str, gene: str | None) -> dict[str, Any]:
    features = [{"type": {"id": t, "label": "x"}} for t in observed]
    features += [{"type": {"id": t, "label": "x"}, "excluded": True} for t in excluded]
    genomic = []
    if gene:
        genomic = [
            {
                "subjectOrBiosampleId": "p",
                "interpretationStatus": "CAUSATIVE",
                "variantInterpretation": {"variationDescriptor": {"id": "v", "geneContext": {"symbol": gene}}},
            }
        ]
    return {
        "id": pid,
        "subject": {"id": "p", "sex": "MALE", "timeAtLastEncounter": {"age": {"iso8601duration": "P4Y"}}},
        "phenotypicFeatures": features,
        "interpretations": [{"id": "i", "diagnosis": {"disease": {"id": disease}, "genomicInterpretations": genomic}}],
        "metaData": {"externalReferences": [{"id": "PMID:" + pid.split("_")[1]}]},
    }


@pytest.fixture
def cases_file(tmp_path: Path) -> Path:
    lines = [json.dumps(phenopacket(*c)) for c in CASES] + ['{"id": "PMID_4_x", "phenotypicFeatures": 3}']
    path = tmp_path / "cases.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def index() -> PhenotypeIndex:
    return tiny_phenotype_index()


def test_evaluate_reports_ranks_absent_diagnoses_and_citations(index: PhenotypeIndex, cases_file: Path) -> None:
    cases, errors = load_cases(cases_file)
    assert [(e.line, e.field) for e in errors] == [(7, "phenotypicFeatures")]
    report = evaluate(DdxEngine.compile(index), cases, "lr", errors=errors)
    ranks = {r.id: r.rank for r in report.results}
    assert ranks == {"PMID_1_a": 1, "PMID_1_b": 1, "PMID_2_a": 1, "PMID_2_b": 1, "PMID_3_a": 1, "PMID_3_b": None}
    m = report.metrics
    assert (m.n, m.top1, m.top10, m.absent_share) == (6, round(5 / 6, 4), round(5 / 6, 4), round(1 / 6, 4))
    # Only OMIM:100001 cites PMID:1, so PMID_1_a is the one case whose paper the annotations cite.
    assert [r.id for r in report.results if r.cited] == ["PMID_1_a"]
    assert report.subset(cited=False).n == 5


def test_ties_are_ranked_pessimistically(index: PhenotypeIndex, tmp_path: Path) -> None:
    path = tmp_path / "tie.jsonl"
    # The root term says nothing: every disease ties, so the diagnosis is placed last among them.
    path.write_text(json.dumps(phenopacket("PMID_9_a", ["HP:0000118"], [], "OMIM:100002", None)) + "\n")
    cases, _ = load_cases(path)
    report = evaluate(DdxEngine.compile(index), cases, "resnik")
    assert report.results[0].rank == index.n_diseases


def test_cross_validation_keeps_each_publication_on_one_side(index: PhenotypeIndex, cases_file: Path) -> None:
    cases, _ = load_cases(cases_file)
    engine = DdxEngine.compile(index)
    sets = candidate_sets(engine, cases)
    cv = cross_validate(engine, sets, n_folds=3)
    assert sorted(r.id for r in cv.results) == sorted(c.phenopacket_id for c in cases)
    assert [f["test_publications"] for f in cv.folds] == [1, 1, 1]
    assert sum(f["test_cases"] for f in cv.folds) == len(cases)
    model = train_shipped(sets, cv, index, "cases.jsonl")
    assert model.metadata["publications"] == ["PMID:1", "PMID:2", "PMID:3"]
    assert model.calibrator is not None


def test_a_saved_model_ranks_and_gives_probabilities(index: PhenotypeIndex, cases_file: Path, tmp_path: Path) -> None:
    cases, _ = load_cases(cases_file)
    engine = DdxEngine.compile(index)
    sets = candidate_sets(engine, cases)
    model = train_shipped(sets, cross_validate(engine, sets, n_folds=3), index, "cases.jsonl")
    model.save(tmp_path / "m.joblib")
    learned = DdxEngine.compile(index, LearnedRanker.load(tmp_path / "m.joblib"))
    assert learned.default_ranker == "learned"
    differential = learned.differential(PatientFindings(observed=(FOCAL, ATAXIA)), top_k=3)
    assert differential.ranker == "learned"
    probabilities = [r.probability for r in differential.results]
    assert all(p is not None and 0.0 <= p <= 1.0 for p in probabilities)
    report = evaluate(learned, cases, "learned")
    assert report.trained_on_share == 1.0, "scoring the training cases is flagged as optimistic"


def test_cli_json_output(cases_file: Path, tmp_path: Path, schema: GraphSchema) -> None:
    store_dir = tmp_path / "graph"
    nodes, edges = tiny_rows()
    EmbeddedGraphStore(store_dir, schema).replace_graph(nodes, edges, {"source.hpo": "test"})
    runner = CliRunner()
    args = ["evaluate", "ddx", "--store", str(store_dir), "--cases", str(cases_file), "--ranker", "lr", "--json"]
    result = runner.invoke(main, args)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["n"] == 6 and payload["top1"] == round(5 / 6, 4) and payload["mrr"] == round(5 / 6, 4)
    assert {"id": "PMID_3_b", "truth": "OMIM:999999", "rank": None} in payload["cases"]
    assert payload["errors"] == ["cases.jsonl:7: phenotypicFeatures: expected a list"]
    genes = runner.invoke(main, [*args, "--use-genes"])
    assert json.loads(genes.output)["use_genes"] is True


def test_cli_text_output_writes_a_plot(cases_file: Path, tmp_path: Path, schema: GraphSchema) -> None:
    store_dir = tmp_path / "graph"
    nodes, edges = tiny_rows()
    EmbeddedGraphStore(store_dir, schema).replace_graph(nodes, edges, {})
    plot = tmp_path / "ranks.png"
    args = ["evaluate", "ddx", "--store", str(store_dir), "--cases", str(cases_file), "--ranker", "lr"]
    result = CliRunner().invoke(main, [*args, "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "top-1" in result.output and "83.3%" in result.output
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_cli_refuses_a_store_without_phenotypes(cases_file: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["evaluate", "ddx", "--store", str(tmp_path / "empty"), "--cases", str(cases_file), "--ranker", "lr"]
    )
    assert result.exit_code == 2
    assert "no Phenotype nodes" in result.output
