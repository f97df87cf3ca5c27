"""The ONC and ANSM interaction adapters on the real source files (and slices of them)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from graph_loader.adapter import Row
from graph_loader.adapters.ansm_english_subset import AnsmEnglishSubsetAdapter, parse_severity
from graph_loader.adapters.ansm_glossary import AnsmGlossary, fold_text
from graph_loader.adapters.ansm_thesaurus import AnsmThesaurusAdapter, class_id, parse_level
from graph_loader.adapters.onc_ddi import (
    ANSM_TORSADES_CLASS,
    OncClassPairsAdapter,
    OncPairListAdapter,
    parse_class_pairs,
)
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow
from ontology.vocab import ClassType, Label, RelType, Severity

WARFARIN, FLUCONAZOLE, SIMVASTATIN = "RXNORM:11289", "RXNORM:4450", "RXNORM:36567"


@pytest.fixture(scope="module")
def paths(shared_data: Path) -> SourcePaths:
    return SourcePaths(data_dir=shared_data)


@pytest.fixture(scope="module")
def resolver(paths: SourcePaths) -> DrugResolver:
    return DrugResolver.from_paths(paths)


def _edges(rows: list[Row], rel: RelType = RelType.INTERACTS_WITH) -> list[EdgeRow]:
    return [r for r in rows if isinstance(r, EdgeRow) and r.type == rel]


def _between(edges: list[EdgeRow], a: str, b: str) -> list[EdgeRow]:
    return [e for e in edges if {e.source, e.target} == {a, b}]


# -- ONC -----------------------------------------------------------------------------------
def test_every_onc_high_priority_pair_reaches_the_graph_once(paths: SourcePaths, resolver: DrugResolver) -> None:
    adapter = OncPairListAdapter.high_priority(paths, resolver)
    assert adapter is not None
    rows = list(adapter.rows())
    edges = _edges(rows)
    unmapped = [r for r in rows if isinstance(r, UnmappedReference)]
    assert len(edges) + len(unmapped) >= 1150
    assert len(edges) == 1150, f"{len(unmapped)} unresolved: {unmapped[:5]}"
    assert all(e.source < e.target for e in edges), "stored once per unordered pair, lower id first"
    assert {e.props["severity"] for e in edges} == {"major"}
    assert all(e.props["interruptive"] is True for e in edges)
    assert adapter.name == "onc_high_priority" and adapter.version == "2012"
    assert all(e.props["source"] == "onc_high_priority@2012" for e in edges)


def test_onc_pair_list_resolves_by_name_when_drugbank_id_is_unknown(tmp_path: Path, resolver: DrugResolver) -> None:
    sliced = tmp_path / "onc.csv"
    sliced.write_text(
        "\ufeffWarfarin$DB99999$Fluconazole$DB00196$\r\nFluconazole$DB00196$Warfarin$DB00682$\r\n"
        "Notadrug$DB99998$Warfarin$DB00682$\r\n",
        encoding="utf-8",
    )
    rows = list(OncPairListAdapter("onc_high_priority", sliced, resolver, interruptive=True).rows())
    edges = _edges(rows)
    assert [(e.source, e.target) for e in edges] == [(WARFARIN, FLUCONAZOLE)], "both orders merge into one edge"
    unmapped = [r for r in rows if isinstance(r, UnmappedReference)]
    assert [u.origin for u in unmapped] == ["onc_high_priority:3"]


def test_onc_non_interruptive_is_minor_and_passive(paths: SourcePaths, resolver: DrugResolver) -> None:
    adapter = OncPairListAdapter.non_interruptive(paths, resolver)
    assert adapter is not None
    edges = _edges(list(adapter.rows()))
    assert len(edges) > 2000
    assert {e.props["severity"] for e in edges} == {"minor"}
    assert not any(e.props["interruptive"] for e in edges)


def test_onc_class_sheet_has_fifteen_pairs(paths: SourcePaths) -> None:
    path = paths.resolve("onc_class_pairs")
    assert path is not None
    pairs = parse_class_pairs(path)
    assert len(pairs) == 15
    by_number = {p.number: p for p in pairs}
    assert by_number[8].object_side.classes["SSRIs"][:2] == ["Fluoxetine", "Paroxetine"]
    assert "Fluconazole" in by_number[11].precipitant_side.classes["CYP3A4 Inhibitors / Azoles"]
    assert by_number[4].object_side.drugs == ["Atazanavir"], "a side without a class name lists loose drugs"


def test_onc_class_pairs_become_classes_with_members(paths: SourcePaths, resolver: DrugResolver) -> None:
    adapter = OncClassPairsAdapter.from_paths(paths, resolver)
    assert adapter is not None
    rows = list(adapter.rows())
    classes = {r.id: r for r in rows if isinstance(r, NodeRow) and r.label == Label.DRUG_CLASS}
    assert all(
        r.id.startswith("ONCDDI:") and r.props["class_type"] == ClassType.ONC_DDI_CLASS for r in classes.values()
    )
    ssri = "ONCDDI:pair8-ssris"
    members = {e.source for e in _edges(rows, RelType.MEMBER_OF_CLASS) if e.target == ssri}
    assert resolver.by_name("fluoxetine") in members and resolver.by_name("sertraline") in members
    interactions = _edges(rows)
    assert _between(interactions, ssri, "ONCDDI:pair8-maoi"), "the two classes of pair 8 interact"
    assert {e.props["severity"] for e in interactions} == {"major"}
    # QT-prolonging agents pair with themselves: a twin class carries the pair, ANSM torsadogens join both.
    qt = "ONCDDI:pair21-qt-prolonging-agents"
    assert _between(interactions, qt, qt + "-other")
    assert {(e.source, e.target) for e in _edges(rows, RelType.IS_A)} == {
        (ANSM_TORSADES_CLASS, qt),
        (ANSM_TORSADES_CLASS, qt + "-other"),
    }


# -- ANSM English subset ---------------------------------------------------------------------
def test_english_severity_labels_map_to_tiers() -> None:
    assert parse_severity("CONTRAINDICATION") is Severity.CONTRAINDICATED
    assert parse_severity("Not recommended") is Severity.MAJOR
    assert parse_severity("Precaution for use") is Severity.MODERATE
    assert parse_severity("Take into account") is Severity.MINOR
    with pytest.raises(ValueError, match="Severity"):
        parse_severity("Severe")


def test_english_subset_merges_both_orders_and_keeps_source_severity(
    paths: SourcePaths, resolver: DrugResolver
) -> None:
    adapter = AnsmEnglishSubsetAdapter.from_paths(paths, resolver)
    assert adapter is not None
    rows = list(adapter.rows())
    assert not [r for r in rows if isinstance(r, UnmappedReference)]
    edges = _edges(rows)
    assert len({(e.source, e.target) for e in edges}) == len(edges) == 323
    citalopram = resolver.by_name("citalopram")
    assert citalopram is not None
    found = _between(edges, WARFARIN, citalopram)
    assert len(found) == 1
    props = found[0].props
    assert props["severity"] == "moderate" and props["source_severity"] == "Precaution for use"
    assert "hemorrhage" in props["description"] and "INR" in props["management"]


# -- full ANSM thesaurus ---------------------------------------------------------------------
def test_ansm_level_labels_map_to_tiers() -> None:
    assert parse_level("CONTRE-INDICATION")[0] is Severity.CONTRAINDICATED
    assert parse_level("Association DECONSEILLEE") == (Severity.MAJOR, "Association déconseillée")
    assert parse_level("Précaution d'emploi")[0] is Severity.MODERATE
    assert parse_level("A prendre en compte")[0] is Severity.MINOR
    with pytest.raises(ValueError, match="ANSM severity level"):
        parse_level("Grave")


def test_class_ids_ignore_case_accents_and_split_hyphens() -> None:
    assert class_id("ANTI-INFLAMMATOIRES NON STÉROÏDIENS") == class_id("anti-inflammatoires non stéroïdiens")
    assert class_id("bêta- bloquants (sauf esmolol)") == class_id("BÊTA-BLOQUANTS (SAUF ESMOLOL)")
    assert class_id("SUBSTRATS À RISQUE DU CYP3A4") == "ANSM:substrats-a-risque-du-cyp3a4"


def test_glossary_renders_frequent_mechanisms_and_labels_the_rest() -> None:
    glossary = AnsmGlossary.load()
    rendered = glossary.mechanism_en(
        "Risque majoré de troubles du rythme ventriculaire, notamment de torsades de pointes."
    )
    assert rendered.startswith("Increased risk of ventricular arrhythmias; notably torsades de pointes")
    unknown = glossary.mechanism_en("Phénomène  inédit\nsans équivalent.")
    assert unknown == "mechanism (French source): Phénomène inédit sans équivalent."
    assert glossary.class_name_en("ANTICOAGULANTS ORAUX") == "oral anticoagulants"
    assert fold_text("l’abiratérone") == "l'abiraterone"


def test_glossary_covers_most_thesaurus_entries(paths: SourcePaths) -> None:
    path = paths.resolve("ansm_thesaurus")
    assert path is not None
    entries = json.loads(path.read_text(encoding="utf-8"))
    glossary = AnsmGlossary.load()
    covered = sum(1 for e in entries if glossary.matches(e["interaction_mechanism"]))
    assert covered / len(entries) > 0.8


def _thesaurus_slice(tmp_path: Path, entries: list[dict[str, object]], paths: SourcePaths) -> SourcePaths:
    (tmp_path / "thesaurus.json").write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    substances = [
        {"substance": "warfarine", "drug_classes": ["anticoagulants oraux", "antivitamines K"]},
        {"substance": "fluconazole", "drug_classes": []},
        {"substance": "substance inconnue", "drug_classes": ["anticoagulants oraux"]},
    ]
    (tmp_path / "substances.json").write_text(json.dumps(substances, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "rxnorm.tsv").write_text("substance\tRxNorm\nwarfarine\t11289\nfluconazole\tNA\n", encoding="utf-8")
    return SourcePaths(
        data_dir=tmp_path,
        ansm_thesaurus=Path("thesaurus.json"),
        ansm_substances=Path("substances.json"),
        ansm_rxnorm=Path("rxnorm.tsv"),
        ansm_english_subset=None,
    )


def _entry(
    main: str, plus: str, *levels: tuple[str, str], mechanism: str = "Augmentation du risque hémorragique."
) -> dict[str, object]:
    return {
        "main_drug": main,
        "between_main_and_plus_drug": "",
        "plus_drug": plus,
        "severity_levels": [{"level": lvl, "info": info} for lvl, info in levels],
        "interaction_mechanism": mechanism,
        "description": " ".join(lvl + " " + info for lvl, info in levels) + " " + mechanism,
    }


def test_ansm_merges_reverse_duplicates_keeping_every_level(
    tmp_path: Path, paths: SourcePaths, resolver: DrugResolver
) -> None:
    entries = [
        _entry("FLUCONAZOLE", "ANTIVITAMINES K", ("Précaution d'emploi", "Contrôle de l'INR.")),
        _entry("ANTIVITAMINES K", "FLUCONAZOLE", ("Association DECONSEILLEE", "à fortes doses")),
        _entry("FLUCONAZOLE", "ALCOOL (BOISSON OU EXCIPIENT)", ("A prendre en compte", ""), mechanism="Effet inédit."),
    ]
    adapter = AnsmThesaurusAdapter.from_paths(_thesaurus_slice(tmp_path, entries, paths), resolver)
    assert adapter is not None
    rows = list(adapter.rows())
    avk = class_id("antivitamines K")
    merged = _between(_edges(rows), FLUCONAZOLE, avk)
    assert len(merged) == 1
    props = merged[0].props
    assert props["severity"] == "major", "the worst level wins"
    assert "Précaution d'emploi: Contrôle de l'INR." in props["source_severity"]
    assert "Association déconseillée: à fortes doses" in props["source_severity"]
    assert props["source_language"] == "fr" and "Contrôle de l'INR" in props["source_text"]
    assert props["description"].startswith("Combination not recommended: ")
    assert "increased bleeding risk" in props["description"].lower()
    members = {(e.source, e.target) for e in _edges(rows, RelType.MEMBER_OF_CLASS)}
    assert (WARFARIN, avk) in members and (WARFARIN, class_id("anticoagulants oraux")) in members
    unmapped = [r for r in rows if isinstance(r, UnmappedReference)]
    assert [u.value for u in unmapped] == ["substance inconnue"]
    alcohol = _between(_edges(rows), FLUCONAZOLE, class_id("ALCOOL (BOISSON OU EXCIPIENT)"))
    assert alcohol and alcohol[0].props["mechanism"] == "mechanism (French source): Effet inédit."
    nodes = {r.id: r for r in rows if isinstance(r, NodeRow)}
    assert nodes[avk].props["class_type"] == "ansm_class" and nodes[avk].props["name"] == "antivitamines K"


def test_full_ansm_thesaurus_counts(paths: SourcePaths, resolver: DrugResolver) -> None:
    adapter = AnsmThesaurusAdapter.from_paths(paths, resolver)
    assert adapter is not None
    rows = list(adapter.rows())
    classes = [r for r in rows if isinstance(r, NodeRow)]
    interactions = _edges(rows)
    unmapped = [r for r in rows if isinstance(r, UnmappedReference)]
    assert 180 <= len(classes) <= 200
    assert len(interactions) >= 1570, "nearly all of the 1,585 unordered pairs"
    assert len(_edges(rows, RelType.MEMBER_OF_CLASS)) > 2000
    assert len(unmapped) < 40
    assert len({(e.source, e.target) for e in interactions}) == len(interactions)
    by_severity = Counter(e.props["severity"] for e in interactions)
    assert set(by_severity) == {"contraindicated", "major", "moderate", "minor"}
    strong_inhibitors = class_id("INHIBITEURS PUISSANTS DU CYP3A4")
    simva = _between(interactions, SIMVASTATIN, strong_inhibitors)
    assert simva and simva[0].props["severity"] == "contraindicated"
    clozapine_fluvoxamine = _between(
        interactions, resolver.by_name("clozapine") or "", resolver.by_name("fluvoxamine") or ""
    )
    assert "(WorldVista English translation)" in clozapine_fluvoxamine[0].props["mechanism"]
