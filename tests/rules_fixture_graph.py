"""A small hand-made medication graph for the rules engine tests.

Ingredients (RxNorm ids) and their classes (MEMBER_OF_CLASS; IS_A between classes)::

    ALLERGYGROUP:penicillin (synonym "PCN", xref NDFRT:N0000011281) ── amoxicillin 723, penicillin V 7984
    ALLERGYGROUP:cephalosporin ── cephalexin 2231
        penicillin -CROSS_REACTS_WITH(low)-> cephalosporin
    ALLERGYGROUP:nsaid ── ibuprofen 5640, naproxen 7258
    NDFRT:N0000175722 NSAID (EPC) ── ibuprofen, naproxen
    NDFRT:N0000175562 ACE inhibitor (EPC) ── lisinopril 29046, enalapril 3827
    ATC:B01A antithrombotic agents
    └── ATC:B01AC platelet aggregation inhibitors ── clopidogrel 32968, prasugrel 613391, ticagrelor 1116632
    ANSM:ANTIVITAMINES K ── warfarin 11289
    ANSM:ANTIFONGIQUES AZOLES ── fluconazole 4450, itraconazole 28031, ketoconazole 6135
    ANSM:ANTI-INFLAMMATOIRES NON STEROIDIENS ── ibuprofen, naproxen

    others: metformin 6809, abacavir 190521, simvastatin 36567, clarithromycin 21212,
            terbinafine 37801, dabigatran 1546356, isotretinoin 6064, hydrochlorothiazide 5487

Salts and their moiety (HAS_ACTIVE_MOIETY)::

    lithium 6448
    ├── lithium carbonate 42351
    └── lithium citrate 52105

Interactions (INTERACTS_WITH)::

    warfarin × fluconazole                  major (ONC), moderate (ANSM)
    ANSM:ANTIVITAMINES K × ANSM:ANTIFONGIQUES AZOLES   major (ANSM, class level)
    ANSM:ANTIVITAMINES K × ANSM:AINS        moderate (ANSM, class level)
    simvastatin × clarithromycin            contraindicated (ANSM)
    lisinopril × ibuprofen                  moderate, non-interruptive (ONC non-interruptive)
    lithium × hydrochlorothiazide           major (ANSM; stated for the moiety only)

Indications (TREATS -> DOID:1508 candidiasis): fluconazole, itraconazole, terbinafine.
Products (HAS_INGREDIENT, real RxNorm SCDs): warfarin sodium 5 MG Oral Tablet, fluconazole 150 MG Oral
Tablet, itraconazole 100 MG Oral Capsule, terbinafine 250 MG Oral Tablet.
Pharmacogenomics (PGX_AFFECTS): CYP2C19 -> clopidogrel (A), CES1 -> clopidogrel (C), HLA-B -> abacavir (A).
"""

from __future__ import annotations

from pathlib import Path

from graph_loader.report import LoadReport
from graph_loader.rows import EdgeRow, NodeRow
from graph_loader.validate import GraphValidator
from graph_store.embedded import EmbeddedGraphStore
from ontology.schema import GraphSchema
from ontology.vocab import Label, RelType

ONC = "onc_high_priority@2012"
ONC_PASSIVE = "onc_non_interruptive@2013"
ANSM = "ansm_thesaurus@2020-10"
CPIC = "cpic@2024-01"
GROUPS = "allergy_class_seed@2016"
DC = "drugcentral@2016"

WARFARIN, FLUCONAZOLE, ITRACONAZOLE, TERBINAFINE = "RXNORM:11289", "RXNORM:4450", "RXNORM:28031", "RXNORM:37801"
AMOXICILLIN, PENICILLIN_V, CEPHALEXIN = "RXNORM:723", "RXNORM:7984", "RXNORM:2231"
IBUPROFEN, NAPROXEN, LISINOPRIL, ENALAPRIL = "RXNORM:5640", "RXNORM:7258", "RXNORM:29046", "RXNORM:3827"
CLOPIDOGREL, PRASUGREL, TICAGRELOR = "RXNORM:32968", "RXNORM:613391", "RXNORM:1116632"
METFORMIN, ABACAVIR, SIMVASTATIN, CLARITHROMYCIN = "RXNORM:6809", "RXNORM:190521", "RXNORM:36567", "RXNORM:21212"
DABIGATRAN, ISOTRETINOIN = "RXNORM:1546356", "RXNORM:6064"
LITHIUM, LITHIUM_CARBONATE, LITHIUM_CITRATE = "RXNORM:6448", "RXNORM:42351", "RXNORM:52105"
HYDROCHLOROTHIAZIDE, KETOCONAZOLE = "RXNORM:5487", "RXNORM:6135"

