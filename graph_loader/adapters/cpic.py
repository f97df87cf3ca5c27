"""CPIC gene-drug pairs and their phenotype-specific prescribing recommendations.

CPIC names genes by symbol only; ``curated/pgx_genes.tsv`` gives each symbol its NCBI
Gene id (checked against HPO's gene annotations where HPO has the gene). Each gene-drug
pair becomes a ``PGX_AFFECTS`` edge carrying the CPIC level and status, the PharmGKB
level, the FDA label status, the guideline URL, PubMed references and the
recommendations ("CYP2C19 Poor Metabolizer: Avoid standard dose ...").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from graph_loader.adapter import Row
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow
from ontology.vocab import Label, RelType

NAME = "cpic"
VERSION = "pypgx-cpic-table"
DEFAULT_GENE_TABLE = Path(__file__).resolve().parent.parent / "curated" / "pgx_genes.tsv"

_PAIR_COLUMNS = (
    "Gene",
    "Drug",
    "RxNorm",
    "Guideline",
    "CPICLevel",
    "CPICLevelStatus",
    "PharmGKBLevel",
    "FDALabel",
    "PMID",
)
_REC_COLUMNS = ("Drug", "Gene1", "Phenotype1", "Gene2", "Phenotype2", "Recommendation")
_NONE = {"", "None"}


def _require(frame: pl.DataFrame, columns: tuple[str, ...], path: Path) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{path.name}: missing columns {missing}")


def read_gene_table(path: Path = DEFAULT_GENE_TABLE) -> dict[str, str]:
    """Gene symbol -> NCBI Gene id (digits)."""
    frame = pl.read_csv(path, separator="\t", comment_prefix="#", infer_schema_length=0)
    _require(frame, ("symbol", "ncbi_gene_id"), path)
    table: dict[str, str] = {}
    for symbol, gene_id in frame.select("symbol", "ncbi_gene_id").iter_rows():
        if not symbol or not gene_id or not gene_id.isdigit():
            raise ValueError(f"{path.name}: ncbi_gene_id must be digits, got {gene_id!r} for {symbol!r}")
        table[symbol] = gene_id
    return table


def recommendation_texts(path: Path) -> dict[tuple[str, str], list[str]]:
    """(drug name lower-cased, gene symbol) -> "Gene phenotype: recommendation" strings, in file order."""
    frame = pl.read_csv(path, infer_schema_length=0)
    _require(frame, _REC_COLUMNS, path)
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for drug, gene1, pheno1, gene2, pheno2, text in frame.select(_REC_COLUMNS).iter_rows():
        if (text or "").strip() in _NONE or not drug:
            continue
        who = f"{gene1} {pheno1}"
        if (gene2 or "") not in _NONE:
            who += f", {gene2} {pheno2}"
        line = f"{who}: {' '.join(text.split())}"
        for gene in (gene1, gene2):
            if gene and gene not in _NONE and line not in out[(drug.lower(), gene)]:
                out[(drug.lower(), gene)].append(line)
    return out


_LEVEL_ORDER = ("A", "A/B", "B", "B/C", "C", "C/D", "D")


def _level_rank(edge: EdgeRow) -> int:
    level = edge.props.get("cpic_level")
    return _LEVEL_ORDER.index(level) if level in _LEVEL_ORDER else len(_LEVEL_ORDER)


def _stronger(first: EdgeRow, second: EdgeRow) -> EdgeRow:
    """Two CPIC rows that name the same gene and ingredient (a drug and its salt or prodrug
    resolving to one ingredient): keep the stronger level's row, pool references and recommendations."""
    best, other = (first, second) if _level_rank(first) <= _level_rank(second) else (second, first)
    props = dict(best.props)
    for key in ("references", "recommendations"):
        props[key] = list(dict.fromkeys([*best.props.get(key, []), *other.props.get(key, [])]))
    return EdgeRow(best.type, best.source, best.target, props, best.origin)


class CpicAdapter:
    name = NAME
    version = VERSION

    def __init__(
        self, pairs: Path, recommendations: Path | None, resolver: DrugResolver, gene_table: Path = DEFAULT_GENE_TABLE
    ) -> None:
        self._pairs = pairs
        self._recommendations = recommendations
        self._resolver = resolver
        self._gene_table = gene_table

    @classmethod
    def from_paths(cls, paths: SourcePaths, resolver: DrugResolver) -> CpicAdapter | None:
        pairs = paths.resolve("cpic_pairs")
        return None if pairs is None else cls(pairs, paths.resolve("cpic_recommendations"), resolver)

    @property
    def tag(self) -> str:
        return f"{self.name}@{self.version}"

    def rows(self) -> Iterator[Row]:
        genes = read_gene_table(self._gene_table)
        recs = recommendation_texts(self._recommendations) if self._recommendations else {}
        frame = pl.read_csv(self._pairs, infer_schema_length=0)
        _require(frame, _PAIR_COLUMNS, self._pairs)
        emitted_genes: set[str] = set()
        edges: dict[tuple[str, str], EdgeRow] = {}
        for line_no, rec in enumerate(frame.iter_rows(named=True), start=2):
            origin = f"{self.name}:{line_no}"
            symbol, drug_name = rec["Gene"], rec["Drug"] or ""
            gene_id = genes.get(symbol)
            if gene_id is None:
                yield UnmappedReference(origin, symbol, "CPIC gene symbol not in curated/pgx_genes.tsv")
                continue
            drugs = self._drugs(rec["RxNorm"], drug_name)
            if not drugs:
                why = self._resolver.unresolved_reason(drug_name)
                yield UnmappedReference(
                    origin, drug_name, f"CPIC drug unresolved by RxCUI {rec['RxNorm']} or name ({why})"
                )
                continue
            node_id = f"NCBIGene:{gene_id}"
            if node_id not in emitted_genes:
                emitted_genes.add(node_id)
                yield NodeRow(Label.GENE, node_id, {"symbol": symbol, "sources": [self.tag]}, origin)
            props = self._props(rec, recs.get((drug_name.lower(), symbol), []))
            for drug in drugs:
                edge = EdgeRow(RelType.PGX_AFFECTS, node_id, drug, props, origin)
                known = edges.get((node_id, drug))
                edges[(node_id, drug)] = edge if known is None else _stronger(known, edge)
        yield from edges.values()

    def _drugs(self, rxcui: str | None, name: str) -> list[str]:
        """The ingredient, or each ingredient of a combination CPIC writes as "a / b"."""
        whole = self._resolver.resolve(rxcui=rxcui, name=name)
        if whole is not None:
            return [whole]
        parts = [self._resolver.by_name(part) for part in name.split(" / ")] if " / " in name else []
        return [p for p in parts if p is not None] if parts and all(parts) else []

    def _props(self, rec: dict[str, Any], recommendations: list[str]) -> dict[str, Any]:
        pmids = [p.strip() for p in (rec["PMID"] or "").split(";") if p.strip()]
        return {
            "source": self.tag,
            "cpic_level": rec["CPICLevel"],
            "cpic_status": rec["CPICLevelStatus"],
            "pharmgkb_level": rec["PharmGKBLevel"],
            "fda_label": rec["FDALabel"],
            "guideline_url": rec["Guideline"],
            "references": [f"PMID:{p}" for p in pmids],
            "recommendations": recommendations,
        }
