"""Drug vocabulary adapters: RxNorm products, DrugCentral classes and indications, allergy groups, ATC."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest
from pydantic import ValidationError

from graph_loader.adapter import Row
from graph_loader.adapters.allergy_groups import AllergyGroupsAdapter, load_allergy_curations
from graph_loader.adapters.atc import AtcAdapter, atc_parent
from graph_loader.adapters.drug_indications import DrugCentralIndicationsAdapter, PharmacotherapyDBAdapter
from graph_loader.adapters.drug_vocabulary import DrugVocabularyAdapter, drug_adapters
from graph_loader.adapters.drugcentral_classes import DrugCentralClassesAdapter
from graph_loader.adapters.rxnorm import RxNormProductsAdapter, brand_of, ingredient_names_in
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver, shared_resolver
from graph_loader.pipeline import build_graph
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow
from ontology.allergen_text import GroupPhrases, allergen_name
from ontology.schema import GraphSchema
from ontology.vocab import Label, RelType

AMOXICILLIN, CLAVULANATE, WARFARIN, FLUCONAZOLE = "RXNORM:723", "RXNORM:48203", "RXNORM:11289", "RXNORM:4450"


@pytest.fixture(scope="module")
def resolver(shared_data: Path) -> DrugResolver:
    return shared_resolver(SourcePaths(data_dir=shared_data))


def _slice(source: Path, dest: Path, keep: Iterable[str]) -> Path:
    """The header plus every line containing one of ``keep``: a small real extract for one test."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    wanted = tuple(keep)
    dest.write_text(lines[0] + "".join(line for line in lines[1:] if any(k in line for k in wanted)), encoding="utf-8")
    return dest


def _edges(rows: list[Row], rel: RelType) -> set[tuple[str, str]]:
    return {(r.source, r.target) for r in rows if isinstance(r, EdgeRow) and r.type == rel}


def _nodes(rows: list[Row]) -> dict[str, NodeRow]:
    return {r.id: r for r in rows if isinstance(r, NodeRow)}


def _unmapped(rows: list[Row]) -> list[UnmappedReference]:
    return [r for r in rows if isinstance(r, UnmappedReference)]


# --- RxNorm products -------------------------------------------------------------------


def test_ingredient_names_are_read_from_product_names() -> None:
    assert ingredient_names_in("amoxicillin 875 MG / clavulanate 125 MG Oral Tablet [Augmentin]") == [
        "amoxicillin",
        "clavulanate",
    ]
    assert ingredient_names_in("24 HR metoprolol succinate 100 MG Extended Release Oral Tablet") == [
        "metoprolol succinate"
    ]
    pack = (
        "{1 (30 ML) (hydrocortisone 20 MG/ML Topical Lotion) / "
        "1 (118 ML) (salicylic acid 20 MG/ML / sulfur 20 MG/ML Medicated Shampoo) } Pack"
    )
    assert ingredient_names_in(pack) == ["hydrocortisone", "salicylic acid", "sulfur"]
    assert brand_of("warfarin sodium 5 MG Oral Tablet [Coumadin]") == "Coumadin"
    assert brand_of("warfarin sodium 5 MG Oral Tablet") is None


def test_missing_a_ingredients_are_recovered_from_the_product_name(
    shared_data: Path, tmp_path: Path, resolver: DrugResolver
) -> None:
    products = _slice(
        shared_data / "rxnorm/rxnorm_prescribe_20251006_product_ingredient_noA.csv",
        tmp_path / "products.csv",
        ["562508,", "308238,"],  # amoxicillin 875 MG / clavulanate; amylase 60 MG / papain 60 MG
    )
    # No 2016 map: amoxicillin can only come back through the product's display name.
    paths = SourcePaths(data_dir=shared_data, rxnorm_products=products, rxnorm_products_2016=None)
    rows = list(RxNormProductsAdapter(paths, resolver).rows())
    has_ingredient = _edges(rows, RelType.HAS_INGREDIENT)
    assert {("RXNORM:562508", AMOXICILLIN), ("RXNORM:562508", CLAVULANATE)} <= has_ingredient
    nodes = _nodes(rows)
    assert nodes["RXNORM:562508"].props["tty"] == "SCD"
    # "amylase" is an "A" ingredient nobody knows: reported, not dropped.
    assert any(u.value == "amylase" and "RXNORM:308238" in u.reason for u in _unmapped(rows))


