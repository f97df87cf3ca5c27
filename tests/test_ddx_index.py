"""The compiled phenotype index on the tiny hand-made ontology (tests/ddx_tiny_ontology.py)."""

from __future__ import annotations

import math

import polars as pl
import pytest

from knowledge_index.phenotype import DEFAULT_MISSING_FREQUENCY, PhenotypeIndex, PhenotypeIndexError
from tests.ddx_tiny_ontology import (
    ASD,
    ATAXIA,
    CATARACT,
    FEBRILE,
    FOCAL,
    NERVOUS,
    ROOT,
    SEIZURE,
    VSD,
    tiny_phenotype_index,
)


@pytest.fixture(scope="module")
def index() -> PhenotypeIndex:
    return tiny_phenotype_index()


def ids(index: PhenotypeIndex, terms: list[int]) -> set[str]:
    return {index.term_ids[t] for t in terms}


def test_closure_holds_every_ancestor_and_the_term_itself(index: PhenotypeIndex) -> None:
    assert ids(index, index.ancestors(index.term_index[FOCAL]).tolist()) == {FOCAL, SEIZURE, NERVOUS, ROOT}
    assert ids(index, index.ancestors(index.term_index[ROOT]).tolist()) == {ROOT}


def test_descendants_of_seizure(index: PhenotypeIndex) -> None:
    assert ids(index, index.descendants([index.term_index[SEIZURE]]).tolist()) == {SEIZURE, FOCAL, FEBRILE}


def test_information_content_counts_diseases_whose_annotations_imply_the_term(index: PhenotypeIndex) -> None:
    ic = {t: index.ic[index.term_index[t]] for t in (ROOT, SEIZURE, FOCAL, ATAXIA)}
    assert ic[ROOT] == pytest.approx(0.0)
    # Seizure is implied by OMIM:100001 (focal) and OMIM:100003 (febrile); OMIM:100004's NOT annotation does not count.
    assert ic[SEIZURE] == pytest.approx(-math.log(2 / 5))
    assert ic[FOCAL] == pytest.approx(-math.log(1 / 5))
    assert ic[ATAXIA] == pytest.approx(-math.log(2 / 5))


def test_implied_frequency_is_the_best_annotation_at_or_below(index: PhenotypeIndex) -> None:
    d = index.disease_index["OMIM:100001"]
    implied = index.implied_csc.toarray()
    assert implied[d, index.term_index[SEIZURE]] == pytest.approx(0.9)
    assert implied[d, index.term_index[NERVOUS]] == pytest.approx(1.0)  # ataxia 1.0 beats focal seizure 0.9
    assert implied[d, index.term_index[CATARACT]] == 0


def test_not_annotations_are_kept_apart(index: PhenotypeIndex) -> None:
    d = index.disease_index["OMIM:100004"]
    assert index.negated.toarray()[d, index.term_index[SEIZURE]] == 1
    terms, _ = index.annotations_of(d)
    assert SEIZURE not in ids(index, terms.tolist())


def test_missing_frequency_gets_the_default(index: PhenotypeIndex) -> None:
    d = index.disease_index["ORPHA:500"]
    terms, freqs = index.annotations_of(d)
    by_term = dict(zip(ids_list(index, terms.tolist()), freqs.tolist(), strict=True))
    assert by_term == {VSD: 1.0, ASD: DEFAULT_MISSING_FREQUENCY}


def ids_list(index: PhenotypeIndex, terms: list[int]) -> list[str]:
    return [index.term_ids[t] for t in terms]


def test_references_and_genes_per_disease(index: PhenotypeIndex) -> None:
    assert index.disease_references["OMIM:100001"] == frozenset({"PMID:1"})
    assert index.disease_genes == {"OMIM:100001": frozenset({"SCN1A"})}


def test_an_empty_graph_is_refused() -> None:
    empty = pl.DataFrame({"id": [], "name": []}, schema={"id": pl.String, "name": pl.String})
    with pytest.raises(PhenotypeIndexError, match="no Phenotype nodes"):
        PhenotypeIndex.from_frames(phenotypes=empty, is_a=empty, diseases=empty, annotations=empty)
