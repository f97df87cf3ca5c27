"""Ranking on the tiny hand-made ontology (tests/ddx_tiny_ontology.py), where the right answers are known."""

from __future__ import annotations

import pytest

from ddx_ranker.engine import DdxEngine, RankerUnavailable, rank
from ddx_ranker.models import PatientFindings
from ddx_ranker.scoring import ScoringParams, prepare
from knowledge_index.phenotype import PhenotypeIndex
from tests.ddx_tiny_ontology import (
    ASD,
    ATAXIA,
    CATARACT,
    FEBRILE,
    FOCAL,
    NERVOUS,
    NYSTAGMUS,
    SEIZURE,
    VSD,
    tiny_phenotype_index,
)


@pytest.fixture(scope="module")
def index() -> PhenotypeIndex:
    return tiny_phenotype_index()


@pytest.fixture(scope="module")
def engine(index: PhenotypeIndex) -> DdxEngine:
    return DdxEngine.compile(index)


def top(engine: DdxEngine, observed: list[str], excluded: list[str] = (), ranker: str = "lr") -> list[str]:  # type: ignore[assignment]
    findings = PatientFindings(observed=tuple(observed), excluded=tuple(excluded))
    return [r.disease_id for r in engine.differential(findings, top_k=5, ranker=ranker).results]  # type: ignore[arg-type]


def test_the_disease_with_every_finding_ranks_first(engine: DdxEngine) -> None:
    assert top(engine, [FOCAL, ATAXIA])[0] == "OMIM:100001"
    assert top(engine, [CATARACT, ATAXIA])[0] == "OMIM:100004"
    assert top(engine, [VSD, ASD])[0] == "ORPHA:500"


def test_an_exclusion_moves_the_ranking(engine: DdxEngine) -> None:
    assert top(engine, [ATAXIA])[0] == "OMIM:100001"
    # Seizure-ataxia syndrome shows focal seizures in 90%: excluding seizures argues against it.
    assert top(engine, [ATAXIA], excluded=[SEIZURE])[0] == "OMIM:100004"


def test_specific_match_beats_related_and_related_beats_unrelated(engine: DdxEngine) -> None:
    findings = PatientFindings(observed=(FOCAL,))
    ranking = engine.order(findings, "lr")
    position = {engine.index.disease_ids[d]: i for i, d in enumerate(ranking.order.tolist())}
    assert position["OMIM:100001"] < position["OMIM:100003"] < position["OMIM:100002"]


def test_resnik_uses_the_most_informative_common_ancestor(engine: DdxEngine) -> None:
    index = engine.index
    scores = engine.scorer.score(prepare(index, PatientFindings(observed=(FOCAL,))))
    resnik = {d: scores.resnik[i] for i, d in enumerate(index.disease_ids)}
    assert resnik["OMIM:100001"] == pytest.approx(index.ic[index.term_index[FOCAL]])
    assert resnik["OMIM:100003"] == pytest.approx(index.ic[index.term_index[SEIZURE]])
    assert resnik["OMIM:100002"] == pytest.approx(0.0)
    assert top(engine, [FOCAL], ranker="resnik")[0] == "OMIM:100001"


def test_prepare_keeps_most_specific_findings_and_reports_unknown_terms(index: PhenotypeIndex) -> None:
    prepared = prepare(index, PatientFindings(observed=(SEIZURE, FOCAL, NERVOUS, "HP:9999999"), excluded=(SEIZURE,)))
    assert [index.term_ids[t] for t in prepared.observed] == [FOCAL]
    assert prepared.excluded.size == 0, "an exclusion contradicted by an observation is dropped"
    assert prepared.unknown == ("HP:9999999",)


def test_absent_typical_findings_cost_only_when_weighted(index: PhenotypeIndex) -> None:
    findings = prepare(index, PatientFindings(observed=(CATARACT,)))
    quiet = DdxEngine.compile(index, params=ScoringParams(absent_weight=0.0)).scorer.score(findings)
    strict = DdxEngine.compile(index, params=ScoringParams(absent_weight=0.5)).scorer.score(findings)
    eye_heart = index.disease_index["OMIM:100002"]
    assert quiet.absent_log_lr[eye_heart] == pytest.approx(0.0)
    assert strict.absent_log_lr[eye_heart] < quiet.absent_log_lr[eye_heart]


