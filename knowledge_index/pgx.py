"""CPIC gene-drug pairs (``PGX_AFFECTS`` Gene -> Drug) compiled for the rules engine."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from graph_store.contract import GraphStore
from ontology.vocab import Label, RelType


def phenotype_key(text: str) -> str:
    """Normalised phenotype for lookups: case and spacing do not matter."""
    return " ".join(text.lower().replace("_", " ").split())


@dataclass(frozen=True, slots=True)
class PgxPair:
    gene_id: str
    gene_symbol: str
    drug_id: str
    cpic_level: str
    recommendations: Mapping[str, str]
    """:func:`phenotype_key` of a phenotype -> CPIC recommendation text."""
    guideline_url: str | None
    references: tuple[str, ...]
    source: str

    def recommendation_for(self, phenotype: str) -> str | None:
        """``Poor Metabolizer`` and ``CYP2C19 Poor Metabolizer`` find the same advice."""
        key = phenotype_key(phenotype)
        gene = self.gene_symbol.lower() + " "
        return self.recommendations.get(key.removeprefix(gene))


def parse_recommendations(gene_symbol: str, items: list[str] | None) -> dict[str, str]:
    """Items are ``"CYP2C19 Poor Metabolizer: Avoid standard dose..."`` (schema comment on the property)."""
    out: dict[str, str] = {}
    for item in items or ():
        head, sep, text = item.partition(":")
        if not sep:
            continue
        phenotype = head.strip()
        if phenotype.upper().startswith(gene_symbol.upper()):
            phenotype = phenotype[len(gene_symbol) :].strip()
        text = text.strip()
        if text and text.lower() != "none":
            out[phenotype_key(phenotype)] = text
    return out


@dataclass(frozen=True, slots=True)
class PgxIndex:
    pairs_by_drug: Mapping[str, tuple[PgxPair, ...]]

    def pairs_for(self, drug_id: str) -> tuple[PgxPair, ...]:
        return self.pairs_by_drug.get(drug_id, ())

    @classmethod
    def empty(cls) -> PgxIndex:
        return cls({})

    @classmethod
    def from_store(cls, store: GraphStore) -> PgxIndex:
        symbols = {row["id"]: row["symbol"] for row in store.nodes_frame(Label.GENE).iter_rows(named=True)}
        pairs: dict[str, list[PgxPair]] = defaultdict(list)
        for row in store.edges_frame(RelType.PGX_AFFECTS).iter_rows(named=True):
            symbol = symbols.get(row["source_id"], row["source_id"])
            pairs[row["target_id"]].append(
                PgxPair(
                    gene_id=row["source_id"],
                    gene_symbol=symbol,
                    drug_id=row["target_id"],
                    cpic_level=row["cpic_level"],
                    recommendations=parse_recommendations(symbol, row.get("recommendations")),
                    guideline_url=row.get("guideline_url"),
                    references=tuple(row.get("references") or ()),
                    source=row["source"],
                )
            )
        return cls({k: tuple(v) for k, v in pairs.items()})
