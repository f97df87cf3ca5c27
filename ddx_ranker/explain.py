"""Why a disease ranks where it does, and which findings would best separate the leading candidates.

Everything a case's explanations share (the findings' ancestor table, the terms the record speaks
to, the excluded findings' implied frequencies) is computed once in :class:`CaseContext`; each
disease then costs a few numpy operations on the raw closure arrays. Scipy's sparse indexing costs
tens of microseconds per call, which added up to most of a ``/diagnosis`` answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ddx_ranker.models import ExpectedFinding, Explanation, NextFinding, TermMatch
from ddx_ranker.scoring import BaselineScorer, CaseScores, PreparedFindings
from knowledge_index.phenotype import FloatArray, IntArray, PhenotypeIndex

MAX_LISTED = 5
RELATED_MIN_IC = 2.0
"""A shared ancestor less informative than this (an organ-system heading) does not make two terms related."""

BoolArray = npt.NDArray[np.bool_]


def covered_mask(index: PhenotypeIndex, prepared: PreparedFindings) -> BoolArray:
    """Terms the record speaks to: findings with their ancestors and descendants, and excluded subtrees."""
    obs = prepared.observed.tolist()
    mask = np.zeros(index.n_terms, dtype=bool)
    mask[index.up_closure(obs)] = True
    mask[index.descendants(obs + prepared.excluded.tolist())] = True
    return mask


def _ancestor_rows(index: PhenotypeIndex, terms: IntArray) -> tuple[IntArray, IntArray]:
    """(row, ancestor) pairs for ``terms``: row ``i`` lists the ancestors of ``terms[i]`` (itself included)."""
    indptr = index.closure.indptr
    starts, lens = indptr[terms], indptr[terms + 1] - indptr[terms]
    if terms.size == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    offsets = np.repeat(starts - np.cumsum(lens) + lens, lens) + np.arange(int(lens.sum()))
    rows = np.repeat(np.arange(terms.size), lens)
    return rows.astype(np.int64), np.asarray(index.closure.indices[offsets], dtype=np.int64)


@dataclass(frozen=True)
class CaseContext:
    """Per-case tables every disease's explanation reads."""

    findings: list[int]
    covered_mask: BoolArray
    """term index -> whether the record speaks to it (:func:`covered_mask`)."""
    cols: IntArray
    """The union of the findings' ancestors; the ancestor tables below are restricted to these columns."""
    position: IntArray
    """term index -> column in ``cols``, or -1."""
    finding_anc: BoolArray
    """findings x cols: whether cols[j] is an ancestor of (or is) finding i."""
    excluded: list[int]

    @classmethod
    def of(cls, index: PhenotypeIndex, prepared: PreparedFindings) -> CaseContext:
        findings = prepared.observed.tolist()
        rows, anc = _ancestor_rows(index, prepared.observed)
        cols = np.unique(anc)
        position = np.full(index.n_terms, -1, dtype=np.int64)
        position[cols] = np.arange(cols.size)
        finding_anc = np.zeros((len(findings), cols.size), dtype=bool)
        finding_anc[rows, position[anc]] = True
        return cls(findings, covered_mask(index, prepared), cols, position, finding_anc, prepared.excluded.tolist())