PRODUCTS = {
    "RXNORM:197699": ("fluconazole 150 MG Oral Tablet", FLUCONAZOLE),
    "RXNORM:311204": ("itraconazole 100 MG Oral Capsule", ITRACONAZOLE),
    "RXNORM:313222": ("terbinafine 250 MG Oral Tablet", TERBINAFINE),
}

_DRUGS = {
    WARFARIN: "warfarin",
    FLUCONAZOLE: "fluconazole",
    ITRACONAZOLE: "itraconazole",
    TERBINAFINE: "terbinafine",
    AMOXICILLIN: "amoxicillin",
    PENICILLIN_V: "penicillin V",
    CEPHALEXIN: "cephalexin",
    IBUPROFEN: "ibuprofen",
    NAPROXEN: "naproxen",
    LISINOPRIL: "lisinopril",
    ENALAPRIL: "enalapril",
    CLOPIDOGREL: "clopidogrel",
    PRASUGREL: "prasugrel",
    TICAGRELOR: "ticagrelor",
    METFORMIN: "metformin",
    ABACAVIR: "abacavir",
    SIMVASTATIN: "simvastatin",
    CLARITHROMYCIN: "clarithromycin",
    DABIGATRAN: "dabigatran",
    ISOTRETINOIN: "isotretinoin",
    LITHIUM: "lithium",
    LITHIUM_CARBONATE: "lithium carbonate",
    LITHIUM_CITRATE: "lithium citrate",
    HYDROCHLOROTHIAZIDE: "hydrochlorothiazide",
    KETOCONAZOLE: "ketoconazole",
}
_CLASSES = {
    "ALLERGYGROUP:penicillin": ("penicillins", "allergy_group"),
    "ALLERGYGROUP:cephalosporin": ("cephalosporins", "allergy_group"),
    "ALLERGYGROUP:nsaid": ("NSAIDs", "allergy_group"),
    "NDFRT:N0000175722": ("Nonsteroidal Anti-inflammatory Drug", "EPC"),
    "NDFRT:N0000175562": ("Angiotensin Converting Enzyme Inhibitor", "EPC"),
    "ATC:B01A": ("antithrombotic agents", "atc"),
    "ATC:B01AC": ("platelet aggregation inhibitors excl. heparin", "atc"),
    "ANSM:ANTIVITAMINES K": ("antivitamines K", "ansm_class"),
    "ANSM:ANTIFONGIQUES AZOLES": ("antifongiques azolés", "ansm_class"),
    "ANSM:AINS": ("anti-inflammatoires non stéroïdiens", "ansm_class"),
}
_GROUP_PROPS = {"ALLERGYGROUP:penicillin": {"synonyms": ["PCN"], "xrefs": ["NDFRT:N0000011281"]}}
_MEMBERS = {
    "ALLERGYGROUP:penicillin": ([AMOXICILLIN, PENICILLIN_V], GROUPS),
    "ALLERGYGROUP:cephalosporin": ([CEPHALEXIN], GROUPS),
    "ALLERGYGROUP:nsaid": ([IBUPROFEN, NAPROXEN], GROUPS),
    "NDFRT:N0000175722": ([IBUPROFEN, NAPROXEN], DC),
    "NDFRT:N0000175562": ([LISINOPRIL, ENALAPRIL], DC),
    "ATC:B01AC": ([CLOPIDOGREL, PRASUGREL, TICAGRELOR], "atc@test"),
    "ANSM:ANTIVITAMINES K": ([WARFARIN], ANSM),
    "ANSM:ANTIFONGIQUES AZOLES": ([FLUCONAZOLE, ITRACONAZOLE, KETOCONAZOLE], ANSM),
    "ANSM:AINS": ([IBUPROFEN, NAPROXEN], ANSM),
}