def test_branded_products_carry_their_brand_and_resolve_salt_ingredients(
    shared_data: Path, tmp_path: Path, resolver: DrugResolver
) -> None:
    products = _slice(
        shared_data / "rxnorm/rxnorm_prescribe_20251006_product_ingredient_noA.csv",
        tmp_path / "products.csv",
        ["[Jantoven]"],
    )
    paths = SourcePaths(data_dir=shared_data, rxnorm_products=products, rxnorm_products_2016=None)
    rows = list(RxNormProductsAdapter(paths, resolver).rows())
    jantoven = [n for n in _nodes(rows).values() if n.label == Label.DRUG_PRODUCT]
    assert jantoven
    assert all(n.props["tty"] == "SBD" and n.props["synonyms"] == ["Jantoven"] for n in jantoven)
    # The file links both the IN "warfarin" and the PIN "warfarin sodium": one ingredient edge each.
    assert {target for _, target in _edges(rows, RelType.HAS_INGREDIENT)} == {WARFARIN}


# --- DrugCentral classes and indications -----------------------------------------------


def test_fluconazole_is_an_azole_antifungal(shared_data: Path, tmp_path: Path, resolver: DrugResolver) -> None:
    classes = _slice(
        shared_data / "drugs/drugcentral2016_pharm_class.tsv",
        tmp_path / "classes.tsv",
        ["\tfluconazole\t", "\tbendazol\t"],
    )
    paths = SourcePaths(data_dir=shared_data, drugcentral_pharm_class=classes)
    rows = list(DrugCentralClassesAdapter(paths, resolver).rows())
    nodes = _nodes(rows)
    epc = nodes["NDFRT:N0000175487"]
    assert epc.props == {"name": "Azole Antifungal", "class_type": "EPC", "sources": ["drugcentral_classes@2016"]}
    assert nodes["MESH:D058888"].props["class_type"] == "PA"
    members = _edges(rows, RelType.MEMBER_OF_CLASS)
    assert (FLUCONAZOLE, "NDFRT:N0000175487") in members
    assert (FLUCONAZOLE, "MESH:D000935") in members  # MeSH Antifungal Agents
    assert any("bendazol" in u.value for u in _unmapped(rows))  # no RxNorm/DrugBank id anywhere


def test_indications_prefer_doid_then_snomed(shared_data: Path, tmp_path: Path, resolver: DrugResolver) -> None:
    indications = _slice(
        shared_data / "drugs/drugcentral2016_drug_indication.tsv",
        tmp_path / "indications.tsv",
        ["\toxyphenisatine\t", "\tbemotrizinol\t", "Tetanus Adjunct Treatment"],
    )
    paths = SourcePaths(data_dir=shared_data, drugcentral_indications=indications)
    rows = list(DrugCentralIndicationsAdapter(paths, resolver).rows())
    nodes = _nodes(rows)
    constipation = nodes["DOID:2089"]
    assert constipation.label == Label.DISEASE
    assert constipation.props["name"] == "Constipation"
    assert "SNOMEDCT:14760008" in constipation.props["xrefs"]
    assert "SNOMEDCT:49663007" in nodes  # sunscreen: no DOID, so SNOMED CT
    assert any(u.value == "Tetanus Adjunct Treatment" for u in _unmapped(rows))
    assert {target for _, target in _edges(rows, RelType.TREATS)} >= {"DOID:2089", "SNOMEDCT:49663007"}


def test_pharmacotherapydb_skips_non_indications(shared_data: Path, resolver: DrugResolver) -> None:
    rows = list(PharmacotherapyDBAdapter(SourcePaths(data_dir=shared_data), resolver).rows())
    treats = {(e.source, e.target): e for e in rows if isinstance(e, EdgeRow)}
    donepezil = resolver.by_drugbank("DB00843")
    assert donepezil is not None
    assert treats[(donepezil, "DOID:10652")].props["evidence"] == "disease-modifying"  # Alzheimer's disease
    assert all(e.props["evidence"] in {"disease-modifying", "symptomatic"} for e in treats.values())
    assert len(treats) < 1388 - 243  # the 243 NOT rows are gone


