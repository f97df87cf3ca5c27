"""A hand-made phenotype ontology with five diseases, for ranking tests with known answers.

Phenotypes (IS_A)::

    HP:0000118 Phenotypic abnormality
    ├── HP:0000707 Abnormality of the nervous system
    │   ├── HP:0001250 Seizure
    │   │   ├── HP:0007359 Focal-onset seizure
    │   │   └── HP:0002373 Febrile seizure
    │   └── HP:0001251 Ataxia
    ├── HP:0000478 Abnormality of the eye
    │   ├── HP:0000518 Cataract
    │   └── HP:0000639 Nystagmus
    └── HP:0001626 Abnormality of the cardiovascular system
        ├── HP:0001631 Atrial septal defect
        └── HP:0001629 Ventricular septal defect

Diseases (HAS_PHENOTYPE, frequency)::

    OMIM:100001 Seizure-ataxia syndrome   Focal-onset seizure 0.9, Ataxia 1.0, Nystagmus 0.3    gene SCN1A
    OMIM:100002 Eye-heart syndrome        Cataract 1.0, Atrial septal defect 0.5, Ventricular septal defect 0.5
    OMIM:100003 Febrile seizure disorder  Febrile seizure 1.0
    OMIM:100004 Cataract-ataxia syndrome  Cataract 0.9, Ataxia 0.9, NOT Seizure (0.0)
    ORPHA:500   Septal defects            Ventricular septal defect 1.0, Atrial septal defect (no frequency)

Disease course (Disease properties): OMIM:100002 congenital onset, X-linked recessive; OMIM:100004 adult or
middle-age onset, autosomal recessive; the others state neither.
"""

from __future__ import annotations

import polars as pl

from graph_loader.rows import EdgeRow, NodeRow
from knowledge_index.phenotype import PhenotypeIndex
from ontology.vocab import Label, RelType

TERMS = {
    "HP:0000118": ("Phenotypic abnormality", None),
    "HP:0000707": ("Abnormality of the nervous system", "HP:0000118"),
    "HP:0001250": ("Seizure", "HP:0000707"),
    "HP:0007359": ("Focal-onset seizure", "HP:0001250"),
    "HP:0002373": ("Febrile seizure", "HP:0001250"),
    "HP:0001251": ("Ataxia", "HP:0000707"),
    "HP:0000478": ("Abnormality of the eye", "HP:0000118"),
    "HP:0000518": ("Cataract", "HP:0000478"),
    "HP:0000639": ("Nystagmus", "HP:0000478"),
    "HP:0001626": ("Abnormality of the cardiovascular system", "HP:0000118"),
    "HP:0001631": ("Atrial septal defect", "HP:0001626"),
    "HP:0001629": ("Ventricular septal defect", "HP:0001626"),
}
SEIZURE, FOCAL, FEBRILE, ATAXIA = "HP:0001250", "HP:0007359", "HP:0002373", "HP:0001251"
CATARACT, NYSTAGMUS, ASD, VSD = "HP:0000518", "HP:0000639", "HP:0001631", "HP:0001629"
NERVOUS, ROOT = "HP:0000707", "HP:0000118"

DISEASES = {
    "OMIM:100001": ("Seizure-ataxia syndrome", [(FOCAL, 0.9), (ATAXIA, 1.0), (NYSTAGMUS, 0.3)]),
    "OMIM:100002": ("Eye-heart syndrome", [(CATARACT, 1.0), (ASD, 0.5), (VSD, 0.5)]),
    "OMIM:100003": ("Febrile seizure disorder", [(FEBRILE, 1.0)]),
    "OMIM:100004": ("Cataract-ataxia syndrome", [(CATARACT, 0.9), (ATAXIA, 0.9), (SEIZURE, 0.0)]),
    "ORPHA:500": ("Septal defects", [(VSD, 1.0), (ASD, None)]),
}

COURSE = {
    "OMIM:100002": {"onset": "HP:0003577", "inheritance": "HP:0001419"},
    "OMIM:100004": {"onset": "HP:0003581;HP:0003596", "inheritance": "HP:0000007"},
}


def tiny_phenotype_index() -> PhenotypeIndex:
    tag = "hpo@test"
    phenotypes = pl.DataFrame({"id": list(TERMS), "name": [name for name, _ in TERMS.values()]})
    is_a = pl.DataFrame(
        {
            "source_id": [t for t, (_, parent) in TERMS.items() if parent],
            "target_id": [parent for _, parent in TERMS.values() if parent],
            "source": tag,
        }
    )
    diseases = pl.DataFrame(
        {
            "id": list(DISEASES),
            "name": [name for name, _ in DISEASES.values()],
            "onset": [COURSE.get(d, {}).get("onset") for d in DISEASES],
            "inheritance": [COURSE.get(d, {}).get("inheritance") for d in DISEASES],
        }
    )
    rows = [(d, t, f) for d, (_, anns) in DISEASES.items() for t, f in anns]
    annotations = pl.DataFrame(
        {
            "source_id": [r[0] for r in rows],
            "target_id": [r[1] for r in rows],
            "frequency": [r[2] for r in rows],
            "references": [["PMID:1"] if r[0] == "OMIM:100001" else [] for r in rows],
            "source": tag,
        },
        schema_overrides={"frequency": pl.Float64, "references": pl.List(pl.String)},
    )
    genes = pl.DataFrame({"id": ["NCBIGene:6323"], "symbol": ["SCN1A"]})
    disease_genes = pl.DataFrame({"source_id": ["OMIM:100001"], "target_id": ["NCBIGene:6323"], "source": tag})
    return PhenotypeIndex.from_frames(
        phenotypes=phenotypes,
        is_a=is_a,
        diseases=diseases,
        annotations=annotations,
        disease_genes=disease_genes,
        genes=genes,
        metadata={"source.hpo": "test"},
    )


def tiny_rows() -> tuple[list[NodeRow], list[EdgeRow]]:
    """The same ontology as graph rows, for tests that go through a store."""
    tag = "hpo@test"
    nodes = [NodeRow(Label.PHENOTYPE, t, {"name": name}) for t, (name, _) in TERMS.items()]
    nodes += [NodeRow(Label.DISEASE, d, {"name": name, **COURSE.get(d, {})}) for d, (name, _) in DISEASES.items()]
    nodes.append(NodeRow(Label.GENE, "NCBIGene:6323", {"symbol": "SCN1A"}))
    edges = [EdgeRow(RelType.IS_A, t, parent, {"source": tag}) for t, (_, parent) in TERMS.items() if parent]
    for d, (_, anns) in DISEASES.items():
        for t, f in anns:
            props: dict[str, object] = {"source": tag, "references": ["PMID:1"] if d == "OMIM:100001" else []}
            if f is not None:
                props["frequency"] = f
            edges.append(EdgeRow(RelType.HAS_PHENOTYPE, d, t, props))
    edges.append(EdgeRow(RelType.ASSOCIATED_WITH_GENE, "OMIM:100001", "NCBIGene:6323", {"source": tag}))
    return nodes, edges
