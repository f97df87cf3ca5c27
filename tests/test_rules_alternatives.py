"""Replacement suggestions are clinically sensible: same indication, same route, no interaction with the
patient's other drugs, no allergy (same group or cross-reacting); otherwise only "remove" is offered.

The graph is the rules fixture plus real RxNorm products (names and RXCUIs from the shared RxNorm file):
an injection-only antifungal (micafungin), one with no product at all (amphotericin B), an injectable
fluconazole, and oral antibacterials sharing an indication with amoxicillin.
"""

from __future__ import annotations

import csv
from dataclasses import replace as replace_knowledge
from pathlib import Path
from typing import ClassVar

import pytest

from graph_loader.report import LoadReport
from graph_loader.rows import EdgeRow, NodeRow
from graph_loader.validate import GraphValidator
from graph_store.embedded import EmbeddedGraphStore
from knowledge_index.indications import IndicationIndex, local_site, route_of
from ontology.schema import GraphSchema
from ontology.vocab import Label, RelType
from rules.alternatives import ranked_candidates
from rules.engine import RulesEngine
from rules.findings import Finding
from rules.graph_knowledge import knowledge_from_store
from rules.patient import MedicationEntry
from rules.ruleset import RuleSet
from tests import rules_fixture_graph as g
from tests.rules_patients import NOW, allergy, med, patient

MICAFUNGIN, AMPHOTERICIN_B, PIROXICAM = "RXNORM:325887", "RXNORM:732", "RXNORM:8356"
TOLMETIN, ENOXAPARIN, HEPARINS = "RXNORM:10636", "RXNORM:67108", "ANSM:HEPARINES"
BACTERIAL_INFECTION, OSTEOARTHRITIS = "DOID:104", "DOID:8398"
FLUCONAZOLE_150_TABLET, FLUCONAZOLE_IV = "RXNORM:197699", "RXNORM:1721314"
RXNORM_FILE = "rxnorm/rxnorm_prescribe_20251006_product_ingredient_noA.csv"


