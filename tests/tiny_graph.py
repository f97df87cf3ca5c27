"""A tiny hand-made graph used by the store contract suite and index tests.

Phenotypes (IS_A)::

    HP:0000118 Phenotypic abnormality
    ├── HP:0000707 Abnormality of the nervous system
    │   └── HP:0001250 Seizure
    └── HP:0001626 Abnormality of the cardiovascular system

Diseases::

    OMIM:100001 Toy epilepsy   -HAS_PHENOTYPE(0.9)-> Seizure ; -ASSOCIATED_WITH_GENE-> NCBIGene:6323 SCN1A
    OMIM:100002 Toy cardiopathy -HAS_PHENOTYPE-> Abnormality of the cardiovascular system

Drugs::

    RXNORM:855332 warfarin sodium 5 MG Oral Tablet -HAS_INGREDIENT-> RXNORM:11289 warfarin
    RXNORM:4450 fluconazole -MEMBER_OF_CLASS-> ATC:J02AC triazole derivatives
    warfarin -INTERACTS_WITH(major, onc)-> fluconazole
    warfarin -INTERACTS_WITH(moderate, ansm)-> fluconazole   (a second source: a second edge)
"""

from __future__ import annotations

from graph_loader.rows import EdgeRow, NodeRow
from ontology.vocab import Label, RelType

ONC = "onc_high_priority@2012"
ANSM = "ansm_thesaurus@2020-10"


def tiny_nodes() -> list[NodeRow]:
    return [
        NodeRow(Label.PHENOTYPE, "HP:0000118", {"name": "Phenotypic abnormality"}),
        NodeRow(Label.PHENOTYPE, "HP:0000707", {"name": "Abnormality of the nervous system"}),
        NodeRow(
            Label.PHENOTYPE, "HP:0001250", {"name": "Seizure", "synonyms": ["Epileptic seizure", "Seizures"], "ic": 3.5}
        ),
        NodeRow(Label.PHENOTYPE, "HP:0001626", {"name": "Abnormality of the cardiovascular system"}),
        NodeRow(Label.DISEASE, "OMIM:100001", {"name": "Toy epilepsy"}),
        NodeRow(Label.DISEASE, "OMIM:100002", {"name": "Toy cardiopathy"}),
        NodeRow(Label.GENE, "NCBIGene:6323", {"symbol": "SCN1A"}),
        NodeRow(Label.DRUG, "RXNORM:11289", {"name": "warfarin", "xrefs": ["DRUGBANK:DB00682"]}),
        NodeRow(Label.DRUG, "RXNORM:4450", {"name": "fluconazole"}),
        NodeRow(Label.DRUG_PRODUCT, "RXNORM:855332", {"name": "warfarin sodium 5 MG Oral Tablet", "tty": "SCD"}),
        NodeRow(Label.DRUG_CLASS, "ATC:J02AC", {"name": "triazole derivatives", "class_type": "atc"}),
    ]


def tiny_edges() -> list[EdgeRow]:
    hpo = "hpo@test"
    return [
        EdgeRow(RelType.IS_A, "HP:0000707", "HP:0000118", {"source": hpo}),
        EdgeRow(RelType.IS_A, "HP:0001250", "HP:0000707", {"source": hpo}),
        EdgeRow(RelType.IS_A, "HP:0001626", "HP:0000118", {"source": hpo}),
        EdgeRow(RelType.HAS_PHENOTYPE, "OMIM:100001", "HP:0001250", {"source": hpo, "frequency": 0.9}),
        EdgeRow(RelType.HAS_PHENOTYPE, "OMIM:100002", "HP:0001626", {"source": hpo}),
        EdgeRow(RelType.ASSOCIATED_WITH_GENE, "OMIM:100001", "NCBIGene:6323", {"source": hpo}),
        EdgeRow(RelType.HAS_INGREDIENT, "RXNORM:855332", "RXNORM:11289", {"source": "rxnorm@test"}),
        EdgeRow(RelType.MEMBER_OF_CLASS, "RXNORM:4450", "ATC:J02AC", {"source": "atc@test"}),
        EdgeRow(
            RelType.INTERACTS_WITH,
            "RXNORM:11289",
            "RXNORM:4450",
            {"source": ONC, "severity": "major", "description": "Increased bleeding risk."},
        ),
        EdgeRow(
            RelType.INTERACTS_WITH,
            "RXNORM:11289",
            "RXNORM:4450",
            {
                "source": ANSM,
                "severity": "moderate",
                "description": "Increased anticoagulant effect.",
                "source_text": "Augmentation de l'effet de l'anticoagulant oral.",
                "source_language": "fr",
            },
        ),
    ]
