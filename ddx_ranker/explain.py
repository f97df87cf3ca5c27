"""Why a disease ranks where it does, and which findings would best separate the leading candidates."""

from __future__ import annotations

import numpy as np

from ddx_ranker.models import ExpectedFinding, Explanation, NextFinding, TermMatch
from ddx_ranker.scoring import BaselineScorer, CaseScores, PreparedFindings
from knowledge_index.phenotype import FloatArray, IntArray, PhenotypeIndex

MAX_LISTED = 5


def covered_terms(index: PhenotypeIndex, prepared: PreparedFindings) -> set[int]:
    """Terms the record speaks to: findings with their ancestors and descendants, and excluded subtrees."""
    obs = prepared.observed.tolist()
    covered = set(index.up_closure(obs).tolist())
    covered.update(index.descendants(obs + prepared.excluded.tolist()).tolist())
    return covered


def _matches(
    index: PhenotypeIndex, findings: list[int], terms: IntArray, freqs: FloatArray
) -> list[tuple[int | None, str]]:
    """For each finding, the disease annotation that best explains it and how the two relate.

    Works on dense boolean ancestor tables restricted to the ancestors of the findings, so a case
    with dozens of findings against a disease with a hundred annotations stays in numpy.
    """
    if terms.size == 0 or not findings:
        return [(None, "none")] * len(findings)
    finding_closure = index.closure[findings]
    cols = np.unique(finding_closure.indices)
    finding_anc = finding_closure[:, cols].toarray() > 0  # findings x cols
    term_anc = index.closure[terms][:, cols].toarray() > 0  # annotations x cols
    col_of = {int(c): i for i, c in enumerate(cols)}
    term_col = np.array([col_of.get(int(t), -1) for t in terms])
    ic = index.ic[cols]
    term_set = set(terms.tolist())
    out: list[tuple[int | None, str]] = []
    for i, q in enumerate(findings):
        if q in term_set:
            out.append((q, "exact"))
            continue
        below = np.flatnonzero(term_anc[:, col_of[q]])
        if below.size:
            out.append((int(terms[below[np.argmax(freqs[below])]]), "annotation more specific"))
            continue
        above = np.flatnonzero((term_col >= 0) & finding_anc[i, np.maximum(term_col, 0)])
        if above.size:
            out.append((int(terms[above[np.argmax(index.ic[terms[above]])]]), "finding more specific"))
            continue
        shared_ic = (term_anc & finding_anc[i]) * ic
        best_per_term = shared_ic.max(axis=1)
        best = int(np.argmax(best_per_term))
        out.append((int(terms[best]), "related") if best_per_term[best] >= 2.0 else (None, "none"))
    return out


def explain(
    scorer: BaselineScorer,
    prepared: PreparedFindings,
    scores: CaseScores,
    disease: int,
    covered: set[int],
) -> Explanation:
    index = scorer.index
    terms, freqs = index.annotations_of(disease)
    matched: list[TermMatch] = []
    unexplained: list[TermMatch] = []
    findings = prepared.observed.tolist()
    for k, (q, (annotation, kind)) in enumerate(zip(findings, _matches(index, findings, terms, freqs), strict=True)):
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
    expected = sorted(
        ((float(f), int(t)) for t, f in zip(terms, freqs, strict=True) if f >= scorer.params.frequent),
        reverse=True,
    )
    expected_absent = tuple(
        ExpectedFinding(term=index.term_ids[t], name=index.term_names[t], frequency=round(f, 3))
        for f, t in expected
        if t not in covered
    )[:MAX_LISTED]
    against: list[ExpectedFinding] = []
    for e in prepared.excluded.tolist():
        f = _implied_frequency(index, disease, e)
        if f > 0:
            against.append(ExpectedFinding(term=index.term_ids[e], name=index.term_names[e], frequency=round(f, 3)))
    against.sort(key=lambda x: -x.frequency)
    return Explanation(
        matched=tuple(matched),
        unexplained=tuple(unexplained),
        expected_absent=expected_absent,
        excluded_against=tuple(against[:MAX_LISTED]),
    )


def _implied_frequency(index: PhenotypeIndex, disease: int, term: int) -> float:
    column = index.implied_csc
    start, end = column.indptr[term], column.indptr[term + 1]
    rows = column.indices[start:end]
    hit = np.flatnonzero(rows == disease)
    return float(column.data[start + hit[0]]) if hit.size else 0.0


def next_findings(
    index: PhenotypeIndex, leading: IntArray, weights: FloatArray, covered: set[int], limit: int = MAX_LISTED
) -> tuple[NextFinding, ...]:
    """Unrecorded features of the leading candidates whose frequency differs most between them.

    The spread is the weighted variance of the frequency across the candidates: a finding all of
    them share (or none shows) does not help to tell them apart.
    """
    if leading.size < 2:
        return ()
    w = weights / weights.sum()
    candidates: set[int] = set()
    for d in leading.tolist():
        candidates.update(int(t) for t in index.annotations_of(d)[0] if int(t) not in covered)
    if not candidates:
        return ()
    terms = np.array(sorted(candidates), dtype=np.int64)
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