def _extra_rows() -> tuple[list[NodeRow], list[EdgeRow]]:
    nodes = [
        NodeRow(Label.DRUG, MICAFUNGIN, {"name": "micafungin"}),
        NodeRow(Label.DRUG, AMPHOTERICIN_B, {"name": "amphotericin B"}),
        NodeRow(Label.DRUG_PRODUCT, "RXNORM:861379", {"name": "micafungin 50 MG Injection", "tty": "SCD"}),
        NodeRow(Label.DRUG_PRODUCT, FLUCONAZOLE_IV, {"name": "200 ML fluconazole 2 MG/ML Injection", "tty": "SCD"}),
        NodeRow(Label.DRUG_PRODUCT, "RXNORM:197517", {"name": "clarithromycin 500 MG Oral Tablet", "tty": "SCD"}),
        NodeRow(Label.DRUG_PRODUCT, "RXNORM:309114", {"name": "cephalexin 500 MG Oral Capsule", "tty": "SCD"}),
        NodeRow(
            Label.DRUG_PRODUCT, "RXNORM:834102", {"name": "penicillin V potassium 500 MG Oral Tablet", "tty": "SCD"}
        ),
        NodeRow(Label.DISEASE, BACTERIAL_INFECTION, {"name": "bacterial infectious disease"}),
        # piroxicam: an NSAID outside the fixture's ANSM NSAID class, so only the pharmacist rule
        # stopp-c10-nsaid-anticoagulant (which lists it) says it interacts with warfarin
        NodeRow(Label.DRUG, PIROXICAM, {"name": "piroxicam"}),
        NodeRow(Label.DRUG_PRODUCT, "RXNORM:198108", {"name": "piroxicam 20 MG Oral Capsule", "tty": "SCD"}),
        NodeRow(Label.DRUG_PRODUCT, "RXNORM:198014", {"name": "naproxen 500 MG Oral Tablet", "tty": "SCD"}),
        NodeRow(Label.DISEASE, OSTEOARTHRITIS, {"name": "osteoarthritis"}),
        # tolmetin: an NSAID (EPC) that ANSM's NSAID class does not list (not sold in France), and which no
        # pharmacist rule pairs with a heparin; enoxaparin interacts with that ANSM class as a whole
        NodeRow(Label.DRUG, TOLMETIN, {"name": "tolmetin"}),
        NodeRow(Label.DRUG_PRODUCT, "RXNORM:198295", {"name": "tolmetin 200 MG Oral Tablet", "tty": "SCD"}),
        NodeRow(Label.DRUG, ENOXAPARIN, {"name": "enoxaparin"}),
        NodeRow(Label.DRUG_CLASS, HEPARINS, {"name": "héparines", "class_type": "ansm_class"}),
    ]
    has = [
        ("RXNORM:861379", MICAFUNGIN),
        (FLUCONAZOLE_IV, g.FLUCONAZOLE),
        ("RXNORM:197517", g.CLARITHROMYCIN),
        ("RXNORM:309114", g.CEPHALEXIN),
        ("RXNORM:834102", g.PENICILLIN_V),
        ("RXNORM:198108", PIROXICAM),
        ("RXNORM:198014", g.NAPROXEN),
        ("RXNORM:198295", TOLMETIN),
    ]
    edges = [EdgeRow(RelType.HAS_INGREDIENT, p, i, {"source": "rxnorm@test"}) for p, i in has]
    edges += [EdgeRow(RelType.TREATS, d, "DOID:1508", {"source": g.DC}) for d in (MICAFUNGIN, AMPHOTERICIN_B)]
    edges += [
        EdgeRow(RelType.TREATS, d, BACTERIAL_INFECTION, {"source": g.DC})
        for d in (g.AMOXICILLIN, g.PENICILLIN_V, g.CEPHALEXIN, g.CLARITHROMYCIN)
    ]
    edges += [EdgeRow(RelType.TREATS, d, OSTEOARTHRITIS, {"source": g.DC}) for d in (g.NAPROXEN, PIROXICAM, TOLMETIN)]
    edges += [
        EdgeRow(RelType.MEMBER_OF_CLASS, TOLMETIN, "NDFRT:N0000175722", {"source": g.DC}),
        EdgeRow(RelType.MEMBER_OF_CLASS, ENOXAPARIN, HEPARINS, {"source": g.ANSM}),
        EdgeRow(
            RelType.INTERACTS_WITH,
            "ANSM:AINS",
            HEPARINS,
            {"source": g.ANSM, "severity": "major", "description": "NSAIDs add bleeding risk to heparins."},
        ),
    ]
    return nodes, edges


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, schema: GraphSchema) -> EmbeddedGraphStore:
    report = LoadReport()
    validator = GraphValidator(schema, report)
    base_nodes, base_edges = g.rules_fixture_rows()
    extra_nodes, extra_edges = _extra_rows()
    for node in base_nodes + extra_nodes:
        validator.add_node(node)
    for edge in base_edges + extra_edges:
        validator.add_edge(edge)
    graph = validator.finish()
    assert not report.rejected, [str(r) for r in report.rejected]
    built = EmbeddedGraphStore(Path(tmp_path_factory.mktemp("alternatives")), schema)
    built.replace_graph(graph.nodes.values(), graph.edges, {"fixture": "rules@test"})
    return built


@pytest.fixture(scope="module")
def engine(store: EmbeddedGraphStore) -> RulesEngine:
    return RulesEngine(knowledge_from_store(store), RuleSet.load())


def replacements(finding: Finding) -> list[str | None]:
    return [s.replacement_ingredient_id for s in finding.suggestions if s.action == "replace-draft"]


def only(findings: list[Finding], kind: str) -> Finding:
    (found,) = [f for f in findings if f.kind == kind]
    return found


def ordered(product: str, display: str, ingredient: str) -> MedicationEntry:
    drafted = med(ingredient, display, draft=True)
    return MedicationEntry(drafted.ref, display, (product,), drafted.ingredient_ids, True, None)


def test_route_of_reads_the_dose_form_of_real_rxnorm_products(shared_data: Path) -> None:
    with (shared_data / RXNORM_FILE).open(newline="", encoding="utf-8") as fh:
        names = {row["product_name"] for row in csv.DictReader(fh) if row["ingredient_name"] == "fluconazole"}
    assert "fluconazole 150 MG Oral Tablet" in names
    routes = {name: route_of(name) for name in names}
    assert {routes[n] for n in names if "Oral" in n} == {"oral"}
    assert {routes[n] for n in names if "Injection" in n} == {"parenteral"}
    assert route_of("timolol 5 MG/ML Ophthalmic Solution") == "ophthalmic"
    assert route_of("nitroglycerin 0.4 MG Sublingual Tablet") == "oromucosal"
    assert route_of("clotrimazole 100 MG Vaginal Tablet") == "vaginal"
    assert route_of("fluconazole") is None


