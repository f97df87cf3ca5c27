"""Condition code mapping against the real ICD-10-CM release and real HPO cross-references."""

from __future__ import annotations

import pytest

from graph_loader.adapters.icd10cm import Icd10CmAdapter
from graph_loader.rows import NodeRow
from ontology.condition_codes import ConditionCodeMapper, best_mapping, normalise_icd10cm
from ontology.curie import CodeSystemMap
from ontology.schema import GraphSchema

ICD_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"


@pytest.fixture(scope="module")
def icd_names() -> dict[str, str]:
    return {r.id: r.props["name"] for r in Icd10CmAdapter.installed().rows() if isinstance(r, NodeRow)}


@pytest.fixture(scope="module")
def icd_ids(icd_names: dict[str, str]) -> frozenset[str]:
    return frozenset(icd_names)


@pytest.fixture
def mapper(schema: GraphSchema, icd_ids: frozenset[str]) -> ConditionCodeMapper:
    known = icd_ids | {"HP:0001250", "OMIM:100001", "ORPHA:558"}
    # HPO's own xref: Seizure (HP:0001250) is SNOMED CT 91175000.
    return ConditionCodeMapper(CodeSystemMap.from_schema(schema), known, {"SNOMEDCT:91175000": ["HP:0001250"]})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("E11.9", "E11.9"), ("e119", "E11.9"), (" E11.9 ", "E11.9"), ("E 11.9", "E11.9"), ("ICD10CM:z331", "Z33.1")],
)
def test_icd10cm_spellings_normalise(raw: str, expected: str) -> None:
    assert normalise_icd10cm(raw) == expected


@pytest.mark.parametrize("raw", ["", "11.9", "E1", "diabetes", "E11.91234"])
def test_non_icd_shapes_are_refused(raw: str) -> None:
    assert normalise_icd10cm(raw) is None


@pytest.mark.parametrize(
    ("code", "curie", "words"),
    [
        ("E11.9", "ICD10CM:E11.9", "Type 2 diabetes"),
        ("n184", "ICD10CM:N18.4", "stage 4"),
        ("I48.91", "ICD10CM:I48.91", "atrial fibrillation"),
        ("O09.90", "ICD10CM:O09.90", "high risk pregnancy"),
        ("Z33.1 ", "ICD10CM:Z33.1", "Pregnant state"),
    ],
)
def test_real_icd10cm_codes_map_exactly(
    mapper: ConditionCodeMapper, icd_names: dict[str, str], code: str, curie: str, words: str
) -> None:
    result = mapper.map_coding(ICD_SYSTEM, code)
    assert (result.curies, result.match, result.confidence) == ((curie,), "exact", 1.0)
    assert words.lower() in icd_names[curie].lower()


def test_unknown_billable_code_falls_back_to_nearest_ancestor(mapper: ConditionCodeMapper) -> None:
    # E11.99 does not exist in ICD-10-CM; E11.9 does.
    result = mapper.map_icd10cm("E11.99")
    assert result.curies == ("ICD10CM:E11.9",)
    assert result.match == "ancestor"
    assert 0 < result.confidence < 1
    two_up = mapper.map_icd10cm("E11.9ZZ")
    assert two_up.curies == ("ICD10CM:E11.9",) and two_up.confidence < result.confidence


def test_graph_without_the_exact_code_uses_an_ancestor(schema: GraphSchema) -> None:
    known = {"ICD10CM:N18", "ICD10CM:N00-N99"}
    result = ConditionCodeMapper(CodeSystemMap.from_schema(schema), known).map_coding(ICD_SYSTEM, "N18.4")
    assert (result.curies, result.match) == (("ICD10CM:N18",), "ancestor")


def test_other_code_systems(mapper: ConditionCodeMapper) -> None:
    hpo = mapper.map_coding("http://human-phenotype-ontology.org", "HP:0001250")
    assert (hpo.curies, hpo.match) == (("HP:0001250",), "exact")
    assert mapper.map_coding("http://www.omim.org", "100001").curies == ("OMIM:100001",)
    assert mapper.map_coding("http://www.orpha.net/", "558").curies == ("ORPHA:558",)
    seizure = mapper.map_coding(SNOMED, "91175000")
    assert (seizure.curies, seizure.match) == (("HP:0001250",), "xref")


def test_unmapped_inputs_say_why(mapper: ConditionCodeMapper) -> None:
    viral_sinusitis = mapper.map_coding(SNOMED, "444814009")  # a Synthea condition with no graph node
    assert not viral_sinusitis.mapped and viral_sinusitis.curies == ()
    assert "SNOMEDCT:444814009" in viral_sinusitis.reason
    unknown_system = mapper.map_coding("http://example.org/local", "X1")
    assert unknown_system.match == "unmapped" and "code system" in unknown_system.reason
    assert "not shaped like" in mapper.map_coding(ICD_SYSTEM, "diabetes").reason
    assert "empty code" in mapper.map_coding(ICD_SYSTEM, "  ").reason


def test_best_mapping_prefers_the_most_confident(mapper: ConditionCodeMapper) -> None:
    results = mapper.map_codings([(SNOMED, "444814009"), (ICD_SYSTEM, "E11.99"), (ICD_SYSTEM, "E11.9")])
    assert len(results) == 3, "every coding gets a result, unmapped ones included"
    best = best_mapping(results)
    assert best is not None and best.match == "exact" and best.code == "E11.9"
    assert best_mapping(results[:1]) is None
