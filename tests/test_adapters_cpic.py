"""The CPIC adapter on the real CPIC tables."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from graph_loader.adapter import Row
from graph_loader.adapters.cpic import CpicAdapter, read_gene_table, recommendation_texts
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow
from ontology.vocab import Label, RelType

CYP2C19, HLA_B = "NCBIGene:1557", "NCBIGene:3106"
CLOPIDOGREL, ABACAVIR = "RXNORM:32968", "RXNORM:190521"


@pytest.fixture(scope="module")
def paths(shared_data: Path) -> SourcePaths:
    return SourcePaths(data_dir=shared_data)


@pytest.fixture(scope="module")
def rows(paths: SourcePaths) -> list[Row]:
    adapter = CpicAdapter.from_paths(paths, DrugResolver.from_paths(paths))
    assert adapter is not None
    return list(adapter.rows())


def _pgx(rows: list[Row]) -> dict[tuple[str, str], EdgeRow]:
    return {(r.source, r.target): r for r in rows if isinstance(r, EdgeRow) and r.type == RelType.PGX_AFFECTS}


def test_gene_table_has_the_well_known_ids() -> None:
    genes = read_gene_table()
    assert genes["CYP2C19"] == "1557" and genes["CYP2D6"] == "1565" and genes["HLA-B"] == "3106"
    assert genes["TPMT"] == "7172" and genes["DPYD"] == "1806" and genes["VKORC1"] == "79001"


def test_gene_table_rejects_non_numeric_ids(tmp_path: Path) -> None:
    bad = tmp_path / "genes.tsv"
    bad.write_text("symbol\tncbi_gene_id\tverified_by\nCYP2C19\tNCBIGene:1557\tcurated\n", encoding="utf-8")
    with pytest.raises(ValueError, match="ncbi_gene_id must be digits"):
        read_gene_table(bad)


def test_every_cpic_level_a_pair_loads(rows: list[Row], paths: SourcePaths) -> None:
    path = paths.resolve("cpic_pairs")
    assert path is not None
    level_a = pl.read_csv(path, infer_schema_length=0).filter(pl.col("CPICLevel") == "A").height
    edges = _pgx(rows)
    assert sum(1 for e in edges.values() if e.props["cpic_level"] == "A") == level_a == 99
    unmapped_a = [
        u for u in rows if isinstance(u, UnmappedReference) and u.origin in {e.origin for e in edges.values()}
    ]
    assert not unmapped_a


def test_clopidogrel_cyp2c19_carries_level_guideline_and_recommendations(rows: list[Row]) -> None:
    edge = _pgx(rows)[(CYP2C19, CLOPIDOGREL)]
    props = edge.props
    assert props["cpic_level"] == "A" and props["cpic_status"] == "Final"
    assert props["guideline_url"].startswith("https://cpicpgx.org/guidelines/")
    assert all(ref.startswith("PMID:") for ref in props["references"]) and props["references"]
    poor = [r for r in props["recommendations"] if r.startswith("CYP2C19 Poor Metabolizer: ")]
    assert poor and "prasugrel or ticagrelor" in poor[0]
    assert not any(r.endswith(": None") for r in props["recommendations"])


def test_abacavir_hla_b_and_gene_nodes(rows: list[Row]) -> None:
    assert _pgx(rows)[(HLA_B, ABACAVIR)].props["cpic_level"] == "A"
    genes = {r.id: r for r in rows if isinstance(r, NodeRow) and r.label == Label.GENE}
    assert genes[HLA_B].props["symbol"] == "HLA-B"
    assert len(genes) == len(set(genes)), "one node per gene"


def test_combination_drugs_link_each_ingredient(rows: list[Row], paths: SourcePaths) -> None:
    resolver = DrugResolver.from_paths(paths)
    targets = {t for (_, t) in _pgx(rows)}
    assert resolver.by_name("sulfamethoxazole") in targets and resolver.by_name("trimethoprim") in targets


def test_recommendations_name_both_genes_of_two_gene_rows(paths: SourcePaths) -> None:
    path = paths.resolve("cpic_recommendations")
    assert path is not None
    recs = recommendation_texts(path)
    tpmt = recs[("mercaptopurine", "TPMT")]
    wanted = "NUDT15 Normal Metabolizer, TPMT Possible Intermediate Metabolizer: Start with reduced starting doses"
    assert any(r.startswith(wanted) for r in tpmt)
    assert set(tpmt) == set(recs[("mercaptopurine", "NUDT15")]), "a two-gene row is listed under both genes"