def test_local_site_is_only_where_little_reaches_the_blood() -> None:
    assert local_site("ketoconazole 20 MG/ML Topical Cream") == "skin"
    assert local_site("ketoconazole 20 MG/ML Medicated Shampoo") == "skin"
    assert local_site("ciprofloxacin 2 MG/ML Otic Solution") == "ear"
    # Swallowed, mucosal, inhaled, transdermal or eye forms all reach the blood.
    for name in (
        "miconazole 20 MG/ML Oral Gel",
        "metronidazole 0.0075 MG/MG Vaginal Gel",
        "fentanyl 0.025 MG/HR Transdermal System",
        "timolol 5 MG/ML Ophthalmic Solution",
        "ketoconazole 200 MG Oral Tablet",
        "chlorhexidine gluconate 1.2 MG/ML Mouthwash",
        "lidocaine hydrochloride 40 MG/ML Mucous Membrane Topical Solution",
    ):
        assert local_site(name) is None, name


def test_skin_forms_of_drugs_also_made_as_patches_are_not_local() -> None:
    index = replace_knowledge(
        IndicationIndex.empty(), product_routes={"RXNORM:1": "topical"}, product_sites={"RXNORM:1": "skin"}
    )
    assert index.order_site(("RXNORM:1",), "anything", ("RXNORM:6135",)) == "skin"  # the product code decides
    assert index.order_site((), "ketoconazole 20 MG/ML Topical Cream", ("RXNORM:6135",)) == "skin"
    assert index.order_site(("RXNORM:2",), "ketoconazole 200 MG Oral Tablet", ("RXNORM:6135",)) is None
    patched = replace_knowledge(index, absorbed_through_skin=frozenset({"RXNORM:10379"}))  # testosterone
    assert patched.order_site((), "testosterone 10 MG/ACTUAT Topical Gel", ("RXNORM:10379",)) is None


def test_order_route_from_product_code_then_text_then_the_only_route(store: EmbeddedGraphStore) -> None:
    index = IndicationIndex.from_store(store)
    assert index.ingredient_routes[g.FLUCONAZOLE] == {"oral", "parenteral"}
    assert index.ingredient_routes[g.TERBINAFINE] == {"oral"}
    assert MICAFUNGIN in index.ingredient_routes and AMPHOTERICIN_B not in index.ingredient_routes
    assert index.order_route((FLUCONAZOLE_IV,), "anything", g.FLUCONAZOLE) == "parenteral"
    assert index.order_route(("RXNORM:1",), "Fluconazole 150 MG Oral Tablet", g.FLUCONAZOLE) == "oral"
    assert index.order_route((g.TERBINAFINE,), "terbinafine", g.TERBINAFINE) == "oral"
    assert index.order_route((g.FLUCONAZOLE,), "fluconazole", g.FLUCONAZOLE) is None  # oral or IV: unknown


def test_oral_fluconazole_is_not_replaced_by_an_injection_only_or_productless_antifungal(engine: RulesEngine) -> None:
    draft = ordered(FLUCONAZOLE_150_TABLET, "fluconazole 150 MG Oral Tablet", g.FLUCONAZOLE)
    f = only(engine.evaluate(patient(active=(med(g.WARFARIN, "warfarin"),), drafts=(draft,)), NOW), "drug-drug")
    assert replacements(f) == [g.TERBINAFINE]  # itraconazole interacts with warfarin (azoles class)
    assert f.suggestions[0].action == "remove-draft"


def test_intravenous_fluconazole_is_replaced_only_by_an_injectable(engine: RulesEngine) -> None:
    draft = ordered(FLUCONAZOLE_IV, "200 ML fluconazole 2 MG/ML Injection", g.FLUCONAZOLE)
    f = only(engine.evaluate(patient(active=(med(g.WARFARIN, "warfarin"),), drafts=(draft,)), NOW), "drug-drug")
    assert replacements(f) == [MICAFUNGIN]


def test_an_order_whose_route_cannot_be_told_gets_no_replacement(engine: RulesEngine) -> None:
    draft = med(g.FLUCONAZOLE, "fluconazole", draft=True)  # ingredient-coded; fluconazole is oral and IV here
    f = only(engine.evaluate(patient(active=(med(g.WARFARIN, "warfarin"),), drafts=(draft,)), NOW), "drug-drug")
    assert [s.action for s in f.suggestions] == ["remove-draft"]


def test_allergy_replacement_skips_the_same_group_and_a_cross_reacting_group(engine: RulesEngine) -> None:
    draft = med(g.AMOXICILLIN, "Amoxicillin 500 MG Oral Capsule", draft=True)
    penicillins = allergy("penicillin allergy", groups=("ALLERGYGROUP:penicillin",))
    f = only(engine.evaluate(patient(drafts=(draft,), allergies=(penicillins,)), NOW), "allergy")
    # penicillin V is a penicillin; cephalexin is a cephalosporin, which cross-reacts with penicillins
    assert replacements(f) == [g.CLARITHROMYCIN]