def _matches(
    index: PhenotypeIndex, context: CaseContext, terms: IntArray, freqs: FloatArray
) -> list[tuple[int | None, str]]:
    """For each finding, the disease annotation that best explains it and how the two relate."""
    findings = context.findings
    if terms.size == 0 or not findings:
        return [(None, "none")] * len(findings)
    rows, anc = _ancestor_rows(index, terms)
    mapped = context.position[anc]
    keep = mapped >= 0
    term_anc = np.zeros((terms.size, context.cols.size), dtype=bool)  # annotations x cols
    term_anc[rows[keep], mapped[keep]] = True
    term_col = context.position[terms]
    f_pos = context.position[np.array(findings, dtype=np.int64)]
    # Priority per finding: the same term; else an annotation below it (the most frequent); else one above
    # it (the most specific); else the annotation sharing its most informative ancestor, if informative enough.
    exact = np.isin(np.array(findings), terms)
    below = term_anc[:, f_pos].T  # findings x annotations
    below_best = np.argmax(np.where(below, freqs, -1.0), axis=1)
    has_below: BoolArray = np.asarray(below.any(axis=1), dtype=bool)
    above = context.finding_anc[:, np.maximum(term_col, 0)] & (term_col >= 0)  # findings x annotations
    above_best = np.argmax(np.where(above, index.ic[terms], -np.inf), axis=1)
    has_above: BoolArray = np.asarray(above.any(axis=1), dtype=bool)
    ic = index.ic[context.cols]
    out: list[tuple[int | None, str]] = []
    for i, q in enumerate(findings):
        if exact[i]:
            out.append((q, "exact"))
        elif has_below[i]:
            out.append((int(terms[below_best[i]]), "annotation more specific"))
        elif has_above[i]:
            out.append((int(terms[above_best[i]]), "finding more specific"))
        else:
            best_ic = ((term_anc & context.finding_anc[i]) * ic).max(axis=1)
            best = int(np.argmax(best_ic))
            out.append((int(terms[best]), "related") if best_ic[best] >= RELATED_MIN_IC else (None, "none"))
    return out


def explain(scorer: BaselineScorer, scores: CaseScores, disease: int, context: CaseContext) -> Explanation:
    index = scorer.index
    terms, freqs = index.annotations_of(disease)
    matched: list[TermMatch] = []
    unexplained: list[TermMatch] = []
    for k, (q, (annotation, kind)) in enumerate(
        zip(context.findings, _matches(index, context, terms, freqs), strict=True)
    ):
        item = TermMatch(
            finding=index.term_ids[q],
            finding_name=index.term_names[q],
            annotation=index.term_ids[annotation] if annotation is not None else None,
            annotation_name=index.term_names[annotation] if annotation is not None else None,
            match=kind,
            log_lr=round(float(scores.per_term_log_lr[k, disease]), 3),
        )
        (unexplained if annotation is None else matched).append(item)
    matched.sort(key=lambda m: -m.log_lr)
    # frequent annotations the record does not speak to: most frequent first, then by descending term index
    picked = np.flatnonzero((freqs >= scorer.params.frequent) & ~context.covered_mask[terms])
    picked = picked[np.lexsort((-terms[picked], -freqs[picked]))][:MAX_LISTED]
    expected_absent = tuple(
        ExpectedFinding(term=index.term_ids[t], name=index.term_names[t], frequency=round(float(f), 3))
        for t, f in zip(terms[picked].tolist(), freqs[picked].tolist(), strict=True)
    )
    against: list[ExpectedFinding] = []
    for k, e in enumerate(context.excluded):
        f = float(scores.excluded_frequency[k, disease])
        if f > 0:
            against.append(ExpectedFinding(term=index.term_ids[e], name=index.term_names[e], frequency=round(f, 3)))
    against.sort(key=lambda x: -x.frequency)
    return Explanation(
        matched=tuple(matched),
        unexplained=tuple(unexplained),
        expected_absent=expected_absent,
        excluded_against=tuple(against[:MAX_LISTED]),
    )


def next_findings(
    index: PhenotypeIndex, leading: IntArray, weights: FloatArray, context: CaseContext, limit: int = MAX_LISTED
) -> tuple[NextFinding, ...]:
    """Unrecorded features of the leading candidates whose frequency differs most between them.

    The spread is the weighted variance of the frequency across the candidates: a finding all of
    them share (or none shows) does not help to tell them apart.
    """
    if leading.size < 2:
        return ()
    w = weights / weights.sum()
    annotated = np.unique(np.concatenate([index.annotations_of(d)[0] for d in leading.tolist()]))
    terms = annotated[~context.covered_mask[annotated]]
    if terms.size == 0:
        return ()
    freq = index.implied_csc[:, terms][leading].toarray()  # candidates x terms
    mean = w @ freq
    spread = w @ (freq - mean) ** 2
    best = np.argsort(-spread, kind="stable")[:limit]
    return tuple(
        NextFinding(
            term=index.term_ids[int(terms[j])],
            name=index.term_names[int(terms[j])],
            frequencies={index.disease_ids[int(d)]: round(float(freq[i, j]), 3) for i, d in enumerate(leading)},
        )
        for j in best
        if spread[j] > 0
    )