# --- allergy groups --------------------------------------------------------------------


def test_amoxicillin_is_a_penicillin_and_penicillins_cross_react(shared_data: Path, resolver: DrugResolver) -> None:
    rows = list(AllergyGroupsAdapter.from_paths(SourcePaths(data_dir=shared_data), resolver).rows())
    members = _edges(rows, RelType.MEMBER_OF_CLASS)
    assert (AMOXICILLIN, "ALLERGYGROUP:penicillin") in members
    assert (resolver.by_name("imipenem"), "ALLERGYGROUP:carbapenem") in members  # curated extra member
    group = _nodes(rows)["ALLERGYGROUP:penicillin"]
    assert group.props["name"] == "Penicillins"
    assert group.props["class_type"] == "allergy_group"
    cross = {(e.source, e.target): e for e in rows if isinstance(e, EdgeRow) and e.type == RelType.CROSS_REACTS_WITH}
    penicillin_to_cephalosporin = cross[("ALLERGYGROUP:penicillin", "ALLERGYGROUP:cephalosporin")]
    assert penicillin_to_cephalosporin.props["risk"] == "low"
    assert penicillin_to_cephalosporin.props["references"]
    assert ("ALLERGYGROUP:penicillin", "ALLERGYGROUP:carbapenem") in cross
    assert ("ALLERGYGROUP:sulfonamide_antibacterial", "ALLERGYGROUP:sulfonamide_nonantibacterial") in cross
    # Shared R1 side chain: amoxicillin -> cefalexin is a higher risk than penicillins -> cephalosporins.
    assert (AMOXICILLIN, "ALLERGYGROUP:aminopenicillin") in members
    assert (resolver.by_name("cephalexin"), "ALLERGYGROUP:aminocephalosporin") in members
    assert cross[("ALLERGYGROUP:aminopenicillin", "ALLERGYGROUP:aminocephalosporin")].props["risk"] == "moderate"


def test_allergy_lists_name_groups_by_their_curated_synonyms(shared_data: Path, resolver: DrugResolver) -> None:
    rows = list(AllergyGroupsAdapter.from_paths(SourcePaths(data_dir=shared_data), resolver).rows())
    groups = {
        node.id: [node.props["name"], *node.props.get("synonyms", [])]
        for node in rows
        if isinstance(node, NodeRow) and node.props.get("class_type") == "allergy_group"
    }
    phrases = GroupPhrases(groups)

    def named(text: str) -> set[str]:
        return {g.removeprefix("ALLERGYGROUP:") for g in phrases.groups_in(allergen_name(text))}

    assert named("Allergy to penicillin") == {"penicillin"}
    assert named("PCN") == {"penicillin"}
    assert named("Sulfa drugs") == named("Allergy to sulfonamide (disorder)") == {"sulfonamide_antibacterial"}
    assert named("Non-antibacterial sulfonamides") == {"sulfonamide_nonantibacterial"}
    assert named("NSAIDs") == named("Nonsteroidal anti-inflammatory drug allergy") == {"nsaid"}
    assert named("Opiates") == {"opioid"}
    assert named("Beta-lactam antibiotics") == {"penicillin", "cephalosporin", "carbapenem"}
    assert named("Beta-lactamase inhibitors") == {"beta_lactamase_inhibitor"}
    assert named("amoxicillin") == named("Allergy to peanuts") == set()