def test_no_replacement_when_every_candidate_interacts_with_the_patients_drugs(engine: RulesEngine) -> None:
    draft = med(g.AMOXICILLIN, "Amoxicillin 500 MG Oral Capsule", draft=True)
    penicillins = allergy("penicillin allergy", groups=("ALLERGYGROUP:penicillin",))
    on_simvastatin = patient(drafts=(draft,), active=(med(g.SIMVASTATIN, "simvastatin"),), allergies=(penicillins,))
    f = only(engine.evaluate(on_simvastatin, NOW), "allergy")
    assert [s.action for s in f.suggestions] == ["remove-draft"]  # clarithromycin x simvastatin is contraindicated


def test_a_candidate_a_pharmacist_rule_pairs_with_the_patients_drug_is_not_offered(
    store: EmbeddedGraphStore, engine: RulesEngine
) -> None:
    knowledge = knowledge_from_store(store)
    assert PIROXICAM in ranked_candidates(knowledge, g.NAPROXEN, "oral")  # same indication, same route
    draft = med(g.NAPROXEN, "naproxen 500 MG Oral Tablet", draft=True)
    f = only(engine.evaluate(patient(active=(med(g.WARFARIN, "warfarin"),), drafts=(draft,)), NOW), "drug-drug")
    assert f.rule_id == "stopp-c10-nsaid-anticoagulant"
    assert PIROXICAM not in replacements(f)


def test_a_same_class_drug_the_source_class_does_not_list_is_presumed_to_share_a_class_effect(
    store: EmbeddedGraphStore, engine: RulesEngine
) -> None:
    knowledge = knowledge_from_store(store)
    assert TOLMETIN in ranked_candidates(knowledge, g.NAPROXEN, "oral")  # same indication, route and class
    assert not knowledge.interactions.interacts_with_keys(
        TOLMETIN, (knowledge.interactions.interaction_keys([ENOXAPARIN]),)
    )
    draft = med(g.NAPROXEN, "naproxen 500 MG Oral Tablet", draft=True)
    on_enoxaparin = patient(active=(med(ENOXAPARIN, "enoxaparin 40 MG/0.4 ML Injection"),), drafts=(draft,))
    f = only(engine.evaluate(on_enoxaparin, NOW), "drug-drug")
    assert f.rule_id == "kgcds.drug-drug" and "anti-inflammatoires non stéroïdiens" in f.detail_markdown
    # the NSAID class effect covers tolmetin too, so it is no replacement "with no interaction"
    assert TOLMETIN not in replacements(f)


class _Classes:
    """Two therapeutic classes and two source classes over them::

    EPC macrolides ── clarithromycin, erythromycin, azithromycin
    strong CYP3A4 inhibitors ── clarithromycin, ketoconazole, itraconazole, ritonavir, cobicistat
    EPC NSAIDs ── ibuprofen, naproxen, tolmetin
    ANSM NSAIDs ── ibuprofen, naproxen
    """

    MEMBERS: ClassVar[dict[str, frozenset[str]]] = {
        "EPC:macrolides": frozenset({"clarithromycin", "erythromycin", "azithromycin"}),
        "ANSM:cyp3a4": frozenset({"clarithromycin", "ketoconazole", "itraconazole", "ritonavir", "cobicistat"}),
        "EPC:nsaids": frozenset({"ibuprofen", "naproxen", "tolmetin"}),
        "ANSM:nsaids": frozenset({"ibuprofen", "naproxen"}),
    }

    def classes_of(self, ingredient_id: str) -> frozenset[str]:
        return frozenset(c for c, members in self.MEMBERS.items() if ingredient_id in members)

    def members_of(self, class_id: str) -> frozenset[str]:
        return self.MEMBERS.get(class_id, frozenset())


def test_only_a_source_class_that_coincides_with_a_therapeutic_class_is_a_class_effect() -> None:
    from rules.alternatives import class_effect_classes
    from rules.knowledge import EngineKnowledge

    knowledge = replace_knowledge(
        EngineKnowledge.empty(),
        classes=_Classes(),
        therapeutic_classes={"clarithromycin": frozenset({"EPC:macrolides"}), "naproxen": frozenset({"EPC:nsaids"})},
    )
    assert class_effect_classes(knowledge, "naproxen", "ANSM:nsaids") == {"EPC:nsaids"}
    # a mechanism class that only overlaps: azithromycin stays a possible replacement for clarithromycin
    assert class_effect_classes(knowledge, "clarithromycin", "ANSM:cyp3a4") == frozenset()
