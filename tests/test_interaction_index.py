"""The compiled drug-class and interaction indexes, on the tiny graph and on real DDI sources.

Tiny graph additions for class-level tests::

    ATC:J02AC triazole derivatives  -IS_A->  ATC:J02A antimycotics for systemic use
    ATC:J02A  -INTERACTS_WITH(minor, test)->  warfarin       (a class entry: reaches fluconazole)
    ATC:J02AC -INTERACTS_WITH(major, other)-> ATC:J02A       (both ends classes of one drug)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from graph_loader.adapter import SourceAdapter
from graph_loader.adapters.ansm_thesaurus import class_id
from graph_loader.adapters.drug_vocabulary import drug_adapters
from graph_loader.adapters.interaction_sources import interaction_adapters
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver
from graph_loader.pipeline import load_graph
from graph_loader.report import LoadReport
from graph_loader.rows import EdgeRow, NodeRow
from graph_store.embedded import EmbeddedGraphStore
from knowledge_index.drug_classes import DrugClassIndex
from knowledge_index.interactions import InteractionIndex
from ontology.schema import GraphSchema
from ontology.vocab import Label, RelType, Severity
from tests.tiny_graph import ANSM, ONC, tiny_edges, tiny_nodes

WARFARIN, FLUCONAZOLE = "RXNORM:11289", "RXNORM:4450"
TRIAZOLES, ANTIMYCOTICS = "ATC:J02AC", "ATC:J02A"


@pytest.fixture
def tiny_store(tmp_path: Path, schema: GraphSchema) -> Iterator[EmbeddedGraphStore]:
    nodes = [*tiny_nodes(), NodeRow(Label.DRUG_CLASS, ANTIMYCOTICS, {"name": "antimycotics", "class_type": "atc"})]
    edges = [
        *tiny_edges(),
        EdgeRow(RelType.IS_A, TRIAZOLES, ANTIMYCOTICS, {"source": "atc@test"}),
        EdgeRow(
            RelType.INTERACTS_WITH,
            ANTIMYCOTICS,
            WARFARIN,
            {"source": "test@1", "severity": "minor", "description": "class entry"},
        ),
        EdgeRow(
            RelType.INTERACTS_WITH,
            TRIAZOLES,
            ANTIMYCOTICS,
            {"source": "other@1", "severity": "major", "description": "class-class entry"},
        ),
    ]
    store = EmbeddedGraphStore(tmp_path / "tiny", schema)
    store.replace_graph(nodes, edges, {})
    yield store
    store.close()


def test_class_index_includes_is_a_ancestors(tiny_store: EmbeddedGraphStore) -> None:
    classes = DrugClassIndex.from_store(tiny_store)
    assert classes.classes_of(FLUCONAZOLE) == {TRIAZOLES, ANTIMYCOTICS}
    assert classes.direct_classes_of_ingredient[FLUCONAZOLE] == {TRIAZOLES}
    assert classes.members_of(ANTIMYCOTICS) == {FLUCONAZOLE}
    assert classes.name_of(TRIAZOLES) == "triazole derivatives" and classes.type_of(TRIAZOLES) == "atc"
    assert classes.classes_of(WARFARIN) == frozenset()


def test_lookup_finds_ingredient_and_class_entries_in_both_orders(tiny_store: EmbeddedGraphStore) -> None:
    classes = DrugClassIndex.from_store(tiny_store)
    index = InteractionIndex.from_store(tiny_store)
    hits = index.lookup(WARFARIN, FLUCONAZOLE, classes)
    assert [(h.source, h.severity) for h in hits] == [
        (ONC, Severity.MAJOR),
        (ANSM, Severity.MODERATE),
        ("test@1", Severity.MINOR),
    ], "worst first; the class-class entry of fluconazole's own classes does not involve warfarin"
    class_hit = hits[2]
    assert (class_hit.key_a, class_hit.key_b) == (WARFARIN, ANTIMYCOTICS)
    assert class_hit.b_via_class and not class_hit.a_via_class and class_hit.class_level
    reverse = index.lookup(FLUCONAZOLE, WARFARIN, classes)
    assert [(h.key_a, h.key_b) for h in reverse][2] == (ANTIMYCOTICS, WARFARIN), "keys follow the query order"
    assert hits[1].source_text == "Augmentation de l'effet de l'anticoagulant oral."


def test_lookup_deduplicates_and_ignores_same_drug(tiny_store: EmbeddedGraphStore) -> None:
    classes = DrugClassIndex.from_store(tiny_store)
    index = InteractionIndex.from_store(tiny_store)
    assert index.lookup(FLUCONAZOLE, FLUCONAZOLE, classes) == []
    hits = index.lookup(WARFARIN, FLUCONAZOLE, classes)
    assert len(hits) == len({(h.source, h.key_a, h.key_b) for h in hits})
    assert index.lookup(WARFARIN, "RXNORM:999999", classes) == []
    assert index.worst(WARFARIN, FLUCONAZOLE, classes) is Severity.MAJOR


def test_interaction_and_index_are_frozen(tiny_store: EmbeddedGraphStore) -> None:
    classes = DrugClassIndex.from_store(tiny_store)
    hit = InteractionIndex.from_store(tiny_store).lookup(WARFARIN, FLUCONAZOLE, classes)[0]
    with pytest.raises(AttributeError):
        hit.key_a = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        classes.classes_of_ingredient[WARFARIN] = frozenset()  # type: ignore[index]


# -- real sources through the pipeline -------------------------------------------------------
@pytest.fixture(scope="module")
def real(
    tmp_path_factory: pytest.TempPathFactory, shared_data: Path, schema: GraphSchema
) -> Iterator[tuple[DrugClassIndex, InteractionIndex, DrugResolver, LoadReport]]:
    paths = SourcePaths(data_dir=shared_data)
    resolver = DrugResolver.from_paths(paths)
    adapters: list[SourceAdapter] = [*drug_adapters(paths, resolver), *interaction_adapters(paths, resolver)]
    store = EmbeddedGraphStore(tmp_path_factory.mktemp("ddi") / "graph", schema)
    report = load_graph(store, adapters, schema)
    yield DrugClassIndex.from_store(store), InteractionIndex.from_store(store), resolver, report
    store.close()


def _drug(resolver: DrugResolver, name: str) -> str:
    found = resolver.by_name(name)
    assert found is not None, name
    return found


def test_real_load_keeps_every_interaction_edge(
    real: tuple[DrugClassIndex, InteractionIndex, DrugResolver, LoadReport],
) -> None:
    _, index, _, report = real
    ddi_rejected = [r for r in report.rejected if r.origin.startswith(("onc_", "ansm_"))]
    assert not ddi_rejected, ddi_rejected[:5]
    assert report.sources["onc_high_priority"].edges == 1150
    assert len(index) > 5000


def test_warfarin_fluconazole_interact_through_the_vitamin_k_antagonist_class(
    real: tuple[DrugClassIndex, InteractionIndex, DrugResolver, LoadReport],
) -> None:
    # Clinically major; of the loaded sources only ANSM lists it, as "précaution d'emploi"
    # (moderate). The ONC lists pair warfarin with PPIs and NSAIDs but not with fluconazole.
    classes, index, resolver, _ = real
    hits = index.lookup(_drug(resolver, "warfarin"), _drug(resolver, "fluconazole"), classes)
    assert hits and hits[0].severity.rank <= Severity.MODERATE.rank
    ansm = [h for h in hits if h.key_a == class_id("ANTIVITAMINES K")]
    assert ansm and ansm[0].a_via_class and ansm[0].management
    assert ansm[0].description.startswith("Precaution for use: antivitamines K (vitamin K antagonists) + fluconazole")


def test_simvastatin_clarithromycin_is_contraindicated_by_ansm(
    real: tuple[DrugClassIndex, InteractionIndex, DrugResolver, LoadReport],
) -> None:
    classes, index, resolver, _ = real
    hits = index.lookup(_drug(resolver, "simvastatin"), _drug(resolver, "clarithromycin"), classes)
    ansm = [h for h in hits if h.source.startswith("ansm_thesaurus@")]
    assert ansm and ansm[0].severity is Severity.CONTRAINDICATED
    assert ansm[0].key_b == class_id("INHIBITEURS PUISSANTS DU CYP3A4"), "clarithromycin matched through its class"
    assert ansm[0].source_text and "rhabdomyolyse" in ansm[0].source_text


def test_sildenafil_nitroglycerin_interact(
    real: tuple[DrugClassIndex, InteractionIndex, DrugResolver, LoadReport],
) -> None:
    classes, index, resolver, _ = real
    hits = index.lookup(_drug(resolver, "nitroglycerin"), _drug(resolver, "sildenafil"), classes)
    assert hits and hits[0].severity.rank <= Severity.MAJOR.rank


def test_class_level_ansm_entry_reaches_a_member(
    real: tuple[DrugClassIndex, InteractionIndex, DrugResolver, LoadReport],
) -> None:
    classes, index, resolver, _ = real
    warfarin, ibuprofen = _drug(resolver, "warfarin"), _drug(resolver, "ibuprofen")
    assert class_id("ANTIVITAMINES K") in classes.classes_of(warfarin)
    hits = [h for h in index.lookup(warfarin, ibuprofen, classes) if h.source.startswith("ansm_thesaurus@")]
    assert hits and all(h.class_level for h in hits)
    assert any(h.b_via_class and classes.name_of(h.key_b).startswith("anti-inflammatoires") for h in hits)


def test_onc_qt_class_pair_reaches_two_torsadogenic_drugs(
    real: tuple[DrugClassIndex, InteractionIndex, DrugResolver, LoadReport],
) -> None:
    classes, index, resolver, _ = real
    hits = index.lookup(_drug(resolver, "sotalol"), _drug(resolver, "haloperidol"), classes)
    assert any(h.source.startswith("onc_class_pairs@") for h in hits)


def test_amoxicillin_paracetamol_has_no_major_interaction(
    real: tuple[DrugClassIndex, InteractionIndex, DrugResolver, LoadReport],
) -> None:
    classes, index, resolver, _ = real
    hits = index.lookup(_drug(resolver, "amoxicillin"), _drug(resolver, "acetaminophen"), classes)
    assert all(h.severity.rank > Severity.MAJOR.rank for h in hits)


@pytest.mark.parametrize(
    ("salt", "other"),
    [
        ("lithium carbonate", "hydrochlorothiazide"),  # stated for "LITHIUM" only
        ("lithium carbonate", "ibuprofen"),
        ("potassium chloride", "spironolactone"),  # "POTASSIUM" + potassium-sparing diuretics
        ("ferrous sulfate", "ciprofloxacin"),  # "FER" + fluoroquinolones
        ("calcium carbonate", "ciprofloxacin"),  # "CALCIUM" + fluoroquinolones
        ("divalproex sodium", "lamotrigine"),  # curated: stated for valproic acid
    ],
)
def test_a_mineral_salt_gets_the_interactions_stated_for_its_moiety(
    real: tuple[DrugClassIndex, InteractionIndex, DrugResolver, LoadReport], salt: str, other: str
) -> None:
    classes, index, resolver, _ = real
    salt_id, other_id = _drug(resolver, salt), _drug(resolver, other)
    (moiety,) = classes.moieties_of(salt_id)
    assert moiety in classes.classes_of(salt_id)
    hits = index.lookup(salt_id, other_id, classes)
    through_moiety = {moiety, *classes.classes_of(moiety)}  # stated for it, or for a class it is in
    assert any(h.key_a in through_moiety for h in hits), [(h.key_a, h.key_b) for h in hits]
    # The moiety's classes come along: ANSM puts lithium among the serotonergic drugs, and so lithium carbonate.
    assert classes.classes_of(moiety) <= classes.classes_of(salt_id)


def test_a_salt_and_its_moiety_share_no_interaction_with_each_other(
    real: tuple[DrugClassIndex, InteractionIndex, DrugResolver, LoadReport],
) -> None:
    classes, _, resolver, _ = real
    # Classes of the moiety reach both salts, so the engine (not the index) must treat them as one substance.
    carbonate, citrate = _drug(resolver, "lithium carbonate"), _drug(resolver, "lithium citrate")
    assert classes.moieties_of(carbonate) == classes.moieties_of(citrate) == {_drug(resolver, "lithium")}
    assert classes.moieties_of(_drug(resolver, "warfarin")) == frozenset()
