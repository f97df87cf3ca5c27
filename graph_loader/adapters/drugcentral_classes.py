"""DrugCentral pharmacologic classes: DrugClass nodes and Drug -MEMBER_OF_CLASS-> DrugClass edges.

Class ids by source: FDA (EPC, MoA, PE, Chemical/Ingredient) carry NDF-RT ``N0000...``
ids, MeSH pharmacologic actions ``D...`` ids, ChEBI roles ``CHEBI:...`` ids. Drugs are
resolved through DrugCentral's own id (the identifiers crosswalk), then by name.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from graph_loader.adapter import Row, source_tag
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow
from ontology.vocab import ClassType, Label, RelType

# (SOURCE, TYPE) -> class type. ChEBI "has role" classes (e.g. "antifungal agent") come from a
# chemical ontology and stay apart from the FDA/MeSH pharmacologic types as "chemical".
CLASS_TYPES: dict[tuple[str, str], ClassType] = {
    ("FDA", "EPC"): ClassType.EPC,
    ("FDA", "MoA"): ClassType.MOA,
    ("FDA", "PE"): ClassType.PE,
    ("FDA", "Chemical/Ingredient"): ClassType.CS,
    ("MeSH", "PA"): ClassType.PA,
    ("CHEBI", "has role"): ClassType.CHEMICAL,
}


def class_curie(source: str, source_id: str) -> str | None:
    """The CURIE of a DrugCentral class id, or None for a source we do not map."""
    source_id = source_id.strip()
    if source == "FDA" and source_id.startswith("N"):
        return f"NDFRT:{source_id}"
    if source == "MeSH":
        return f"MESH:{source_id}"
    if source == "CHEBI":
        return source_id if source_id.startswith("CHEBI:") else f"CHEBI:{source_id}"
    return None


class DrugCentralClassesAdapter:
    name = "drugcentral_classes"
    version = "2016"

    def __init__(self, paths: SourcePaths, resolver: DrugResolver) -> None:
        path = paths.resolve("drugcentral_pharm_class")
        if path is None:
            raise ValueError("drugcentral_pharm_class: path not supplied")
        self._path = path
        self._resolver = resolver

    def rows(self) -> Iterator[Row]:
        tag = source_tag(self)
        frame = pl.read_csv(self._path, separator="\t", infer_schema_length=0, quote_char='"').with_row_index("line", 2)
        seen_classes: set[str] = set()
        for row in frame.iter_rows(named=True):
            origin = f"{self.name}:{row['line']}"
            class_type = CLASS_TYPES.get((row["SOURCE"], row["TYPE"]))
            class_id = class_curie(row["SOURCE"], row["CLASS_SOURCE_ID"] or "")
            if class_type is None or class_id is None:
                reason = f"unknown class source/type {row['SOURCE']}/{row['TYPE']}"
                yield UnmappedReference(origin, row["CLASS_SOURCE_ID"] or "", reason)
                continue
            if class_id not in seen_classes:
                seen_classes.add(class_id)
                props = {"name": row["CLASS"], "class_type": class_type.value, "sources": [tag]}
                yield NodeRow(Label.DRUG_CLASS, class_id, props, origin)
            drug = self._resolver.by_drugcentral(row["DRUG_ID"]) or self._resolver.by_name(row["DRUG_NAME"])
            if drug is None:
                reason = f"member of {class_id}: " + self._resolver.unresolved_reason(row["DRUG_NAME"])
                yield UnmappedReference(origin, f"{row['DRUG_NAME']} (DrugCentral {row['DRUG_ID']})", reason)
                continue
            yield EdgeRow(RelType.MEMBER_OF_CLASS, drug, class_id, {"source": tag}, origin)