def rules_fixture_rows() -> tuple[list[NodeRow], list[EdgeRow]]:
    nodes = [NodeRow(Label.DRUG, i, {"name": n}, f"fixture:{i}") for i, n in _DRUGS.items()]
    nodes += [
        NodeRow(
            Label.DRUG_CLASS,
            i,
            {"name": n, "class_type": t} | _GROUP_PROPS.get(i, {}),
            f"fixture:{i}",
        )
        for i, (n, t) in _CLASSES.items()
    ]
    nodes += [
        NodeRow(Label.DRUG_PRODUCT, "RXNORM:855332", {"name": "warfarin sodium 5 MG Oral Tablet", "tty": "SCD"}),
        *(NodeRow(Label.DRUG_PRODUCT, i, {"name": n, "tty": "SCD"}) for i, (n, _) in PRODUCTS.items()),
        NodeRow(Label.DISEASE, "DOID:1508", {"name": "candidiasis"}),
        NodeRow(Label.GENE, "NCBIGene:1557", {"symbol": "CYP2C19"}),
        NodeRow(Label.GENE, "NCBIGene:1066", {"symbol": "CES1"}),
        NodeRow(Label.GENE, "NCBIGene:3106", {"symbol": "HLA-B"}),
    ]
    edges = [EdgeRow(RelType.HAS_INGREDIENT, "RXNORM:855332", WARFARIN, {"source": "rxnorm@test"})]
    edges += [EdgeRow(RelType.HAS_INGREDIENT, i, d, {"source": "rxnorm@test"}) for i, (_, d) in PRODUCTS.items()]
    for class_id, (members, source) in _MEMBERS.items():
        edges += [EdgeRow(RelType.MEMBER_OF_CLASS, m, class_id, {"source": source}) for m in members]
    edges += [
        EdgeRow(RelType.IS_A, "ATC:B01AC", "ATC:B01A", {"source": "atc@test"}),
        EdgeRow(
            RelType.CROSS_REACTS_WITH,
            "ALLERGYGROUP:penicillin",
            "ALLERGYGROUP:cephalosporin",
            {"source": GROUPS, "risk": "low", "description": "About 1-2% of penicillin-allergic patients react."},
        ),
        _ddi(WARFARIN, FLUCONAZOLE, ONC, "major", "Increased bleeding risk."),
        _ddi(
            WARFARIN, FLUCONAZOLE, ANSM, "moderate", "Increased anticoagulant effect.", mechanism="CYP2C9 inhibition."
        ),
        _ddi("ANSM:ANTIVITAMINES K", "ANSM:ANTIFONGIQUES AZOLES", ANSM, "major", "Azoles raise INR."),
        _ddi("ANSM:AINS", "ANSM:ANTIVITAMINES K", ANSM, "moderate", "NSAIDs add bleeding risk."),
        _ddi(CLARITHROMYCIN, SIMVASTATIN, ANSM, "contraindicated", "Rhabdomyolysis risk.", source_severity="CI"),
        _ddi(IBUPROFEN, LISINOPRIL, ONC_PASSIVE, "moderate", "Reduced antihypertensive effect.", interruptive=False),
        _ddi(HYDROCHLOROTHIAZIDE, LITHIUM, ANSM, "major", "Raised lithium levels, with signs of overdose."),
    ]
    edges += [
        EdgeRow(RelType.HAS_ACTIVE_MOIETY, salt, LITHIUM, {"source": "active_moieties@test"})
        for salt in (LITHIUM_CARBONATE, LITHIUM_CITRATE)
    ]
    edges += [EdgeRow(RelType.TREATS, d, "DOID:1508", {"source": DC}) for d in (FLUCONAZOLE, ITRACONAZOLE, TERBINAFINE)]
    edges += [
        EdgeRow(
            RelType.PGX_AFFECTS,
            "NCBIGene:1557",
            CLOPIDOGREL,
            {
                "source": CPIC,
                "cpic_level": "A",
                "guideline_url": "https://cpicpgx.org/guidelines/guideline-for-clopidogrel-and-cyp2c19/",
                "references": ["PMID:21716271"],
                "recommendations": [
                    "CYP2C19 Poor Metabolizer: Avoid standard dose (75 mg/day) clopidogrel if possible. "
                    "Use prasugrel or ticagrelor at standard dose if no contraindication.",
                    "CYP2C19 Normal Metabolizer: If considering clopidogrel, use at standard dose (75 mg/day).",
                    "CYP2C19 Rapid Metabolizer: If considering clopidogrel, use at standard dose (75 mg/day).",
                ],
            },
        ),
        EdgeRow(RelType.PGX_AFFECTS, "NCBIGene:1066", CLOPIDOGREL, {"source": CPIC, "cpic_level": "C"}),
        EdgeRow(RelType.PGX_AFFECTS, "NCBIGene:3106", ABACAVIR, {"source": CPIC, "cpic_level": "A"}),
    ]
    return nodes, edges


def _ddi(a: str, b: str, source: str, severity: str, description: str, **extra: object) -> EdgeRow:
    return EdgeRow(
        RelType.INTERACTS_WITH, a, b, {"source": source, "severity": severity, "description": description, **extra}
    )


def build_rules_store(root: Path, schema: GraphSchema) -> EmbeddedGraphStore:
    """Validate the fixture rows like the loader would, then write them to an embedded store."""
    report = LoadReport()
    validator = GraphValidator(schema, report)
    nodes, edges = rules_fixture_rows()
    for node in nodes:
        validator.add_node(node)
    for edge in edges:
        validator.add_edge(edge)
    graph = validator.finish()
    if report.rejected:
        raise AssertionError(f"fixture rows refused: {[str(r) for r in report.rejected]}")
    store = EmbeddedGraphStore(root, schema)
    store.replace_graph(graph.nodes.values(), graph.edges, {"fixture": "rules@test"})
    return store
