"""The compiled phenotype index: HPO terms, their closure and the disease annotations as integer-indexed arrays.

Differential diagnosis ranks every annotated disease for every request, so nothing on
that path may touch a store or walk Python objects per disease. This module compiles,
once, from any :class:`~graph_store.contract.GraphStore`:

* ``closure`` — terms x terms, ``closure[i, j] = 1`` when ``j`` is ``i`` or an ancestor of ``i``;
* ``direct`` — diseases x terms, the frequency of each direct annotation;
* ``implied`` — diseases x terms, for every term the highest frequency of an annotation at or
  below it (a patient with the disease shows that term, or something more specific);
* ``ic`` — information content of each term over the diseases (``-ln`` share of annotated
  diseases whose implied set holds the term);
* ``background`` — the frequency-weighted share of diseases showing each term, the
  denominator of likelihood ratios.

Annotations whose frequency is 0 (HPO's ``NOT`` qualifier) are kept apart in ``negated``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import polars as pl
import scipy.sparse as sp

from graph_store.contract import GraphStore
from ontology.vocab import Label, RelType

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

DEFAULT_MISSING_FREQUENCY = 0.8
"""Frequency assumed for an annotation that states none: HPO curators mostly leave it empty for typical features."""


ONSET_ORDER = {
    "HP:0030674": 0.0,  # antenatal
    "HP:0011460": 0.0,  # embryonal
    "HP:0011461": 0.0,  # fetal
    "HP:0034197": 0.0,
    "HP:0034198": 0.0,
    "HP:0034199": 0.0,
    "HP:0003577": 1.0,  # congenital
    "HP:0003623": 2.0,  # neonatal
    "HP:0003593": 3.0,  # infantile
    "HP:0011463": 4.0,  # childhood
    "HP:0410280": 4.0,  # pediatric
    "HP:0003621": 5.0,  # juvenile
    "HP:0003581": 6.0,  # adult
    "HP:0011462": 6.0,  # young adult
    "HP:0003596": 7.0,  # middle age
    "HP:0003584": 8.0,  # late
}
"""HPO onset classes on one age axis (the scale ``ddx_ranker`` puts a patient's age range on)."""

INHERITANCE_MODES = {
    "x_linked": ("HP:0001417", "HP:0001419", "HP:0001423"),
    "x_linked_recessive": ("HP:0001419",),
    "x_linked_dominant": ("HP:0001423",),
    "autosomal_dominant": ("HP:0000006",),
    "autosomal_recessive": ("HP:0000007",),
}
"""Inheritance columns the index keeps (a disease may have several); a patient's sex bears on the X-linked ones."""


class PhenotypeIndexError(ValueError):
    """The graph holds no usable phenotype data (no terms, or no disease annotations)."""


@dataclass(frozen=True)
class PhenotypeIndex:
    term_ids: tuple[str, ...]
    term_names: tuple[str, ...]
    disease_ids: tuple[str, ...]
    disease_names: tuple[str, ...]
    closure: sp.csr_matrix
    closure_csc: sp.csc_matrix
    direct: sp.csr_matrix
    implied_csc: sp.csc_matrix
    direct_csc: sp.csc_matrix
    negated: sp.csr_matrix
    ic: FloatArray
    background: FloatArray
    disease_references: Mapping[str, frozenset[str]]
    disease_genes: Mapping[str, frozenset[str]]
    metadata: Mapping[str, str]
    onset_range: FloatArray
    """Diseases x 2: the earliest and latest annotated onset on the ``ONSET_ORDER`` axis; NaN when unknown."""
    inheritance: FloatArray
    """Diseases x (len(INHERITANCE_MODES) + 1): one 0/1 column per mode, then whether any mode is annotated."""
    term_index: Mapping[str, int] = field(repr=False)
    disease_index: Mapping[str, int] = field(repr=False)

    @property
    def n_terms(self) -> int:
        return len(self.term_ids)

    @property
    def n_diseases(self) -> int:
        return len(self.disease_ids)

    def ancestors(self, term: int) -> IntArray:
        """Ancestors of a term including itself, as term indices."""
        start, end = self.closure.indptr[term], self.closure.indptr[term + 1]
        return np.asarray(self.closure.indices[start:end], dtype=np.int64)

    def descendants(self, terms: Iterable[int]) -> IntArray:
        """Terms at or below any of ``terms``."""
        cols = list(terms)
        if not cols:
            return np.zeros(0, dtype=np.int64)
        hits = np.asarray(self.closure_csc[:, cols].sum(axis=1)).ravel()
        return np.flatnonzero(hits).astype(np.int64)

    def up_closure(self, terms: Iterable[int]) -> IntArray:
        rows = list(terms)
        if not rows:
            return np.zeros(0, dtype=np.int64)
        hits = np.asarray(self.closure[rows].sum(axis=0)).ravel()
        return np.flatnonzero(hits).astype(np.int64)

    def annotations_of(self, disease: int) -> tuple[IntArray, FloatArray]:
        """Direct annotations of a disease: term indices and frequencies."""
        start, end = self.direct.indptr[disease], self.direct.indptr[disease + 1]
        return (
            np.asarray(self.direct.indices[start:end], dtype=np.int64),
            np.asarray(self.direct.data[start:end], dtype=np.float64),
        )

    # ---- building ------------------------------------------------------
    @classmethod
    def from_store(cls, store: GraphStore, missing_frequency: float = DEFAULT_MISSING_FREQUENCY) -> PhenotypeIndex:
        """Compile from the Phenotype, Disease and Gene nodes and their IS_A, HAS_PHENOTYPE and gene edges."""
        genes = store.nodes_frame(Label.GENE)
        return cls.from_frames(
            phenotypes=store.nodes_frame(Label.PHENOTYPE),
            is_a=store.edges_frame(RelType.IS_A),
            diseases=store.nodes_frame(Label.DISEASE),
            annotations=store.edges_frame(RelType.HAS_PHENOTYPE),
            disease_genes=store.edges_frame(RelType.ASSOCIATED_WITH_GENE),
            genes=genes,
            metadata=store.metadata(),
            missing_frequency=missing_frequency,
        )

    @classmethod
    def from_frames(
        cls,
        *,
        phenotypes: pl.DataFrame,
        is_a: pl.DataFrame,
        diseases: pl.DataFrame,
        annotations: pl.DataFrame,
        disease_genes: pl.DataFrame | None = None,
        genes: pl.DataFrame | None = None,
        metadata: Mapping[str, str] | None = None,
        missing_frequency: float = DEFAULT_MISSING_FREQUENCY,
    ) -> PhenotypeIndex:
        if phenotypes.is_empty():
            raise PhenotypeIndexError("the graph has no Phenotype nodes: load the HPO source first")
        term_ids = tuple(phenotypes["id"].to_list())
        term_names = tuple(str(n) for n in phenotypes["name"].to_list())
        term_index = {t: i for i, t in enumerate(term_ids)}
        closure = _closure(term_index, is_a)

        ann = annotations.filter(pl.col("target_id").is_in(list(term_ids)))
        known_diseases = diseases.filter(pl.col("id").is_in(ann["source_id"].unique().to_list())).sort("id")
        if known_diseases.is_empty():
            raise PhenotypeIndexError("the graph has no HAS_PHENOTYPE annotations on known diseases")
        disease_ids = tuple(known_diseases["id"].to_list())
        disease_names = tuple(str(n) for n in known_diseases["name"].to_list())
        disease_index = {d: i for i, d in enumerate(disease_ids)}
        ann = ann.filter(pl.col("source_id").is_in(list(disease_ids)))
        references = _references(ann)
        # Two sources may annotate the same pair; a stated frequency beats an unstated one (max skips nulls).
        ann = ann.group_by("source_id", "target_id").agg(pl.col("frequency").cast(pl.Float64).max())

        rows = np.array([disease_index[d] for d in ann["source_id"].to_list()], dtype=np.int64)
        cols = np.array([term_index[t] for t in ann["target_id"].to_list()], dtype=np.int64)
        freq = ann["frequency"].fill_null(missing_frequency).to_numpy().astype(np.float64)
        shape = (len(disease_ids), len(term_ids))
        positive = freq > 0
        direct = _max_matrix(rows[positive], cols[positive], freq[positive], shape)
        negated = _max_matrix(rows[~positive], cols[~positive], np.ones(int((~positive).sum())), shape)
        implied = _implied(direct, closure)

        n = len(disease_ids)
        with_term = np.asarray((implied > 0).sum(axis=0)).ravel().astype(np.float64)
        ic = -np.log(np.maximum(with_term, 1.0) / n)
        background = np.maximum(np.asarray(implied.sum(axis=0)).ravel() / n, 0.5 / n)

        gene_map = _gene_symbols(disease_genes, genes)
        onset_range, inheritance = _course(known_diseases)
        return cls(
            term_ids=term_ids,
            term_names=term_names,
            disease_ids=disease_ids,
            disease_names=disease_names,
            closure=closure,
            closure_csc=closure.tocsc(),
            direct=direct,
            implied_csc=implied.tocsc(),
            direct_csc=direct.tocsc(),
            negated=negated,
            ic=ic,
            background=background,
            disease_references=references,
            disease_genes=gene_map,
            metadata=dict(metadata or {}),
            onset_range=onset_range,
            inheritance=inheritance,
            term_index=term_index,
            disease_index=disease_index,
        )


def _terms_of(diseases: pl.DataFrame, column: str) -> list[set[str]]:
    if column not in diseases.columns:
        return [set() for _ in range(diseases.height)]
    return [set(v.split(";")) if v else set() for v in diseases[column].to_list()]


def _course(diseases: pl.DataFrame) -> tuple[FloatArray, FloatArray]:
    """Onset range and inheritance flags per disease, in the order of ``diseases``."""
    n = diseases.height
    onset = np.full((n, 2), np.nan)
    for i, terms in enumerate(_terms_of(diseases, "onset")):
        stages = [ONSET_ORDER[t] for t in terms if t in ONSET_ORDER]
        if stages:
            onset[i] = (min(stages), max(stages))
    inheritance = np.zeros((n, len(INHERITANCE_MODES) + 1))
    for i, terms in enumerate(_terms_of(diseases, "inheritance")):
        for j, mode_terms in enumerate(INHERITANCE_MODES.values()):
            inheritance[i, j] = float(bool(terms.intersection(mode_terms)))
        inheritance[i, -1] = float(bool(terms))
    return onset, inheritance


def _closure(term_index: Mapping[str, int], is_a: pl.DataFrame) -> sp.csr_matrix:
    """Reflexive-transitive closure of IS_A over the phenotype terms, by repeated sparse squaring."""
    n = len(term_index)
    pairs = [
        (term_index[s], term_index[t])
        for s, t in zip(is_a["source_id"].to_list(), is_a["target_id"].to_list(), strict=True)
        if s in term_index and t in term_index
    ]
    eye = sp.identity(n, dtype=np.float64, format="csr")
    if pairs:
        child, parent = (np.array(x, dtype=np.int64) for x in zip(*pairs, strict=True))
        step = sp.csr_matrix((np.ones(len(child)), (child, parent)), shape=(n, n))
    else:
        step = sp.csr_matrix((n, n))
    reach = (eye + step).tocsr()
    reach.data[:] = 1.0
    while True:
        nxt = (reach @ reach).tocsr()
        nxt.data[:] = 1.0
        if nxt.nnz == reach.nnz:
            return nxt
        reach = nxt


def _max_matrix(rows: IntArray, cols: IntArray, values: FloatArray, shape: tuple[int, int]) -> sp.csr_matrix:
    """A sparse matrix keeping the largest value where (row, col) repeats (two sources annotating alike)."""
    if rows.size == 0:
        return sp.csr_matrix(shape, dtype=np.float64)
    key = rows * shape[1] + cols
    order = np.lexsort((-values, key))
    key, values = key[order], values[order]
    first = np.ones(key.size, dtype=bool)
    first[1:] = key[1:] != key[:-1]
    key, values = key[first], values[first]
    return sp.csr_matrix((values, (key // shape[1], key % shape[1])), shape=shape)


def _implied(direct: sp.csr_matrix, closure: sp.csr_matrix) -> sp.csr_matrix:
    """For each disease and term, the highest frequency among the disease's annotations at or below the term."""
    coo = direct.tocoo()
    counts = np.diff(closure.indptr)[coo.col]
    rows = np.repeat(coo.row.astype(np.int64), counts)
    values = np.repeat(coo.data, counts)
    cols = np.concatenate([closure.indices[closure.indptr[c] : closure.indptr[c + 1]] for c in coo.col]).astype(
        np.int64
    )
    return _max_matrix(rows, cols, values, direct.shape)


def _references(ann: pl.DataFrame) -> dict[str, frozenset[str]]:
    if "references" not in ann.columns:
        return {}
    grouped = (
        ann.select("source_id", "references")
        .explode("references")
        .drop_nulls()
        .group_by("source_id")
        .agg(pl.col("references").unique())
    )
    return {d: frozenset(refs) for d, refs in zip(grouped["source_id"], grouped["references"].to_list(), strict=True)}


def _gene_symbols(edges: pl.DataFrame | None, genes: pl.DataFrame | None) -> dict[str, frozenset[str]]:
    """Disease -> gene symbols (upper case), the form phenopackets and clinicians name genes in."""
    if edges is None or genes is None or edges.is_empty():
        return {}
    joined = edges.join(genes.select("id", "symbol"), left_on="target_id", right_on="id", how="inner")
    grouped = joined.group_by("source_id").agg(pl.col("symbol").str.to_uppercase().unique())
    return {d: frozenset(s) for d, s in zip(grouped["source_id"], grouped["symbol"].to_list(), strict=True)}
