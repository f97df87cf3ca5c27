"""WorldVista's English translation of part of the ANSM interaction thesaurus.

Drug-level pairs for 65 common drugs with RxCUIs, an English description, the ANSM
severity in English and, sometimes, management advice ("Comment"). The file repeats
its header line inside the data; those lines are skipped. Pairs listed in both orders
are stored once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from graph_loader.adapter import Row
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow
from ontology.vocab import RelType, Severity

NAME = "ansm_english_subset"
VERSION = "worldvista"

_SEVERITY: dict[str, Severity] = {
    "contraindication": Severity.CONTRAINDICATED,
    "not recommended": Severity.MAJOR,
    "precaution for use": Severity.MODERATE,
    "take into account": Severity.MINOR,
}
_COLUMNS = [
    "Drug_Interaction_ID",
    "Drug_1_Name",
    "Drug_1_RxCUI",
    "Drug_2_Name",
    "Drug_2_RxCUI",
    "Description",
    "Severity",
    "Comment",
]


def parse_severity(text: str) -> Severity:
    found = _SEVERITY.get(" ".join(text.split()).lower())
    if found is None:
        raise ValueError(f"Severity: {text!r} is not one of {sorted(_SEVERITY)}")
    return found


@dataclass
class _Pair:
    names: tuple[str, str]
    origin: str
    severities: list[tuple[Severity, str]] = field(default_factory=list)
    descriptions: list[str] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)


def _add_unique(items: list[Any], value: Any) -> None:
    if value and value not in items:
        items.append(value)


class AnsmEnglishSubsetAdapter:
    name = NAME
    version = VERSION

    def __init__(self, path: Path, resolver: DrugResolver) -> None:
        self._path = path
        self._resolver = resolver

    @classmethod
    def from_paths(cls, paths: SourcePaths, resolver: DrugResolver) -> AnsmEnglishSubsetAdapter | None:
        path = paths.resolve(NAME)
        return None if path is None else cls(path, resolver)

    @property
    def tag(self) -> str:
        return f"{self.name}@{self.version}"

    def _read(self) -> pl.DataFrame:
        frame = pl.read_csv(self._path, separator="\t", infer_schema_length=0, quote_char=None)
        if frame.columns != _COLUMNS:
            raise ValueError(f"{self._path.name}: expected columns {_COLUMNS}, got {frame.columns}")
        return frame

    def _drug(self, name: str, rxcui: str | None) -> str | None:
        return self._resolver.resolve(rxcui=rxcui, name=name)

    def rows(self) -> Iterator[Row]:
        pairs: dict[tuple[str, str], _Pair] = {}
        for line_no, rec in enumerate(self._read().iter_rows(named=True), start=2):
            if rec["Drug_Interaction_ID"] == "Drug_Interaction_ID":
                continue  # a repeated header line
            origin = f"{self.name}:{line_no}"
            ends: list[tuple[str, str]] = []
            for n in ("1", "2"):
                name, rxcui = rec[f"Drug_{n}_Name"] or "", rec[f"Drug_{n}_RxCUI"]
                drug = self._drug(name, rxcui)
                if drug is None:
                    reason = f"RxCUI and name unresolved ({self._resolver.unresolved_reason(name)})"
                    yield UnmappedReference(origin, f"{name} (RxCUI {rxcui})", reason)
                    break
                ends.append((drug, name.lower()))
            if len(ends) < 2:
                continue
            (a, a_name), (b, b_name) = sorted(ends)
            if a == b:
                yield UnmappedReference(origin, f"{a_name} + {b_name}", f"both drugs resolve to {a}")
                continue
            pair = pairs.setdefault((a, b), _Pair((a_name, b_name), origin))
            severity_text = " ".join((rec["Severity"] or "").split())
            _add_unique(pair.severities, (parse_severity(severity_text), severity_text))
            _add_unique(pair.descriptions, " ".join((rec["Description"] or "").split()))
            _add_unique(pair.comments, " ".join((rec["Comment"] or "").split()))
            _add_unique(pair.ids, rec["Drug_Interaction_ID"])
        for (a, b), pair in pairs.items():
            yield EdgeRow(RelType.INTERACTS_WITH, a, b, self._props(pair), pair.origin)

    def _props(self, pair: _Pair) -> dict[str, Any]:
        worst = min((s for s, _ in pair.severities), key=lambda s: s.rank)
        text = " ".join(pair.descriptions) or f"Interaction between {pair.names[0]} and {pair.names[1]}."
        return {
            "source": self.tag,
            "severity": worst.value,
            "source_severity": " | ".join(dict.fromkeys(label for _, label in pair.severities)),
            "description": f"{pair.names[0]} + {pair.names[1]}: {text}",
            "mechanism": text,
            "management": " ".join(pair.comments),
            "evidence": "ANSM thesaurus (English translation by WorldVista), interaction id " + ", ".join(pair.ids),
        }
