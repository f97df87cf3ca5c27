"""Evaluate the differential-diagnosis rankers on phenopackets, and train the learned ranker honestly.

* :func:`evaluate` ranks every case of a file and reports top-1/3/10 accuracy, mean reciprocal
  rank and the share of cases whose diagnosis is not in the index (their rank is null).
* :func:`cross_validate` trains and scores the learned ranker with folds grouped by publication,
  so one paper's cases are never on both sides, and fits the probability calibration on the
  out-of-fold predictions; :func:`train_shipped` then fits on every case.

Ranks are pessimistic on ties: a diagnosis tied with others is placed after all of them, so a
ranker that scores everything alike gets no credit for a lucky ordering.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import sklearn
from sklearn.model_selection import GroupKFold

from ddx_ranker.engine import DdxEngine, RankerName
from ddx_ranker.features import candidate_features, select_candidates
from ddx_ranker.learned import LearnedRanker, candidate_shares
from ddx_ranker.models import PatientFindings
from ddx_ranker.scoring import prepare
from graph_loader.adapters.phenopackets import DeidentifiedCase, PhenopacketError, read_phenopackets
from knowledge_index.phenotype import FloatArray, IntArray, PhenotypeIndex


def load_cases(path: Path) -> tuple[list[DeidentifiedCase], list[PhenopacketError]]:
    cases: list[DeidentifiedCase] = []
    errors: list[PhenopacketError] = []
    for item in read_phenopackets(path):
        (errors if isinstance(item, PhenopacketError) else cases).append(item)  # type: ignore[arg-type]
    return cases, errors


def findings_of(case: DeidentifiedCase, use_genes: bool = False) -> PatientFindings:
    """The phenotype-only view of a case unless genes are asked for: variants are never read."""
    return PatientFindings(
        observed=case.observed,
        excluded=case.excluded,
        age_range=case.age_range,
        sex=case.sex,
        genes=case.genes if use_genes else (),
    )


def truth_index(index: PhenotypeIndex, case: DeidentifiedCase) -> int | None:
    for disease in case.diagnoses:
        found = index.disease_index.get(disease)
        if found is not None:
            return found
    return None


def is_cited(index: PhenotypeIndex, case: DeidentifiedCase) -> bool:
    """Whether the case's publication is among the annotation references of its diagnosis."""
    return any(case.publication in index.disease_references.get(d, frozenset()) for d in case.diagnoses)


@dataclass(frozen=True)
class CaseResult:
    id: str
    truth: str
    rank: int | None
    publication: str
    cited: bool


@dataclass
class Metrics:
    n: int
    top1: float
    top3: float
    top10: float
    mrr: float
    absent_share: float

    @classmethod
    def of(cls, results: Sequence[CaseResult]) -> Metrics:
        n = len(results)
        if n == 0:
            return cls(0, 0.0, 0.0, 0.0, 0.0, 0.0)
        ranks = [r.rank for r in results if r.rank is not None]

        def share(k: int) -> float:
            return round(sum(r <= k for r in ranks) / n, 4)

        return cls(
            n=n,
            top1=share(1),
            top3=share(3),
            top10=share(10),
            mrr=round(sum(1.0 / r for r in ranks) / n, 4),
            absent_share=round(1 - len(ranks) / n, 4),
        )

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class EvaluationReport:
    ranker: str
    use_genes: bool
    results: list[CaseResult]
    errors: list[PhenopacketError]
    latencies_ms: list[float]
    trained_on_share: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def metrics(self) -> Metrics:
        return Metrics.of(self.results)

    def subset(self, cited: bool) -> Metrics:
        return Metrics.of([r for r in self.results if r.cited == cited])

    def to_json(self) -> dict[str, Any]:
        lat = np.array(self.latencies_ms) if self.latencies_ms else np.zeros(1)
        return {
            **self.metrics.as_dict(),
            "ranker": self.ranker,
            "use_genes": self.use_genes,
            "not_cited": self.subset(cited=False).as_dict(),
            "cited": self.subset(cited=True).as_dict(),
            "latency_ms": {"median": round(float(np.median(lat)), 2), "p99": round(float(np.percentile(lat, 99)), 2)},
            "trained_on_share": self.trained_on_share,
            "errors": [str(e) for e in self.errors],
            **self.extra,
            "cases": [{"id": r.id, "truth": r.truth, "rank": r.rank} for r in self.results],
        }


def pessimistic_rank(order: IntArray, scores: FloatArray, target: int, fallback: FloatArray) -> int:
    """1-based rank of ``target`` placed after every disease scoring the same; beyond a candidate list the
    remaining diseases are ordered by ``fallback`` (the baseline)."""
    hit = np.flatnonzero(order == target)
    if hit.size:
        return int((scores >= scores[hit[0]]).sum())
    outside = np.ones(fallback.size, dtype=bool)
    outside[order] = False
    return int(order.size + (fallback[outside] >= fallback[target]).sum())


