"""The shipped rules and index parts against the real source files in ../shared/data."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path

import polars as pl
import pytest

from graph_loader.rows import EdgeRow, NodeRow
from graph_store.embedded import EmbeddedGraphStore
from knowledge_index.allergy import AllergyIndex
from knowledge_index.pgx import PgxIndex
from ontology.schema import GraphSchema
from ontology.vocab import Label, RelType, Severity
from rules.engine import RulesEngine
from rules.graph_knowledge import knowledge_from_store
from rules.ruleset import DEFAULT_LIBRARY, RuleSet, read_rule_files
from rules.schema import Rule
from tests.rules_patients import NOW, allergy, genotype, med, patient


@pytest.fixture(scope="module")
def library() -> dict[str, Rule]:
    rules, _, problems, _ = read_rule_files(DEFAULT_LIBRARY, None)
    assert problems == []
    return {r.id: r for r in rules}


def test_renal_rules_match_the_stopp_renal_table(shared_data: Path, library: dict[str, Rule]) -> None:
    path = shared_data / "rules_sources" / "stopp_v2_renal_egfr_rules_huibers2018.csv"
    with path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6
    for row in rows:
        code = row["rule_id"].split()[1].lower()  # "STOPP E6" -> "e6"
        (rule,) = [r for r in library.values() if r.id.startswith(f"stopp-{code}-")]
        assert rule.kind == "renal" and rule.conditions.lab is not None
        assert rule.conditions.lab.test == "egfr" and rule.conditions.lab.operator == row["operator"]
        assert rule.conditions.lab.value == float(row["threshold"])
        first_atc = row["atc_codes"].split("|")[0]
        assert f"ATC:{first_atc}" in rule.match.classes


def _stopp_icd10(xml_path: Path) -> dict[str, set[str]]:
    codes: dict[str, set[str]] = {}
    for rule in ET.parse(xml_path).getroot():
        found = codes.setdefault(rule.get("id", ""), set())
        for term in rule.iter("terminology"):
            if term.get("name") == "icd10":
                found.update((v.text or "").strip() for v in term.iter("value"))
    return codes


def test_drug_disease_icd10_codes_come_from_the_stopp_xml(shared_data: Path, library: dict[str, Rule]) -> None:
    stopp = _stopp_icd10(shared_data / "rules_sources" / "stoppstart_v2_huibers2018.xml")
    checked = 0
    for rule in library.values():
        if rule.kind != "drug-disease" or not rule.id.startswith("stopp-"):
            continue
        stopp_id = "STOPP " + rule.id.split("-")[1].upper()
        ours = {
            c.removeprefix("ICD10CM:").rstrip("*") for c in rule.conditions.any_condition if c.startswith("ICD10CM:")
        }
        # every ICD-10 code we ship is one the criterion names, or a subcode of one
        for code in ours:
            assert any(code.startswith(src) for src in stopp[stopp_id]), (rule.id, code)
        checked += 1
    assert checked >= 6


def _real_pgx_rows(shared_data: Path, drug: str, gene: str, gene_id: str, rxcui: str) -> list[EdgeRow]:
    table = pl.read_csv(shared_data / "pgx" / "cpic-table.csv", infer_schema_length=0)
    pair = table.filter((pl.col("Drug") == drug) & (pl.col("Gene") == gene)).row(0, named=True)
    recs = pl.read_csv(shared_data / "pgx" / "recommendation-table.csv", infer_schema_length=0)
    texts = [
        f"{gene} {r['Phenotype1']}: {r['Recommendation']}"
        for r in recs.filter((pl.col("Drug") == drug) & (pl.col("Gene1") == gene)).iter_rows(named=True)
    ]
    props = {"source": "cpic@test", "cpic_level": pair["CPICLevel"], "guideline_url": pair["Guideline"]}
    return [EdgeRow(RelType.PGX_AFFECTS, gene_id, f"RXNORM:{rxcui}", {**props, "recommendations": texts})]


def test_real_cpic_clopidogrel_recommendations(tmp_path: Path, schema: GraphSchema, shared_data: Path) -> None:
    store = EmbeddedGraphStore(tmp_path, schema)
    nodes = [
        NodeRow(Label.GENE, "NCBIGene:1557", {"symbol": "CYP2C19"}),
        NodeRow(Label.DRUG, "RXNORM:32968", {"name": "clopidogrel"}),
    ]
    store.replace_graph(nodes, _real_pgx_rows(shared_data, "clopidogrel", "CYP2C19", "NCBIGene:1557", "32968"), {})
    pgx = PgxIndex.from_store(store)
    (pair,) = pgx.pairs_for("RXNORM:32968")
    assert pair.cpic_level == "A"
    engine = RulesEngine(knowledge_from_store(store), RuleSet.empty())
    draft = (med("RXNORM:32968", "clopidogrel 75 mg", draft=True),)
    for phenotype, fires in [
        ("Poor Metabolizer", True),
        ("Intermediate Metabolizer", True),
        ("Normal Metabolizer", False),
        ("Ultrarapid Metabolizer", False),
        ("Indeterminate", False),
    ]:
        found = engine.evaluate(patient(genotypes=(genotype("CYP2C19", phenotype),), drafts=draft), NOW)
        assert bool(found) is fires, phenotype
        if fires:
            assert "prasugrel or ticagrelor" in (found[0].management or "")
            assert found[0].severity is (Severity.MAJOR if phenotype.startswith("Poor") else Severity.MODERATE)


def test_real_allergy_seed_puts_amoxicillin_among_penicillins(
    tmp_path: Path, schema: GraphSchema, shared_data: Path
) -> None:
    seed = pl.read_csv(shared_data / "drugs" / "allergy_class_seed.csv", infer_schema_length=0)
    wanted = seed.filter(pl.col("allergy_group").is_in(["penicillin", "cephalosporin"]))
    wanted = wanted.filter(pl.col("rxnorm_ingredient_rxcui").is_not_null()).unique(["allergy_group", "ingredient_name"])
    nodes = [
        NodeRow(Label.DRUG_CLASS, f"ALLERGYGROUP:{g}", {"name": g, "class_type": "allergy_group"})
        for g in ("penicillin", "cephalosporin")
    ]
    edges = []
    for row in wanted.iter_rows(named=True):
        drug = f"RXNORM:{row['rxnorm_ingredient_rxcui']}"
        nodes.append(NodeRow(Label.DRUG, drug, {"name": row["ingredient_name"]}))
        edges.append(
            EdgeRow(RelType.MEMBER_OF_CLASS, drug, f"ALLERGYGROUP:{row['allergy_group']}", {"source": "seed@t"})
        )
    edges.append(
        EdgeRow(
            RelType.CROSS_REACTS_WITH,
            "ALLERGYGROUP:penicillin",
            "ALLERGYGROUP:cephalosporin",
            {"source": "seed@t", "risk": "low"},
        )
    )
    store = EmbeddedGraphStore(tmp_path, schema)
    store.replace_graph({n.id: n for n in nodes}.values(), edges, {})
    index = AllergyIndex.from_store(store)
    assert index.groups_of("RXNORM:723") == {"ALLERGYGROUP:penicillin"}  # amoxicillin
    engine = RulesEngine(knowledge_from_store(store), RuleSet.empty())
    penicillin_allergy = allergy("Allergy to penicillin", groups=("ALLERGYGROUP:penicillin",))
    (f,) = engine.evaluate(
        patient(allergies=(penicillin_allergy,), drafts=(med("RXNORM:723", "amoxicillin", draft=True),)), NOW
    )
    assert f.rule_id == "kgcds.allergy.group"
    (c,) = engine.evaluate(
        patient(allergies=(penicillin_allergy,), drafts=(med("RXNORM:2231", "cephalexin", draft=True),)), NOW
    )
    assert c.rule_id == "kgcds.allergy.cross-sensitivity" and c.severity is Severity.MINOR
