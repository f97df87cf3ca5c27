"""Curated LOINC lab tests: validated YAML that covers the labs real inputs use."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pytest

from graph_loader.adapters.lab_tests import LabTestsAdapter, load_catalog, loinc_check_digit
from graph_loader.pipeline import build_graph
from ontology.schema import GraphSchema

# Synthea vitals carry LOINC codes too, but they are measurements, not lab tests.
VITAL_SIGNS = {"29463-7", "8867-4", "8302-2", "39156-5"}


def test_catalog_loads_and_validates(schema: GraphSchema) -> None:
    graph, report = build_graph([LabTestsAdapter.from_yaml()], schema)
    assert report.rejected == []
    assert graph.nodes["LOINC:4548-4"].props["unit"] == "%"
    assert "HbA1c" in graph.nodes["LOINC:4548-4"].props["synonyms"]
    assert graph.nodes["LOINC:62238-1"].props["unit"] == "mL/min/{1.73_m2}"


def test_covers_synthea_lab_observations(shared_data: Path) -> None:
    observed: set[str] = set()
    with gzip.open(shared_data / "fhir" / "synthea_patients.ndjson.gz", "rt", encoding="utf-8") as bundles:
        for line in bundles:
            for entry in json.loads(line).get("entry", []):
                resource = entry["resource"]
                if resource["resourceType"] == "Observation":
                    observed |= {c["code"] for c in resource["code"]["coding"] if c["system"] == "http://loinc.org"}
    labs = {f"LOINC:{c}" for c in observed - VITAL_SIGNS}
    assert {"LOINC:33914-3", "LOINC:2160-0", "LOINC:6301-6"} <= labs
    assert labs <= LabTestsAdapter.from_yaml().codes


def test_covers_stopp_renal_rules(shared_data: Path) -> None:
    path = shared_data / "rules_sources" / "stopp_v2_renal_egfr_rules_huibers2018.csv"
    with path.open(encoding="utf-8") as rows:
        codes = {f"LOINC:{r['lab_code']}" for r in csv.DictReader(rows) if r["lab_system"] == "loinc"}
    assert codes == {"LOINC:62238-1"}
    assert codes <= LabTestsAdapter.from_yaml().codes


@pytest.mark.parametrize(("code", "check"), [("2160", 0), ("33914", 3), ("48643", 1), ("4548", 4), ("777", 3)])
def test_loinc_check_digit(code: str, check: int) -> None:
    assert loinc_check_digit(code) == check


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('version: "1"\ntests:\n  - {code: "48643-4", name: eGFR}\n', "check digit should be 1"),
        ('version: "1"\ntests:\n  - {code: "2160-0", name: a}\n  - {code: "2160-0", name: b}\n', "listed twice"),
        ('version: "1"\ntests:\n  - {code: "2160-0", name: a, units: mg}\n', "units"),
        ('version: "1"\ntests:\n  - {code: "K+", name: a}\n', "tests.0.code"),
    ],
)
def test_bad_yaml_is_refused_naming_the_field(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "labs.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_catalog(path)