def evaluate(
    engine: DdxEngine,
    cases: Sequence[DeidentifiedCase],
    ranker: RankerName,
    use_genes: bool = False,
    errors: Sequence[PhenopacketError] = (),
) -> EvaluationReport:
    index = engine.index
    results: list[CaseResult] = []
    latencies: list[float] = []
    for case in cases:
        started = time.perf_counter()
        ranking = engine.order(findings_of(case, use_genes), ranker, use_genes)
        latencies.append((time.perf_counter() - started) * 1000)
        truth = truth_index(index, case)
        rank = (
            None
            if truth is None
            else pessimistic_rank(ranking.order, ranking.scores, truth, ranking.case_scores.log_lr)
        )
        results.append(
            CaseResult(case.phenopacket_id, case.diagnoses[0], rank, case.publication, is_cited(index, case))
        )
    trained_on = None
    if ranker == "learned" and engine.model is not None:
        seen = set(engine.model.metadata.get("publications", []))
        trained_on = round(sum(c.publication in seen for c in cases) / max(len(cases), 1), 4)
    return EvaluationReport(ranker, use_genes, results, list(errors), latencies, trained_on)


# ---- learned ranker: grouped cross-validation and training --------------------------------


@dataclass(frozen=True)
class CaseCandidates:
    case: DeidentifiedCase
    candidates: IntArray
    features: FloatArray
    labels: FloatArray
    log_lr: FloatArray
    truth: int | None
    cited: bool


def candidate_sets(engine: DdxEngine, cases: Iterable[DeidentifiedCase]) -> list[CaseCandidates]:
    out = []
    for case in cases:
        prepared = prepare(engine.index, findings_of(case))
        scores = engine.scorer.score(prepared)
        candidates = select_candidates(scores)
        truth = truth_index(engine.index, case)
        labels = (candidates == truth).astype(np.float64) if truth is not None else np.zeros(candidates.size)
        features = candidate_features(engine.scorer, prepared, scores, candidates)
        out.append(
            CaseCandidates(case, candidates, features, labels, scores.log_lr, truth, is_cited(engine.index, case))
        )
    return out


def _stack(sets: Sequence[CaseCandidates]) -> tuple[FloatArray, FloatArray]:
    # Every candidate of every case whose diagnosis the index knows. (Sampling 80 negatives per case from a
    # 400-candidate list was tried: no better out of fold, and slower to rank.)
    usable = [s for s in sets if s.truth is not None]
    return np.vstack([s.features for s in usable]), np.concatenate([s.labels for s in usable])


def _score_case(model: LearnedRanker, s: CaseCandidates) -> tuple[CaseResult, FloatArray]:
    raw = model.scores(s.features)
    order = np.argsort(-raw, kind="stable")
    rank = None if s.truth is None else pessimistic_rank(s.candidates[order], raw[order], s.truth, s.log_lr)
    result = CaseResult(s.case.phenopacket_id, s.case.diagnoses[0], rank, s.case.publication, s.cited)
    return result, candidate_shares(raw)


@dataclass
class CrossValidation:
    folds: list[dict[str, Any]]
    results: list[CaseResult]
    oof_shares: FloatArray
    oof_labels: FloatArray

    def to_json(self) -> dict[str, Any]:
        overall = Metrics.of(self.results)
        return {
            "learned": overall.as_dict(),
            "learned_not_cited": Metrics.of([r for r in self.results if not r.cited]).as_dict(),
            "folds": self.folds,
        }


def cross_validate(
    engine: DdxEngine, sets: Sequence[CaseCandidates], n_folds: int = 5, seed: int = 0
) -> CrossValidation:
    groups = np.array([s.case.publication for s in sets])
    splitter = GroupKFold(n_splits=n_folds)
    results: list[CaseResult | None] = [None] * len(sets)
    shares: list[FloatArray] = []
    labels: list[FloatArray] = []
    folds = []
    for fold, (train_idx, test_idx) in enumerate(splitter.split(np.zeros(len(sets)), groups=groups)):
        features, y = _stack([sets[i] for i in train_idx])
        model = LearnedRanker.fit(features, y, {"fold": fold}, seed)
        fold_results = []
        for i in test_idx:
            result, share = _score_case(model, sets[i])
            results[i] = result
            fold_results.append(result)
            shares.append(share)
            labels.append(sets[i].labels)
        folds.append(
            {
                "fold": fold,
                "train_cases": len(train_idx),
                "test_cases": len(test_idx),
                "test_publications": len(set(groups[test_idx])),
                "learned": Metrics.of(fold_results).as_dict(),
                "learned_not_cited": Metrics.of([r for r in fold_results if not r.cited]).as_dict(),
            }
        )
    return CrossValidation(folds, [r for r in results if r is not None], np.concatenate(shares), np.concatenate(labels))


def train_shipped(
    sets: Sequence[CaseCandidates], cv: CrossValidation, index: PhenotypeIndex, source: str, seed: int = 0
) -> LearnedRanker:
    features, y = _stack(sets)
    metadata = {
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "sklearn": sklearn.__version__,
        "cases_file": source,
        "cases": len(sets),
        "training_rows": int(y.size),
        "index": dict(index.metadata),
        "cv": cv.to_json(),
        "publications": sorted({s.case.publication for s in sets}),
    }
    model = LearnedRanker.fit(features, y, metadata, seed)
    model.fit_calibration(cv.oof_shares, cv.oof_labels)
    return model