def test_explanation_lists_matches_absences_and_contradictions(engine: DdxEngine) -> None:
    findings = PatientFindings(observed=(FOCAL, CATARACT), excluded=(NYSTAGMUS,))
    results = {r.disease_id: r for r in engine.differential(findings, top_k=5, ranker="lr").results}
    explanation = results["OMIM:100001"].explanation
    assert explanation is not None
    assert [(m.finding, m.annotation, m.match) for m in explanation.matched] == [(FOCAL, FOCAL, "exact")]
    assert [m.finding for m in explanation.unexplained] == [CATARACT]
    assert [e.term for e in explanation.expected_absent] == [ATAXIA]
    assert [e.term for e in explanation.excluded_against] == [NYSTAGMUS]


def test_expected_findings_that_were_not_reported_are_listed(engine: DdxEngine) -> None:
    findings = PatientFindings(observed=(FOCAL,))
    result = next(
        r for r in engine.differential(findings, top_k=5, ranker="lr").results if r.disease_id == "OMIM:100001"
    )
    assert result.explanation is not None
    assert [e.term for e in result.explanation.expected_absent] == [ATAXIA]


def test_general_finding_matches_a_more_specific_annotation(engine: DdxEngine) -> None:
    findings = PatientFindings(observed=(SEIZURE,))
    results = {r.disease_id: r for r in engine.differential(findings, top_k=5, ranker="lr").results}
    febrile = results["OMIM:100003"].explanation
    assert febrile is not None
    assert [(m.annotation, m.match) for m in febrile.matched] == [(FEBRILE, "annotation more specific")]


def test_next_findings_separate_the_leading_candidates(engine: DdxEngine) -> None:
    differential = engine.differential(PatientFindings(observed=(ATAXIA,)), top_k=5, ranker="lr")
    suggested = [f.term for f in differential.next_findings]
    # Cataract (0.9 in one, 0 in the other) and focal seizures split the two ataxia syndromes.
    assert set(suggested[:2]) == {CATARACT, FOCAL}
    assert ATAXIA not in suggested


def test_lr_probabilities_sum_to_one(engine: DdxEngine) -> None:
    ranking = engine.order(PatientFindings(observed=(ATAXIA,)), "lr")
    assert ranking.probabilities is not None
    assert ranking.probabilities.sum() == pytest.approx(1.0)
    assert ranking.probabilities[0] == ranking.probabilities.max()


def test_genes_are_ignored_unless_asked_for(engine: DdxEngine) -> None:
    findings = PatientFindings(observed=(CATARACT, ATAXIA), genes=("scn1a",))
    assert engine.order(findings, "lr").order[0] == engine.index.disease_index["OMIM:100004"]
    assert engine.order(findings, "lr", use_genes=True).order[0] == engine.index.disease_index["OMIM:100001"]


def test_learned_ranker_needs_a_model(engine: DdxEngine) -> None:
    with pytest.raises(RankerUnavailable):
        engine.order(PatientFindings(observed=(ATAXIA,)), "learned")


def test_rank_function_accepts_a_bare_index(index: PhenotypeIndex) -> None:
    results = rank(index, PatientFindings(observed=(FOCAL, ATAXIA)), top_k=2)
    assert [r.rank for r in results] == [1, 2]
    assert results[0].disease_id == "OMIM:100001"
    assert results[0].explanation is not None


def test_rendered_detail_names_matches_and_contradictions(engine: DdxEngine) -> None:
    from ddx_ranker.render import detail_markdown, disease_url, next_findings_markdown, summary

    findings = PatientFindings(observed=(FOCAL, CATARACT), excluded=(NYSTAGMUS,))
    differential = engine.differential(findings, top_k=3, ranker="lr")
    first = next(r for r in differential.results if r.disease_id == "OMIM:100001")
    text = detail_markdown(first)
    assert "Focal-onset seizure" in text and "does not explain:\n- Cataract" in text
    assert "argue against it:\n- Nystagmus (seen in 30% of patients)" in text
    assert summary(first).startswith(f"#{first.rank} Seizure-ataxia syndrome (post-test probability")
    assert disease_url("OMIM:100001") == "https://omim.org/entry/100001"
    assert next_findings_markdown(differential).startswith("Findings worth checking")
