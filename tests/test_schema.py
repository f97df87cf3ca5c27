"""The OWL schema is the one source of labels, types, properties and code systems."""

from __future__ import annotations

from pathlib import Path

import pytest

from ontology.curie import CodeSystemMap, CurieError, split_curie
from ontology.schema import GraphSchema, SchemaError, default_schema_path, load_schema
from ontology.vocab import Label, RelType


def test_every_enum_member_is_declared_in_the_ontology(schema: GraphSchema) -> None:
    assert set(schema.nodes) == set(Label)
    assert set(schema.relationships) == set(RelType)


def test_interactions_are_symmetric_and_keyed_by_source(schema: GraphSchema) -> None:
    spec = schema.relationships[RelType.INTERACTS_WITH]
    assert spec.symmetric
    assert spec.key == ("source",)
    assert {"severity", "source", "description"} <= set(spec.required)
    assert spec.sources == {Label.DRUG, Label.DRUG_CLASS}
    assert not schema.relationships[RelType.IS_A].symmetric


def test_severity_values_are_closed(schema: GraphSchema) -> None:
    allowed = schema.properties["severity"].allowed_values
    assert allowed == {"contraindicated", "major", "moderate", "minor"}


def test_each_node_prefix_has_a_fhir_system(schema: GraphSchema) -> None:
    for spec in schema.nodes.values():
        for prefix in spec.id_prefixes:
            assert schema.code_systems[prefix].fhir_system.startswith(("http", "urn"))


def test_a_label_unknown_to_the_code_is_refused(tmp_path: Path) -> None:
    text = default_schema_path().read_text(encoding="utf-8")
    broken = tmp_path / "schema.ttl"
    broken.write_text(text.replace('kg:Gene a owl:Class ; kg:label "Gene"', 'kg:Gene a owl:Class ; kg:label "Genome"'))
    with pytest.raises(SchemaError, match="Genome"):
        load_schema(broken)


def test_an_undeclared_property_is_refused(tmp_path: Path) -> None:
    text = default_schema_path().read_text(encoding="utf-8")
    broken = tmp_path / "schema.ttl"
    broken.write_text(text.replace("kg:requiredProperty kg:symbol ;", "kg:requiredProperty kg:symbol, kg:nonsense ;"))
    with pytest.raises(SchemaError, match="nonsense"):
        load_schema(broken)


@pytest.mark.parametrize(
    ("curie", "system", "code"),
    [
        ("RXNORM:11289", "http://www.nlm.nih.gov/research/umls/rxnorm", "11289"),
        ("ICD10CM:E11.9", "http://hl7.org/fhir/sid/icd-10-cm", "E11.9"),
        ("LOINC:33914-3", "http://loinc.org", "33914-3"),
        ("SNOMEDCT:44054006", "http://snomed.info/sct", "44054006"),
        ("HP:0001250", "http://human-phenotype-ontology.org", "HP:0001250"),
    ],
)
def test_curies_map_to_fhir_and_back(schema: GraphSchema, curie: str, system: str, code: str) -> None:
    systems = CodeSystemMap.from_schema(schema)
    assert systems.to_fhir(curie) == (system, code)
    assert systems.from_fhir(system, code) == curie
    assert systems.from_fhir(system + "/", code) == curie


def test_unknown_systems_and_malformed_curies(schema: GraphSchema) -> None:
    systems = CodeSystemMap.from_schema(schema)
    assert systems.from_fhir("http://example.org/local-codes", "123") is None
    with pytest.raises(CurieError, match="not a CURIE"):
        split_curie("warfarin")
    with pytest.raises(CurieError, match="unknown CURIE prefix"):
        systems.to_fhir("FOO:1")
    assert systems.to_iri("HP:0001250") == "http://purl.obolibrary.org/obo/HP_0001250"
