"""The phenopackets loader: de-identification, malformed lines, graph rows; on slices of the shared cases."""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from graph_loader.adapters.phenopackets import (
    DeidentifiedCase,
    PhenopacketError,
    PhenopacketsAdapter,
    age_range_from_duration,
    case_id_for,
    read_phenopackets,
)
from graph_loader.pipeline import build_graph
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow
from ontology.schema import GraphSchema
from ontology.vocab import Label, RelType

CASES_FILE = "phenopackets/dev.jsonl.gz"


def first_docs(shared_data: Path, n: int) -> list[dict[str, Any]]:
    docs = []
    with gzip.open(shared_data / CASES_FILE, "rt", encoding="utf-8") as handle:
        for line in handle:
            docs.append(json.loads(line))
            if len(docs) == n:
                break
    return docs


def write_jsonl(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_a_real_case_is_deidentified(shared_data: Path, tmp_path: Path) -> None:
    doc = first_docs(shared_data, 1)[0]  # PMID_15266616_100: Jacobsen syndrome, a 6-year-old girl
    (case,) = list(read_phenopackets(write_jsonl(tmp_path / "one.jsonl", [json.dumps(doc)])))
    assert isinstance(case, DeidentifiedCase)
    assert case.case_id == case_id_for("PMID_15266616_100") and case.case_id.startswith("CASE:")
    assert case.publication == "PMID:15266616"
    assert case.diagnoses == ("OMIM:147791",)
    assert case.age_range == "child" and case.sex == "female"
    assert "HP:0000348" in case.observed and "HP:0000243" in case.excluded
    # Nothing free-text or dated survives: no labels, no timestamps, no curator, no subject id.
    flat = json.dumps(case.__repr__())
    for leaked in ("High forehead", "Jacobsen", "2024-03-05", "ORCID", "telomeric", "P6Y"):
        assert leaked not in flat


def test_graph_rows_carry_no_identifying_text(shared_data: Path, tmp_path: Path, schema: GraphSchema) -> None:
    docs = first_docs(shared_data, 30)
    path = write_jsonl(tmp_path / "cases.jsonl", [json.dumps(d) for d in docs])
    rows = list(PhenopacketsAdapter(path).rows())
    cases = [r for r in rows if isinstance(r, NodeRow)]
    assert len(cases) == 30 and all(r.label == Label.CASE for r in cases)
    assert set(cases[0].props) <= {"publication", "age_range", "sex", "genes", "sources"}
    graph, report = build_graph([PhenopacketsAdapter(path)], schema)
    # Every Case node passes the schema; without the HPO source loaded, only the edges dangle.
    assert sum(1 for n in graph.nodes.values() if n.label == Label.CASE) == 30
    assert all(r.kind == "edge" and r.reason.startswith("dangling edge") for r in report.rejected)
    types = {r.type for r in rows if isinstance(r, EdgeRow)}
    assert types == {RelType.HAS_FINDING, RelType.DIAGNOSED_WITH}
    excluded_flags = {r.props["excluded"] for r in rows if isinstance(r, EdgeRow) and r.type == RelType.HAS_FINDING}
    assert excluded_flags == {True, False}


def test_malformed_lines_are_reported_and_the_rest_is_read(shared_data: Path, tmp_path: Path) -> None:
    good = first_docs(shared_data, 2)
    bad_term = copy.deepcopy(good[0])
    bad_term["phenotypicFeatures"][2]["type"]["id"] = "OMIM:147791"
    no_disease = copy.deepcopy(good[0])
    no_disease["interpretations"] = []
    no_disease["diseases"] = []
    bad_age = copy.deepcopy(good[0])
    bad_age["subject"]["timeAtLastEncounter"]["age"]["iso8601duration"] = "six years"
    lines = [
        json.dumps(good[0]),
        '{"id": "broken", ',
        json.dumps(bad_term),
        json.dumps({"phenotypicFeatures": []}),
        json.dumps(no_disease),
        json.dumps(bad_age),
        json.dumps(good[1]),
    ]
    items = list(read_phenopackets(write_jsonl(tmp_path / "mixed.jsonl", lines)))
    errors = [i for i in items if isinstance(i, PhenopacketError)]
    assert [i.phenopacket_id for i in items if isinstance(i, DeidentifiedCase)] == [good[0]["id"], good[1]["id"]]
    assert [(e.line, e.field) for e in errors] == [
        (2, "(json)"),
        (3, "phenotypicFeatures[2].type.id"),
        (4, "id"),
        (5, "interpretations[].diagnosis.disease.id"),
        (6, "subject.timeAtLastEncounter.age.iso8601duration"),
    ]
    assert str(errors[1]).startswith("mixed.jsonl:3: phenotypicFeatures[2].type.id: expected a HP: term")


def test_adapter_reports_malformed_lines_as_unmapped(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "bad.jsonl", ["not json"])
    (row,) = list(PhenopacketsAdapter(path).rows())
    assert isinstance(row, UnmappedReference) and row.origin == "phenopackets:1" and row.value == "(json)"


def test_genes_come_from_the_variant_gene_context(shared_data: Path) -> None:
    with_gene = None
    for item in read_phenopackets(shared_data / CASES_FILE):
        if isinstance(item, DeidentifiedCase) and item.phenopacket_id == "PMID_24573067_CASE_REPORT":
            with_gene = item
            break
    assert with_gene is not None and with_gene.genes == ("AAGAB",)
    assert with_gene.age_range == "older adult"


@pytest.mark.parametrize(
    ("duration", "expected"),
    [
        ("P3D", "neonatal"),
        ("P5M", "infant"),
        ("P1Y", "child"),
        ("P11Y11M", "child"),
        ("P12Y", "adolescent"),
        ("P18Y", "adult"),
        ("P70Y", "older adult"),
    ],
)
def test_ages_become_ranges(duration: str, expected: str) -> None:
    assert age_range_from_duration(duration) == expected


def test_the_whole_shared_file_reads(shared_data: Path) -> None:
    items = list(read_phenopackets(shared_data / CASES_FILE))
    cases = [i for i in items if isinstance(i, DeidentifiedCase)]
    errors = [i for i in items if isinstance(i, PhenopacketError)]
    assert len(items) == 7696
    assert len(cases) > 7680
    assert all(e.field == "phenotypicFeatures" for e in errors), "only cases without any observed term are refused"
    assert len({c.case_id for c in cases}) == len({c.phenopacket_id for c in cases})
    assert all(c.publication.startswith("PMID:") for c in cases)
