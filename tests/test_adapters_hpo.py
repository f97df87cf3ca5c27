"""HPO adapter: the raw-file route on a hand-cut release slice, and the compiled hpo3 route in full."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph_loader.adapters.hpo import Hpo3Adapter, HpoFilesAdapter
from graph_loader.adapters.hpo_frequency import FrequencyError, parse_frequency
from graph_loader.pipeline import LoadError, build_graph
from graph_loader.report import LoadReport, UnmappedReference
from graph_loader.rows import EdgeRow
from graph_loader.validate import ValidatedGraph
from ontology.schema import GraphSchema
from ontology.vocab import Label, RelType

OBO = """format-version: 1.2
data-version: hp/releases/2025-01-16
ontology: hp.obo

[Term]
id: HP:0000118
name: Phenotypic abnormality
def: "A phenotypic abnormality." [HPO:probinson]

[Term]
id: HP:0000707
name: Abnormality of the nervous system
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0001250
name: Seizure
def: "A seizure is an intermittent abnormality of nervous system physiology characterised by a \\"transient\\" \
occurrence of signs." [https://orcid.org/0000-0002-0736-9199]
synonym: "Epileptic seizure" EXACT []
synonym: "Seizures" EXACT plural_form []
xref: SNOMEDCT_US:91175000
xref: UMLS:C0036572
is_a: HP:0000707 ! Abnormality of the nervous system

[Term]
id: HP:0001166
name: Arachnodactyly
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000007
name: Autosomal recessive inheritance

[Term]
id: HP:0000001
name: obsolete All
is_obsolete: true

[Typedef]
id: part_of
name: part of
"""

HPOA_HEADER = """#description: "HPO annotations for rare diseases"
#version: 2025-01-16
#tracker: https://github.com/obophenotype/human-phenotype-ontology/issues
database_id\tdisease_name\tqualifier\thpo_id\treference\tevidence\tonset\tfrequency\tsex\tmodifier\taspect\tbiocuration
"""
HPOA_ROWS = [
    # Dravet syndrome: two publications with counts, pooled to 7/10.
    ("OMIM:607208", "Dravet syndrome", "", "HP:0001250", "PMID:1", "PCS", "HP:0003593", "3/4"),
    ("OMIM:607208", "Dravet syndrome", "", "HP:0001250", "PMID:2;OMIM:607208", "PCS", "", "4/6"),
    ("OMIM:607208", "Dravet syndrome", "", "HP:0000007", "OMIM:607208", "IEA", "", ""),  # aspect I, below
    # Marfan: a frequency term, and an excluded feature.
    ("OMIM:154700", "Marfan syndrome", "", "HP:0001166", "OMIM:154700", "TAS", "", "HP:0040281"),
    ("OMIM:154700", "Marfan syndrome", "NOT", "HP:0001250", "PMID:3", "PCS", "", ""),
    # ORPHA with a percentage; DECIPHER with no frequency; NOT and positive rows on one pair.
    ("ORPHA:558", "Marfan syndrome", "", "HP:0001166", "ORPHA:558", "TAS", "", "25%"),
    ("DECIPHER:1", "Wolf-Hirschhorn Syndrome", "", "HP:0001250", "DECIPHER:1", "IEA", "", ""),
    ("DECIPHER:1", "Wolf-Hirschhorn Syndrome", "NOT", "HP:0001250", "PMID:4", "PCS", "", ""),
]
GENES = """ncbi_gene_id\tgene_symbol\thpo_id\thpo_name\tfrequency\tdisease_id
6323\tSCN1A\tHP:0001250\tSeizure\t3/4\tOMIM:607208
6323\tSCN1A\tHP:0000707\tAbnormality of the nervous system\t-\tOMIM:607208
2200\tFBN1\tHP:0001166\tArachnodactyly\t-\tOMIM:154700
2200\tFBN1\tHP:0001166\tArachnodactyly\t-\tORPHA:558
"""


def write_release(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "hp.obo").write_text(OBO, encoding="utf-8")
    lines = []
    for row in HPOA_ROWS:
        aspect = "I" if row[3] == "HP:0000007" else "P"
        lines.append("\t".join([*row, "", "", aspect, "HPO:test[2025-01-01]"]))
    (directory / "phenotype.hpoa").write_text(HPOA_HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    (directory / "genes_to_phenotype.txt").write_text(GENES, encoding="utf-8")
    return directory


@pytest.fixture
def slice_graph(tmp_path: Path, schema: GraphSchema) -> tuple[ValidatedGraph, LoadReport]:
    adapter = HpoFilesAdapter.from_dir(write_release(tmp_path / "hpo"))
    return build_graph([adapter], schema)


def phenotype_edge(graph: ValidatedGraph, disease: str, hpo: str) -> EdgeRow:
    (edge,) = [e for e in graph.edges if e.type == RelType.HAS_PHENOTYPE and (e.source, e.target) == (disease, hpo)]
    return edge


@pytest.mark.parametrize(
    ("text", "value"),
    [
        *[("HP:0040280", 1.0), ("HP:0040281", 0.9), ("HP:0040282", 0.55), ("HP:0040283", 0.17)],
        *[("HP:0040284", 0.025), ("HP:0040285", 0.0), ("3/4", 0.75), ("0/5", 0.0), ("25%", 0.25)],
        *[("12.5%", 0.125), ("", None)],
    ],
)
def test_frequency_forms(text: str, value: float | None) -> None:
    assert parse_frequency(text) == value


@pytest.mark.parametrize("text", ["5/4", "1/0", "often", "HP:0000118", "150%"])
def test_unreadable_frequency_is_an_error(text: str) -> None:
    with pytest.raises(FrequencyError, match="frequency"):
        parse_frequency(text)


def test_file_route_builds_a_valid_graph(slice_graph: tuple[ValidatedGraph, LoadReport]) -> None:
    graph, report = slice_graph
    assert report.rejected == []
    assert report.sources["hpo_release_files"].version == "2025-01-16"
    seizure = graph.nodes["HP:0001250"]
    assert seizure.label == Label.PHENOTYPE
    assert seizure.props["synonyms"] == ["Epileptic seizure", "Seizures"]
    assert seizure.props["definition"].startswith(
        "A seizure is an intermittent abnormality of nervous system physiology"
    )
    assert '"transient"' in seizure.props["definition"]
    assert seizure.props["xrefs"] == ["SNOMEDCT:91175000", "UMLS:C0036572"]
    assert "HP:0000001" not in graph.nodes, "obsolete terms are not loaded"
    is_a = {(e.source, e.target) for e in graph.edges if e.type == RelType.IS_A}
    assert is_a == {("HP:0000707", "HP:0000118"), ("HP:0001250", "HP:0000707"), ("HP:0001166", "HP:0000118")}
    diseases = {i for i, n in graph.nodes.items() if n.label == Label.DISEASE}
    assert diseases == {"OMIM:607208", "OMIM:154700", "ORPHA:558", "DECIPHER:1"}
    assert graph.nodes["DECIPHER:1"].props["name"] == "Wolf-Hirschhorn Syndrome"


def test_annotations_keep_frequency_onset_evidence_and_references(
    slice_graph: tuple[ValidatedGraph, LoadReport],
) -> None:
    graph, _ = slice_graph
    dravet = phenotype_edge(graph, "OMIM:607208", "HP:0001250")
    assert dravet.props["frequency"] == pytest.approx(7 / 10), "counts from two publications are pooled"
    assert dravet.props["frequency_term"] == "3/4;4/6"
    assert dravet.props["onset"] == "HP:0003593"
    assert dravet.props["evidence"] == "PCS"
    assert dravet.props["references"] == ["PMID:1", "PMID:2", "OMIM:607208"]
    assert dravet.props["source"] == "hpo_release_files@2025-01-16"
    marfan = phenotype_edge(graph, "OMIM:154700", "HP:0001166")
    assert (marfan.props["frequency"], marfan.props["frequency_term"]) == (0.9, "HP:0040281")
    assert phenotype_edge(graph, "ORPHA:558", "HP:0001166").props["frequency"] == 0.25
    assert "frequency" not in phenotype_edge(graph, "DECIPHER:1", "HP:0001250").props, "stated positive wins over NOT"
    inheritance = [e for e in graph.edges if e.target == "HP:0000007"]
    assert inheritance == [], "only phenotypic-abnormality (aspect P) annotations become edges"


def test_not_annotations_are_explicit_exclusions(slice_graph: tuple[ValidatedGraph, LoadReport]) -> None:
    graph, _ = slice_graph
    excluded = phenotype_edge(graph, "OMIM:154700", "HP:0001250")
    assert excluded.props["frequency"] == 0.0
    assert excluded.props["frequency_term"] == "HP:0040285"
    assert excluded.props["evidence"].startswith("NOT")


def test_genes_and_disease_gene_links(slice_graph: tuple[ValidatedGraph, LoadReport]) -> None:
    graph, _ = slice_graph
    assert graph.nodes["NCBIGene:6323"].props == {"symbol": "SCN1A"}
    links = {(e.source, e.target) for e in graph.edges if e.type == RelType.ASSOCIATED_WITH_GENE}
    assert links == {("OMIM:607208", "NCBIGene:6323"), ("OMIM:154700", "NCBIGene:2200"), ("ORPHA:558", "NCBIGene:2200")}


def test_bad_frequency_is_reported_not_dropped(tmp_path: Path, schema: GraphSchema) -> None:
    directory = write_release(tmp_path / "hpo")
    hpoa = directory / "phenotype.hpoa"
    hpoa.write_text(hpoa.read_text(encoding="utf-8").replace("\t25%\t", "\t9/4\t"), encoding="utf-8")
    rows = list(HpoFilesAdapter.from_dir(directory).rows())
    unmapped = [r for r in rows if isinstance(r, UnmappedReference)]
    assert [u.value for u in unmapped] == ["9/4"]
    graph, _ = build_graph([HpoFilesAdapter.from_dir(directory)], schema)
    assert "frequency" not in phenotype_edge(graph, "ORPHA:558", "HP:0001166").props


def test_missing_release_files_fail_the_load_naming_the_setting(tmp_path: Path, schema: GraphSchema) -> None:
    (tmp_path / "hp.obo").write_text(OBO, encoding="utf-8")
    with pytest.raises(LoadError, match=r"hpo_dir: .* lacks phenotype\.hpoa, genes_to_phenotype\.txt"):
        build_graph([HpoFilesAdapter.from_dir(tmp_path)], schema)


def test_compiled_hpo3_route_meets_the_goal_counts(schema: GraphSchema) -> None:
    adapter = Hpo3Adapter.load()
    graph, report = build_graph([adapter], schema)
    assert report.rejected == []
    labels = [n.label for n in graph.nodes.values()]
    assert labels.count(Label.PHENOTYPE) >= 15_000
    assert labels.count(Label.GENE) >= 4_000
    annotated = {e.source for e in graph.edges if e.type == RelType.HAS_PHENOTYPE}
    assert len(annotated) >= 8_000
    # Marfan syndrome shows arachnodactyly; Dravet syndrome shows status epilepticus.
    pairs = {(e.source, e.target) for e in graph.edges if e.type == RelType.HAS_PHENOTYPE}
    assert ("OMIM:154700", "HP:0001166") in pairs
    assert ("OMIM:607208", "HP:0002133") in pairs
    assert ("OMIM:154700", "HP:0000006") not in pairs, "inheritance modes are not phenotype edges"
