"""The index parts the engine reads, on the hand-made graph of ``rules_fixture_graph``."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

import pytest

from graph_store.embedded import EmbeddedGraphStore
from knowledge_index.allergy import AllergyIndex
from knowledge_index.drug_classes import DrugClassIndex
from knowledge_index.indications import IndicationIndex
from knowledge_index.interactions import InteractionIndex
from knowledge_index.pgx import PgxIndex, parse_recommendations
from ontology.schema import GraphSchema
from rules.graph_knowledge import IndexInteractions
from rules.ruleset import CompiledMatch
from rules.schema import DrugMatch
from tests import rules_fixture_graph as g


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, schema: GraphSchema) -> EmbeddedGraphStore:
    return g.build_rules_store(Path(tmp_path_factory.mktemp("rules_index")), schema)


def test_allergy_groups_and_cross_reactivity_both_ways(store: EmbeddedGraphStore) -> None:
    index = AllergyIndex.from_store(store)
    assert index.groups_of(g.AMOXICILLIN) == {"ALLERGYGROUP:penicillin"}
    assert index.members_of_group["ALLERGYGROUP:nsaid"] == {g.IBUPROFEN, g.NAPROXEN}
    assert index.groups_of(g.WARFARIN) == frozenset()  # ANSM classes are not allergy groups
    to_ceph = [c.to_group for c in index.cross_reactions["ALLERGYGROUP:penicillin"]]
    to_pen = [c.to_group for c in index.cross_reactions["ALLERGYGROUP:cephalosporin"]]
    assert to_ceph == ["ALLERGYGROUP:cephalosporin"] and to_pen == ["ALLERGYGROUP:penicillin"]


def test_pgx_pairs_keep_level_and_phenotype_recommendations(store: EmbeddedGraphStore) -> None:
    pairs = {p.gene_symbol: p for p in PgxIndex.from_store(store).pairs_for(g.CLOPIDOGREL)}
    assert pairs["CYP2C19"].cpic_level == "A" and pairs["CES1"].cpic_level == "C"
    assert "prasugrel" in (pairs["CYP2C19"].recommendation_for("poor  METABOLIZER") or "")


def test_recommendation_parsing_drops_empty_advice() -> None:
    parsed = parse_recommendations(
        "CYP2C19", ["CYP2C19 Indeterminate: None", "CYP2C19 Poor Metabolizer: Avoid.", "junk"]
    )
    assert parsed == {"poor metabolizer": "Avoid."}


def test_indication_alternatives_rank_by_shared_indications(store: EmbeddedGraphStore) -> None:
    index = IndicationIndex.from_store(store)
    assert set(index.ranked_alternatives(g.FLUCONAZOLE)) == {g.ITRACONAZOLE, g.TERBINAFINE}
    assert index.ranked_alternatives(g.WARFARIN) == ()


def test_fast_interaction_views_agree_with_the_shared_index(store: EmbeddedGraphStore) -> None:
    classes = DrugClassIndex.from_store(store)
    shared = InteractionIndex.from_store(store)
    ours = IndexInteractions.build(shared, classes)
    drugs = {*classes.classes_of_ingredient, g.SIMVASTATIN, g.CLARITHROMYCIN, g.METFORMIN}
    compared = 0
    for a, b in combinations(sorted(drugs), 2):
        expected = {(h.key_a, h.key_b, h.source, h.severity) for h in shared.lookup(a, b, classes)}
        pairwise = {(f.matched_a, f.matched_b, f.source, f.severity) for f in ours.interactions(a, b)}
        per_drug = {(f.matched_a, f.matched_b, f.source, f.severity) for f in ours.for_drug(a).interactions_with(b)}
        assert pairwise == expected == per_drug, (a, b)
        compared += bool(expected)
    assert compared >= 4
    assert ours.interacts_with_keys(g.ITRACONAZOLE, (ours.interaction_keys([g.WARFARIN]),))
    assert not ours.interacts_with_keys(g.TERBINAFINE, (ours.interaction_keys([g.WARFARIN]),))
    # keys split over several sets are read as their union
    assert ours.interacts_with_keys(g.ITRACONAZOLE, (frozenset(), ours.interaction_keys([g.WARFARIN])))


def test_a_rule_naming_the_moiety_covers_its_salts(store: EmbeddedGraphStore) -> None:
    classes = DrugClassIndex.from_store(store)
    carbonate = classes.classes_of(g.LITHIUM_CARBONATE)
    assert classes.moieties_of(g.LITHIUM_CARBONATE) == {g.LITHIUM} and g.LITHIUM in carbonate
    on_lithium = CompiledMatch.of(DrugMatch(ingredients=[g.LITHIUM]))
    assert on_lithium.matches(g.LITHIUM_CARBONATE, carbonate) == g.LITHIUM
    assert on_lithium.matches(g.WARFARIN, classes.classes_of(g.WARFARIN)) is None
    # Excluding the moiety excludes every form of it.
    nsaids_but_lithium = CompiledMatch.of(DrugMatch(classes=["ANSM:AINS"], exclude_ingredients=[g.LITHIUM]))
    assert nsaids_but_lithium.matches(g.LITHIUM_CARBONATE, carbonate | {"ANSM:AINS"}) is None
    assert nsaids_but_lithium.matches(g.IBUPROFEN, classes.classes_of(g.IBUPROFEN)) == "ANSM:AINS"
