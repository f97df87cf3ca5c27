"""Drug identity: every source's reference to one ingredient lands on one canonical Drug id."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from graph_loader.adapters.active_moieties import (
    ActiveMoietiesAdapter,
    CuratedForm,
    CuratedMoieties,
    load_curated_moieties,
)
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver, shared_resolver
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow
from ontology.drug_names import (
    acid_salt_variants,
    french_variants,
    moiety_name,
    normalize_drug_name,
    salt_stripped_candidates,
    strip_salt,
)


@pytest.fixture(scope="module")
def resolver(shared_data: Path) -> DrugResolver:
    return shared_resolver(SourcePaths(data_dir=shared_data))


def test_normalize_folds_case_accents_and_punctuation() -> None:
    assert normalize_drug_name("  Abémaciclib ") == "abemaciclib"
    assert normalize_drug_name("Insulin Isophane, Human") == "insulin isophane human"
    assert normalize_drug_name("4-Aminobenzoic  acid") == "4 aminobenzoic acid"


def test_salt_stripping_only_accepts_known_remainders() -> None:
    known = {"warfarin", "doxycycline"}
    assert strip_salt("warfarin sodium", known.__contains__) == "warfarin"
    assert strip_salt("doxycycline hyclate monohydrate", known.__contains__) == "doxycycline"
    assert strip_salt("sodium chloride", known.__contains__) is None
    assert list(salt_stripped_candidates("fluconazole")) == []


def test_moiety_name_is_what_is_left_of_a_salt_name() -> None:
    assert moiety_name("lithium carbonate") == "lithium"
    assert moiety_name("potassium chloride") == "potassium"
    assert moiety_name("magnesium oxide") == "magnesium"
    assert moiety_name("ferrous sulfate") == "iron"  # the cation named by its adjective
    assert moiety_name("medroxyprogesterone acetate") == "medroxyprogesterone"
    assert moiety_name("mycophenolate mofetil") == "mycophenolate"  # an ester: the acid acts
    assert moiety_name("magnesium salicylate") is None  # the salicylate is what acts
    assert moiety_name("d lysine") is None  # too little left to be a name
    assert moiety_name("lithium") is None and moiety_name("amoxicillin") is None


def test_mineral_salts_link_to_the_ingredient_that_acts(resolver: DrugResolver) -> None:
    links = {form: moiety for form, moiety, _ in resolver.active_moieties()}
    lithium, potassium, iron = (resolver.by_name(n) for n in ("lithium", "potassium", "iron"))
    assert lithium is not None and potassium is not None and iron is not None
    assert links[resolver.by_rxcui("42351") or ""] == lithium  # lithium carbonate
    assert links[resolver.by_rxcui("52105") or ""] == lithium  # lithium citrate
    assert links[resolver.by_rxcui("8591") or ""] == potassium  # potassium chloride
    assert links[resolver.by_rxcui("24947") or ""] == iron  # ferrous sulfate
    calcium_carbonate = resolver.by_rxcui("1897")
    assert calcium_carbonate is not None and resolver.name_of(links[calcium_carbonate]) == "Calcium"
    # Only primary names link: no ingredient is its own moiety, and a salicylate keeps its own action.
    assert all(form != moiety for form, moiety in links.items())
    assert resolver.by_rxcui("52364") not in links  # magnesium salicylate
    assert lithium not in links and resolver.by_name("warfarin") not in links
    # The anion's name finds the acid: mycophenolate mofetil is an ester of mycophenolic acid.
    assert links[resolver.by_rxcui("68149") or ""] == resolver.by_name("mycophenolic acid")


def test_forms_whose_name_hides_the_moiety_are_curated(resolver: DrugResolver, tmp_path: Path) -> None:
    rows = list(ActiveMoietiesAdapter(resolver).rows())
    edges = {(r.source, r.target) for r in rows if isinstance(r, EdgeRow)}
    assert (resolver.by_name("divalproex sodium"), resolver.by_name("valproic acid")) in edges
    assert (resolver.by_name("valganciclovir"), resolver.by_name("ganciclovir")) in edges  # an ester prodrug
    assert not [r for r in rows if isinstance(r, UnmappedReference)]
    # A curated name nobody knows is reported, not dropped; a misspelt key is refused when the file is read.
    unknown = CuratedMoieties(version="t", forms=[CuratedForm(form="zorblaxate", moiety="lithium", why="test")])
    (reported,) = [r for r in ActiveMoietiesAdapter(resolver, unknown).rows() if isinstance(r, UnmappedReference)]
    assert "zorblaxate" in str(reported)
    bad = tmp_path / "moieties.yaml"
    bad.write_text("version: t\nforms:\n  - {form: a, moiety: b, why: c, note: d}\n", encoding="utf-8")
    with pytest.raises(ValidationError, match="note"):
        load_curated_moieties(bad)


def test_french_variants_include_english_spelling() -> None:
    assert "warfarin" in set(french_variants("warfarine"))
    assert "folic acid" in set(french_variants("acide folique"))


def test_warfarin_is_one_node_from_every_source(resolver: DrugResolver) -> None:
    assert resolver.by_drugbank("DB00682") == "RXNORM:11289"
    assert resolver.by_rxcui("11289") == "RXNORM:11289"
    assert resolver.by_unii("5Q7ZVV76EI") == "RXNORM:11289"
    assert resolver.by_name("Warfarin Sodium") == "RXNORM:11289"
    assert resolver.by_rxcui("114194") == "RXNORM:11289"  # the PIN "warfarin sodium"
    assert resolver.by_name("WARFARINE") == "RXNORM:11289"  # French spelling
    warfarin_nodes = [
        n.id for n in resolver.drug_nodes() if "DRUGBANK:DB00682" in n.props["xrefs"] or n.id.endswith("DB00682")
    ]
    assert warfarin_nodes == ["RXNORM:11289"]


def test_a_ingredients_missing_from_rxnorm_2025_are_recovered(resolver: DrugResolver) -> None:
    assert resolver.by_name("amoxicillin") == "RXNORM:723"
    assert resolver.by_drugbank("DB01060") == "RXNORM:723"
    assert resolver.by_rxcui("723") == "RXNORM:723"
    assert resolver.by_name("aspirin") == "RXNORM:1191"
    assert resolver.by_name("amoxicilline") == "RXNORM:723"


def test_resolve_prefers_identifiers_over_name(resolver: DrugResolver) -> None:
    assert resolver.resolve(name="aspirin", rxcui="11289") == "RXNORM:11289"
    assert resolver.resolve(name="fluconazole", drugbank_id="DB99999999") == "RXNORM:4450"
    assert resolver.resolve() is None


def test_salt_forms_and_synonyms_resolve(resolver: DrugResolver) -> None:
    assert resolver.by_name("metoprolol succinate") == resolver.by_name("metoprolol") is not None
    assert resolver.by_name("doxycycline hyclate") == resolver.by_name("doxycycline") is not None
    assert resolver.by_name("paracetamol") == resolver.by_name("acetaminophen") == "RXNORM:161"


def test_unknown_and_ambiguous_names_resolve_to_none_with_reason(resolver: DrugResolver) -> None:
    assert resolver.by_name("not a drug at all") is None
    assert resolver.unresolved_reason("not a drug at all") == "unknown drug name"
    ambiguous = resolver.ambiguous_names()
    assert ambiguous, "the sources do share some names between ingredients"
    name, ids = next(iter(ambiguous.items()))
    assert len(ids) > 1
    assert resolver.by_name(name) is None
    assert resolver.unresolved_reason(name).startswith("ambiguous drug name")


def test_vocabulary_is_large_and_ids_are_unique(resolver: DrugResolver) -> None:
    nodes = list(resolver.drug_nodes())
    ids = [n.id for n in nodes]
    assert len(ids) == len(set(ids))
    rxnorm = [i for i in ids if i.startswith("RXNORM:")]
    assert len(rxnorm) >= 3000
    # No DrugBank id is claimed by two nodes.
    owners: dict[str, str] = {}
    for node in nodes:
        for xref in node.props["xrefs"]:
            if xref.startswith("DRUGBANK:"):
                assert owners.setdefault(xref, node.id) == node.id


def test_resolver_skips_sources_not_supplied(shared_data: Path) -> None:
    only_rxnorm = SourcePaths(
        data_dir=shared_data,
        rxnorm_products_2016=None,
        drugcentral_identifiers=None,
        drugbank_vocabulary=None,
    )
    small = DrugResolver.from_paths(only_rxnorm)
    assert small.by_name("warfarin") == "RXNORM:11289"
    assert small.by_name("amoxicillin") is None  # the 2025 extract lacks "A" ingredients
    assert small.version == "rxnorm_ingredients@2025-10-06"


def test_drugcentral_links_shared_with_prodrugs_stay_with_drugbanks_own_entry(resolver: DrugResolver) -> None:
    # DrugCentral gives DB00295 to morphine and diamorphine, DB01238 to aripiprazole and its lauroxil ester.
    assert resolver.by_drugbank("DB00295") == resolver.by_name("morphine") != resolver.by_name("diamorphine")
    assert resolver.by_drugbank("DB01238") == resolver.by_name("aripiprazole") == "RXNORM:89013"
    assert resolver.by_name("aripiprazole lauroxil") not in {None, "RXNORM:89013"}
    assert any("DRUGBANK:DB00295" in p.value for p in resolver.build_problems())


def test_acid_and_anion_spellings_are_one_ingredient(resolver: DrugResolver) -> None:
    assert resolver.by_name("clavulanic acid") == resolver.by_name("clavulanate") == "RXNORM:48203"
    assert resolver.by_drugbank("DB00766") == "RXNORM:48203"
    assert resolver.by_name("valproic acid") == resolver.by_name("valproate") is not None


def test_display_names_follow_rxnorm(resolver: DrugResolver) -> None:
    assert resolver.name_of("RXNORM:161") == "acetaminophen"  # not DrugCentral's "paracetamol"
    assert resolver.name_of("RXNORM:11289") == "warfarin"


def test_acid_salt_variants() -> None:
    assert list(acid_salt_variants("clavulanic acid")) == ["clavulanate"]
    assert list(acid_salt_variants("alendronate")) == ["alendronic acid"]
    assert list(acid_salt_variants("warfarin")) == []