def _write_yaml(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "allergy.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_curated_yaml_is_validated_strictly(tmp_path: Path) -> None:
    good = "version: x\ngroups:\n  a: {name: A}\n  b: {name: B}\ncross_reactions:\n"
    reaction = "  - {from: a, to: b, risk: low, description: d, references: [r]}\n"
    assert load_allergy_curations(_write_yaml(tmp_path, good + reaction)).cross_reactions[0].to_group == "b"
    with pytest.raises(ValidationError, match="risk"):
        load_allergy_curations(_write_yaml(tmp_path, good + reaction.replace("low", "tiny")))
    with pytest.raises(ValidationError, match="'c' is not listed"):
        load_allergy_curations(_write_yaml(tmp_path, good + reaction.replace("to: b", "to: c")))
    with pytest.raises(ValidationError, match="itself"):
        load_allergy_curations(_write_yaml(tmp_path, good + reaction.replace("to: b", "to: a")))
    with pytest.raises(ValidationError, match="severity"):
        load_allergy_curations(_write_yaml(tmp_path, good + reaction.replace("risk: low", "risk: low, severity: x")))


def test_packaged_curations_cover_every_seed_group(shared_data: Path) -> None:
    curated = load_allergy_curations()
    seed_groups = {
        line.split(",", 1)[0]
        for line in (shared_data / "drugs/allergy_class_seed.csv").read_text(encoding="utf-8").splitlines()[1:]
    }
    assert seed_groups <= set(curated.groups)


# --- ATC -------------------------------------------------------------------------------


def test_atc_levels_and_members(shared_data: Path, resolver: DrugResolver) -> None:
    assert atc_parent("J01CA04") == "J01CA"
    assert atc_parent("J01") == "J"
    assert atc_parent("J") is None
    assert AtcAdapter.from_paths(SourcePaths(data_dir=shared_data), resolver) is None  # off unless supplied
    paths = SourcePaths(data_dir=shared_data, atc=Path("atc/atc_who_2026-04-25.csv"))
    adapter = AtcAdapter.from_paths(paths, resolver)
    assert adapter is not None
    assert adapter.version == "2026-04-25"
    rows = list(adapter.rows())
    nodes = _nodes(rows)
    assert nodes["ATC:J01CA"].props["class_type"] == "atc"
    assert "ATC:J01CA04" not in nodes  # level 5 is a substance, not a class
    assert ("ATC:J01CA", "ATC:J01C") in _edges(rows, RelType.IS_A)
    members = _edges(rows, RelType.MEMBER_OF_CLASS)
    assert (AMOXICILLIN, "ATC:J01CA") in members
    assert (WARFARIN, "ATC:B01AA") in members
    combination = [u for u in _unmapped(rows) if u.value == "amoxicillin and beta-lactamase inhibitor"]
    assert combination and "combination" in combination[0].reason


# --- the drug part of a load, end to end -----------------------------------------------


def test_drug_adapters_build_a_valid_graph(shared_data: Path, schema: GraphSchema, resolver: DrugResolver) -> None:
    paths = SourcePaths(data_dir=shared_data)
    graph, report = build_graph(drug_adapters(paths, resolver), schema)
    assert report.rejected == []
    labels = [n.label for n in graph.nodes.values()]
    assert labels.count(Label.DRUG) >= 3000
    assert labels.count(Label.DRUG_PRODUCT) > 10000
    edges = {(e.type, e.source, e.target) for e in graph.edges}
    assert (RelType.HAS_INGREDIENT, "RXNORM:562508", AMOXICILLIN) in edges
    assert (RelType.MEMBER_OF_CLASS, AMOXICILLIN, "ALLERGYGROUP:penicillin") in edges
    assert (RelType.MEMBER_OF_CLASS, FLUCONAZOLE, "NDFRT:N0000175487") in edges
    assert "atc" not in report.sources  # ATC is user-supplied only


def test_vocabulary_adapter_reports_ambiguous_names(resolver: DrugResolver) -> None:
    rows = list(DrugVocabularyAdapter(resolver).rows())
    drugs = _nodes(rows)
    assert drugs[WARFARIN].props["name"] == "warfarin"
    assert "DRUGBANK:DB00682" in drugs[WARFARIN].props["xrefs"]
    ambiguous = {u.value: u.reason for u in _unmapped(rows) if u.reason.startswith("ambiguous drug name")}
    assert ambiguous.keys() == resolver.ambiguous_names().keys()
    assert all(resolver.by_name(name) is None for name in ambiguous)
