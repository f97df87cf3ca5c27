"""WHO ATC classification (user-supplied: CC BY-NC-SA, never shipped with kgcds).

Levels 1-4 become ``ATC:`` DrugClass nodes linked to their parent level by IS_A. A
level-5 code names one substance: it is resolved to a canonical Drug by name, and the
drug becomes MEMBER_OF_CLASS of the level-4 class (J01CA04 amoxicillin -> J01CA).
Level-5 entries that name combinations or unknown substances are reported as unmapped.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from graph_loader.adapter import Row, source_tag
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow
from ontology.vocab import ClassType, Label, RelType

# ATC code length by level: A, A01, A01A, A01AA, A01AA01.
LEVEL_BY_LENGTH = {1: 1, 3: 2, 4: 3, 5: 4, 7: 5}
_PARENT_LENGTH = {3: 1, 4: 3, 5: 4, 7: 5}
# Level-5 names that are not one substance: "amoxicillin and beta-lactamase inhibitor", "..., combinations".
_COMBINATION = re.compile(r"\band\b|combination|,|\bwith\b|various", re.IGNORECASE)


def atc_level(code: str) -> int | None:
    return LEVEL_BY_LENGTH.get(len(code))


def atc_parent(code: str) -> str | None:
    """The code one level up (``J01CA04`` -> ``J01CA``), None for an anatomical main group."""
    length = _PARENT_LENGTH.get(len(code))
    return code[:length] if length else None


def _version_of(path: Path) -> str:
    """``atc_who_2026-04-25.csv`` -> ``2026-04-25``; the file name is all the release information there is."""
    stem = path.stem
    return stem.rsplit("_", 1)[-1] if "_" in stem else stem


class AtcAdapter:
    name = "atc"

    def __init__(self, path: Path, resolver: DrugResolver) -> None:
        self._path = path
        self._resolver = resolver

    @classmethod
    def from_paths(cls, paths: SourcePaths, resolver: DrugResolver) -> AtcAdapter | None:
        """None when the user supplied no ATC file (the default)."""
        path = paths.resolve("atc")
        return cls(path, resolver) if path is not None else None

    @property
    def version(self) -> str:
        return _version_of(self._path)

    def rows(self) -> Iterator[Row]:
        tag = source_tag(self)
        frame = (
            pl.read_csv(self._path, infer_schema_length=0, quote_char='"', null_values=["NA"])
            .with_row_index("line", 2)
            .unique(["atc_code"], keep="first", maintain_order=True)
        )
        for row in frame.iter_rows(named=True):
            code, name, origin = row["atc_code"].strip(), row["atc_name"].strip(), f"{self.name}:{row['line']}"
            level = atc_level(code)
            if level is None:
                yield UnmappedReference(origin, code, f"ATC code of unexpected length {len(code)}")
                continue
            parent = atc_parent(code)
            if level < 5:
                props = {"name": name, "class_type": ClassType.ATC.value, "sources": [tag]}
                yield NodeRow(Label.DRUG_CLASS, f"ATC:{code}", props, origin)
                if parent:
                    yield EdgeRow(RelType.IS_A, f"ATC:{code}", f"ATC:{parent}", {"source": tag}, origin)
                continue
            drug = self._resolver.by_name(name)
            if drug is None:
                if _COMBINATION.search(name):
                    reason = f"ATC {code}: combination or group entry"
                else:
                    reason = f"ATC {code}: {self._resolver.unresolved_reason(name)}"
                yield UnmappedReference(origin, name, reason)
                continue
            yield EdgeRow(RelType.MEMBER_OF_CLASS, drug, f"ATC:{parent}", {"source": tag}, origin)
