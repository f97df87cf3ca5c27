"""The differential-diagnosis entry point the API and the evaluation call: findings in, ranked diseases out.

``DdxEngine.compile(index, model)`` prepares everything once; ``engine.rank(findings, top_k)``
is pure and fast. Rankers:

* ``lr`` — the likelihood-ratio baseline over every disease;
* ``resnik`` — average best-match Resnik similarity over every disease;
* ``learned`` — the gradient-boosting re-ranker over the baseline's candidates (the default
  when a model is available).

With ``use_genes`` a disease associated with one of the patient's genes gains a fixed
likelihood ratio (and, for the learned ranker, is moved ahead of candidates without one):
the phenotype evidence still orders diseases sharing a gene.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from ddx_ranker.explain import CaseContext, explain, next_findings
from ddx_ranker.features import candidate_features, select_candidates
from ddx_ranker.learned import LearnedRanker, candidate_shares
from ddx_ranker.models import Differential, PatientFindings, RankedDisease
from ddx_ranker.scoring import BaselineScorer, CaseScores, PreparedFindings, ScoringParams, prepare
from knowledge_index.phenotype import FloatArray, IntArray, PhenotypeIndex

LOG = logging.getLogger("kgcds.ddx")

RankerName = Literal["lr", "resnik", "learned"]
GENE_LOG_LR = math.log(1000.0)
"""A causal gene named by sequencing is strong evidence; 1000 keeps phenotype fit decisive among its diseases."""


class RankerUnavailable(ValueError):
    """The learned ranker was asked for but no model is loaded."""


@dataclass(frozen=True)
class Ranking:
    """Full ordering of one case: disease indices best first, their scores, and the intermediate arrays."""

    order: IntArray
    scores: FloatArray
    probabilities: FloatArray | None
    prepared: PreparedFindings
    case_scores: CaseScores


@dataclass(frozen=True)
class DdxEngine:
    index: PhenotypeIndex
    scorer: BaselineScorer
    model: LearnedRanker | None

    @classmethod
    def compile(
        cls, index: PhenotypeIndex, model: LearnedRanker | None = None, params: ScoringParams | None = None
    ) -> DdxEngine:
        if model is not None and index.n_diseases and not index.inheritance[:, -1].any():
            # A store loaded before onsets and inheritance were put on Disease nodes: the learned ranker
            # still works, but its age and sex features stay empty, and that should not pass unnoticed.
            LOG.warning(
                "the graph has no disease onset or inheritance data: age and sex will not be used; run `kgcds load`"
            )
        return cls(index, BaselineScorer.compile(index, params), model)

    @property
    def default_ranker(self) -> RankerName:
        return "learned" if self.model is not None else "lr"

    def gene_hits(self, genes: tuple[str, ...]) -> FloatArray:
        wanted = {g.upper() for g in genes}
        hits = np.zeros(self.index.n_diseases)
        if wanted:
            for d, symbols in self.index.disease_genes.items():
                i = self.index.disease_index.get(d)
                if i is not None and symbols & wanted:
                    hits[i] = 1.0
        return hits

    def order(self, findings: PatientFindings, ranker: RankerName | None = None, use_genes: bool = False) -> Ranking:
        """Every disease the ranker scores, best first (the learned ranker orders only its candidates)."""
        chosen = ranker or self.default_ranker
        prepared = prepare(self.index, findings)
        case_scores = self.scorer.score(prepared)
        genes = self.gene_hits(findings.genes) if use_genes else np.zeros(self.index.n_diseases)
        if chosen == "learned":
            return self._learned(prepared, case_scores, genes)
        values = case_scores.log_lr if chosen == "lr" else case_scores.resnik
        values = values + GENE_LOG_LR * genes if chosen == "lr" else values + 100.0 * genes
        order = np.argsort(-values, kind="stable")
        probabilities = None
        if chosen == "lr":
            # LIRICAL's post-test probability with equal pre-test odds over the diseases.
            probabilities = candidate_shares(values)[order]
        return Ranking(order, values[order], probabilities, prepared, case_scores)

    def _learned(self, prepared: PreparedFindings, case_scores: CaseScores, genes: FloatArray) -> Ranking:
        if self.model is None:
            raise RankerUnavailable("the learned ranker needs a model: none is shipped or given")
        candidates = select_candidates(case_scores)
        if genes.any():
            candidates = np.union1d(candidates, np.flatnonzero(genes)).astype(np.int64)
        features = candidate_features(self.scorer, prepared, case_scores, candidates)
        raw = self.model.scores(features)
        probabilities = self.model.probabilities(raw)
        ordering = np.lexsort((-raw, -genes[candidates]))
        return Ranking(
            candidates[ordering],
            raw[ordering],
            probabilities[ordering] if probabilities is not None else None,
            prepared,
            case_scores,
        )

    def differential(
        self,
        findings: PatientFindings,
        top_k: int = 10,
        ranker: RankerName | None = None,
        use_genes: bool = False,
        with_explanations: bool = True,
    ) -> Differential:
        chosen = ranker or self.default_ranker
        ranking = self.order(findings, chosen, use_genes)
        top = ranking.order[:top_k]
        context = CaseContext.of(self.index, ranking.prepared) if with_explanations else None
        results = []
        for pos, d in enumerate(top.tolist()):
            cs = ranking.case_scores
            results.append(
                RankedDisease(
                    rank=pos + 1,
                    disease_id=self.index.disease_ids[d],
                    name=self.index.disease_names[d],
                    score=round(float(ranking.scores[pos]), 4),
                    log_lr=round(float(cs.log_lr[d]), 4),
                    resnik=round(float(cs.resnik[d]), 4),
                    probability=round(float(ranking.probabilities[pos]), 4)
                    if ranking.probabilities is not None
                    else None,
                    explanation=explain(self.scorer, cs, d, context) if context is not None else None,
                )
            )
        leading = top[:5]
        weights = (
            np.maximum(ranking.probabilities[: leading.size], 1e-6)
            if ranking.probabilities is not None
            else np.ones(leading.size)
        )
        return Differential(
            results=tuple(results),
            next_findings=next_findings(self.index, leading, weights, context) if context is not None else (),
            unknown_terms=ranking.prepared.unknown,
            ranker=chosen,
        )


def rank(
    index: PhenotypeIndex | DdxEngine, findings: PatientFindings, top_k: int = 10, ranker: RankerName | None = None
) -> list[RankedDisease]:
    """The top ``top_k`` diseases with explanations. Pass a compiled :class:`DdxEngine` on hot paths:
    a bare index is compiled (baseline only, a few milliseconds) on every call."""
    engine = index if isinstance(index, DdxEngine) else DdxEngine.compile(index)
    return list(engine.differential(findings, top_k, ranker).results)
