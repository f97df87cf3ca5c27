"""Compiling the drug lexicon from a store: ambiguity rules on hand-made rows, then the real
drug adapters' output (see tests/drug_normalizer_store.py) for the issue's examples."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evaluation.drug_mapping_coverage import DEFAULT_BUNDLES, measure_coverage
from graph_loader.rows import EdgeRow, NodeRow
from graph_store.embedded import EmbeddedGraphStore
from knowledge_index.drug_lexicon import (
    build_drug_lexicon,
    build_drug_lexicon_with_report,
    lexicon_cache_key,
    load_or_build_drug_lexicon,
)
from ontology.drug_normalizer import DrugLexicon, MatchType, normalize_drug
from ontology.schema import GraphSchema
from ontology.vocab import Label, RelType
from tests.drug_normalizer_store import drug_store

RXNORM_SYSTEM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def _drug(drug_id: str, name: str, synonyms: list[str] | None = None, xrefs: list[str] | None = None) -> NodeRow:
    return NodeRow(Label.DRUG, drug_id, {"name": name, "synonyms": synonyms or [], "xrefs": xrefs or []})


def _product(product_id: str, name: str, tty: str, brands: list[str] | None = None) -> NodeRow:
    return NodeRow(Label.DRUG_PRODUCT, product_id, {"name": name, "tty": tty, "synonyms": brands or []})


def _has(product_id: str, drug_id: str) -> EdgeRow:
    return EdgeRow(RelType.HAS_INGREDIENT, product_id, drug_id, {"source": "test@1"})


@pytest.fixture
def small_store(tmp_path: Path, schema: GraphSchema) -> EmbeddedGraphStore:
    store = EmbeddedGraphStore(tmp_path / "graph", schema)
    nodes = [
        _drug("RXNORM:723", "amoxicillin", xrefs=["DRUGBANK:DB01060"]),
        _drug("RXNORM:48203", "clavulanate", ["clavulanate potassium"]),
        _drug("RXNORM:435", "albuterol", ["salbutamol"]),
        _drug("RXNORM:237159", "levalbuterol", ["(-)-Albuterol", "levosalbutamol"]),
        # "tocopherol" is a synonym of two different ingredients: must not be guessed.
        _drug("RXNORM:11256", "vitamin E", ["tocopherol"]),
        _drug("RXNORM:402899", "alpha-tocopherol acetate", ["tocopherol"]),
        _product(
            "RXNORM:617296",
            "amoxicillin 875 MG / clavulanate 125 MG Oral Tablet [Augmentin]",
            "SBD",
            ["Augmentin"],
        ),
    ]
    edges = [_has("RXNORM:617296", "RXNORM:723"), _has("RXNORM:617296", "RXNORM:48203")]
    store.replace_graph(nodes, edges, {"built": "test"})
    return store


def test_names_synonyms_brands_and_codes(small_store: EmbeddedGraphStore, schema: GraphSchema) -> None:
    lexicon, report = build_drug_lexicon_with_report(small_store, schema)
    assert lexicon.names["amoxicillin"] == ("RXNORM:723",)
    assert lexicon.name_kinds["clavulanate potassium"] is MatchType.SYNONYM
    # a combination brand keeps both ingredients: they come from one multi-ingredient product
    assert lexicon.names["augmentin"] == ("RXNORM:723", "RXNORM:48203")
    assert lexicon.name_kinds["augmentin"] is MatchType.BRAND
    assert lexicon.code_ingredients["DRUGBANK:DB01060"] == ("RXNORM:723",)
    assert lexicon.product_ingredients["RXNORM:617296"] == ("RXNORM:723", "RXNORM:48203")
    assert lexicon.code_systems[RXNORM_SYSTEM] == "RXNORM"
    assert report.ingredients == 6 and report.products == 1


def test_ambiguous_single_ingredient_names_are_dropped_and_counted(
    small_store: EmbeddedGraphStore, schema: GraphSchema
) -> None:
    lexicon, report = build_drug_lexicon_with_report(small_store, schema)
    assert "tocopherol" not in lexicon.names
    assert report.ambiguous_names_dropped >= 1
    assert any(example.startswith("tocopherol ->") for example in report.ambiguous_name_examples)
    # "(-)-Albuterol" names the enantiomer; it must not make "albuterol" ambiguous
    assert lexicon.names["albuterol"] == ("RXNORM:435",)


def test_cache_is_reused_until_the_store_changes(
    small_store: EmbeddedGraphStore, schema: GraphSchema, tmp_path: Path
) -> None:
    cache = tmp_path / "index-cache"
    first, cached = load_or_build_drug_lexicon(small_store, cache, schema)
    assert not cached
    again, cached = load_or_build_drug_lexicon(small_store, cache, schema)
    assert cached and again == first
    key = lexicon_cache_key(small_store)
    small_store.upsert([_drug("RXNORM:36567", "simvastatin")], [])
    assert lexicon_cache_key(small_store) != key
    rebuilt, cached = load_or_build_drug_lexicon(small_store, cache, schema)
    assert not cached and "simvastatin" in rebuilt.names
    assert len(list(cache.glob("drug_lexicon-*.pickle"))) == 1


def test_unreadable_cache_is_rebuilt(small_store: EmbeddedGraphStore, schema: GraphSchema, tmp_path: Path) -> None:
    cache = tmp_path / "index-cache"
    load_or_build_drug_lexicon(small_store, cache, schema)
    (cache_file,) = cache.glob("drug_lexicon-*.pickle")
    cache_file.write_bytes(b"not a pickle")
    lexicon, cached = load_or_build_drug_lexicon(small_store, cache, schema)
    assert not cached and "amoxicillin" in lexicon.names


# ---- the real drug adapters --------------------------------------------------------------
@pytest.fixture(scope="session")
def real_lexicon(tmp_path_factory: pytest.TempPathFactory, shared_data: Path, schema: GraphSchema) -> DrugLexicon:
    store = drug_store(tmp_path_factory.getbasetemp() / "drug_normalizer", shared_data, schema)
    return build_drug_lexicon(store, schema)


def _ingredient_names(lexicon: DrugLexicon, text: str | None = None, code: str | None = None) -> list[str]:
    return [ref.name for ref in normalize_drug(lexicon, text=text, code=code, system=RXNORM_SYSTEM).ingredients]


def test_warfarin_products_brands_salts_and_spellings(real_lexicon: DrugLexicon) -> None:
    for text in ("Warfarin Sodium 5 MG Oral Tablet", "COUMADIN", "Jantoven", "warfarine", "warfarin sodium"):
        assert _ingredient_names(real_lexicon, text) == ["warfarin"], text
    warfarin_scd = normalize_drug(real_lexicon, code="855332", system=RXNORM_SYSTEM)
    assert warfarin_scd.match_type is MatchType.PRODUCT_CODE
    assert [ref.id for ref in warfarin_scd.ingredients] == ["RXNORM:11289"]


def test_amoxicillin_capsule_code_missing_from_rxnorm_resolves_from_text(real_lexicon: DrugLexicon) -> None:
    assert "RXNORM:308191" not in real_lexicon.product_ingredients
    match = normalize_drug(real_lexicon, text="Amoxicillin 500 MG Oral Capsule", code="308191", system=RXNORM_SYSTEM)
    assert [ref.id for ref in match.ingredients] == ["RXNORM:723"]
    assert match.match_type is MatchType.PARSED_NAME


def test_amoxicillin_clavulanate_has_both_ingredients(real_lexicon: DrugLexicon) -> None:
    text = "amoxicillin 875 MG / clavulanate potassium 125 MG Oral Tablet"
    assert sorted(_ingredient_names(real_lexicon, text)) == ["amoxicillin", "clavulanate"]
    # the 2025 file links this product to clavulanate only; amoxicillin comes back from its name
    assert sorted(_ingredient_names(real_lexicon, code="562251")) == ["amoxicillin", "clavulanate"]


def test_metoprolol_succinate_and_extended_release(real_lexicon: DrugLexicon) -> None:
    assert _ingredient_names(real_lexicon, "metoprolol succinate") == ["metoprolol"]
    er = "24 HR metoprolol succinate 100 MG Extended Release Oral Tablet"
    assert _ingredient_names(real_lexicon, er) == ["metoprolol"]


def test_pack_brand_lists_every_ingredient(real_lexicon: DrugLexicon) -> None:
    names = _ingredient_names(real_lexicon, "Yaz 28 Day Pack")
    assert {"drospirenone", "ethinyl estradiol"} <= set(names)


def test_nonsense_is_unmapped(real_lexicon: DrugLexicon) -> None:
    match = normalize_drug(real_lexicon, text="xylophone 5 MG Oral Tablet")
    assert match.match_type is MatchType.UNMAPPED and match.reason


def test_synthea_medication_codings_map_even_without_their_products(
    real_lexicon: DrugLexicon, shared_data: Path
) -> None:
    # This store holds few products, so nearly every coding must map from its display text alone.
    report = measure_coverage(real_lexicon, shared_data / DEFAULT_BUNDLES)
    assert report.total > 800
    assert report.share_mapped >= 0.98, report.to_json()["unmapped"]
    assert all(reason for (_code, _display, reason) in report.unmapped)


def test_coverage_reads_text_only_concepts_and_reports_unmapped(real_lexicon: DrugLexicon, tmp_path: Path) -> None:
    bundle = {
        "resourceType": "Bundle",
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "p1"}},
            {
                "resource": {
                    "resourceType": "MedicationRequest",
                    "medicationCodeableConcept": {
                        "coding": [{"system": RXNORM_SYSTEM, "code": "855332", "display": "Warfarin Sodium 5 MG"}]
                    },
                }
            },
            {"resource": {"resourceType": "MedicationRequest", "medicationCodeableConcept": {"text": "metoprolol"}}},
            {"resource": {"resourceType": "MedicationRequest", "medicationCodeableConcept": {"text": "zzyzx"}}},
        ],
    }
    path = tmp_path / "bundles.ndjson"
    path.write_text(json.dumps(bundle) + "\n", encoding="utf-8")
    report = measure_coverage(real_lexicon, path)
    assert (report.total, report.mapped) == (3, 2)
    assert report.by_match_type == {"product_code": 1, "name": 1, "unmapped": 1}
    assert [display for (_code, display, _reason) in report.unmapped] == ["zzyzx"]
