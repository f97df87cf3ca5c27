"""Drug -TREATS-> Disease from DrugCentral indications and PharmacotherapyDB.

DrugCentral names each indication with SNOMED CT, UMLS and (sometimes) Disease Ontology
codes: the Disease node takes the DOID when there is one, else SNOMED CT, else UMLS,
and keeps the others as xrefs. PharmacotherapyDB gives DOID and DrugBank ids; its
``NOT`` rows (reviewed and judged not indications) are skipped on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from graph_loader.adapter import Row, source_tag
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow
from ontology.vocab import Label, RelType

PHARMACOTHERAPYDB_CATEGORIES = {"DM": "disease-modifying", "SYM": "symptomatic"}


@dataclass
class _Disease:
    name: str
    origin: str
    synonyms: dict[str, None] = field(default_factory=dict)
    xrefs: dict[str, None] = field(default_factory=dict)

    def node(self, disease_id: str, tag: str) -> NodeRow:
        props = {
            "name": self.name,
            "synonyms": [s for s in self.synonyms if s != self.name],
            "xrefs": [x for x in self.xrefs if x != disease_id],
            "sources": [tag],
        }
        return NodeRow(Label.DISEASE, disease_id, props, self.origin)


def _required(paths: SourcePaths, field_name: str) -> Path:
    path = paths.resolve(field_name)
    if path is None:
        raise ValueError(f"{field_name}: path not supplied")
    return path


def _read(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, separator="\t", infer_schema_length=0, quote_char='"').with_row_index("line", 2)


class DrugCentralIndicationsAdapter:
    name = "drugcentral_indications"
    version = "2016"

    def __init__(self, paths: SourcePaths, resolver: DrugResolver) -> None:
        self._path = _required(paths, "drugcentral_indications")
        self._resolver = resolver

    def rows(self) -> Iterator[Row]:
        tag = source_tag(self)
        diseases: dict[str, _Disease] = {}
        edges: list[EdgeRow] = []
        for row in _read(self._path).iter_rows(named=True):
            origin = f"{self.name}:{row['line']}"
            codes = [
                f"{prefix}{code.strip()}"
                for prefix, code in (("", row["DOID"]), ("SNOMEDCT:", row["SNOMEDCT_CUI"]), ("UMLS:", row["UMLS_CUI"]))
                if code and code.strip()
            ]
            if not codes:
                yield UnmappedReference(origin, row["INDICATION_FDB"], "indication has no DOID, SNOMED CT or UMLS code")
                continue
            disease_id = codes[0]
            disease = diseases.setdefault(disease_id, _Disease(row["INDICATION_FDB"], origin))
            disease.synonyms[row["INDICATION_FDB"]] = None
            disease.xrefs.update(dict.fromkeys(codes))
            drug = self._resolver.by_drugcentral(row["DRUG_ID"]) or self._resolver.by_name(row["DRUG_NAME"])
            if drug is None:
                reason = f"treats {disease_id}: " + self._resolver.unresolved_reason(row["DRUG_NAME"])
                yield UnmappedReference(origin, f"{row['DRUG_NAME']} (DrugCentral {row['DRUG_ID']})", reason)
                continue
            edges.append(EdgeRow(RelType.TREATS, drug, disease_id, {"source": tag}, origin))
        for disease_id, disease in diseases.items():
            yield disease.node(disease_id, tag)
        yield from edges


class PharmacotherapyDBAdapter:
    name = "pharmacotherapydb"
    version = "1.0"

    def __init__(self, paths: SourcePaths, resolver: DrugResolver) -> None:
        self._path = _required(paths, "pharmacotherapydb_indications")
        self._resolver = resolver

    def rows(self) -> Iterator[Row]:
        tag = source_tag(self)
        diseases: dict[str, _Disease] = {}
        edges: list[EdgeRow] = []
        for row in _read(self._path).iter_rows(named=True):
            origin = f"{self.name}:{row['line']}"
            category = PHARMACOTHERAPYDB_CATEGORIES.get(row["category"])
            if category is None:
                continue  # "NOT": curators judged the pair not an indication
            disease_id = row["doid_id"].strip()
            diseases.setdefault(disease_id, _Disease(row["disease"], origin))
            drug = self._resolver.resolve(drugbank_id=row["drugbank_id"], name=row["drug"])
            if drug is None:
                reason = f"treats {disease_id}: " + self._resolver.unresolved_reason(row["drug"])
                yield UnmappedReference(origin, f"{row['drug']} ({row['drugbank_id']})", reason)
                continue
            edges.append(EdgeRow(RelType.TREATS, drug, disease_id, {"source": tag, "evidence": category}, origin))
        for disease_id, disease in diseases.items():
            yield disease.node(disease_id, tag)
        yield from edges
