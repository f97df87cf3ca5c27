"""The ONC drug-drug interaction lists (Phansalkar et al., JAMIA 2012).

Three sources:

* ``onc_high_priority``: interactions that should interrupt the prescriber (severity
  major, interruptive). ``$``-separated, no header: name, DrugBank id, name, DrugBank id.
  Each pair appears in both orders; it is stored once.
* ``onc_non_interruptive``: interactions the panel judged should be shown passively
  (severity minor, not interruptive). Same format.
* ``onc_class_pairs``: the high-priority list's 15 class-level pairs ("QT prolonging
  agents" with each other, "SSRIs" with "MAOI" ...). Each class of each pair becomes an
  ``ONCDDI`` DrugClass with the members the sheet lists; the id carries the pair number
  because the sheet lists different members under the same class name in different pairs.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import xlrd

from graph_loader.adapter import Row
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow
from ontology.vocab import ClassType, Label, RelType, Severity

VERSION = "2012"
CITATION = "Phansalkar et al., JAMIA 2012"
HIGH_PRIORITY = "onc_high_priority"
NON_INTERRUPTIVE = "onc_non_interruptive"
CLASS_PAIRS = "onc_class_pairs"

# Misspellings in the class-pair sheet, corrected so the members resolve.
_SPELLING_FIXES = {
    "esmoprazole": "esomeprazole",
    "voreconazole": "voriconazole",
    "lisdexamefetamine": "lisdexamfetamine",
    "st john’s wort": "St John's wort",
}

# The ANSM class whose members are the QT-prolonging agents the ONC sheet names without members.
ANSM_TORSADES_CLASS = "ANSM:substances-susceptibles-de-donner-des-torsades-de-pointes"

_NON_SLUG = re.compile(r"[^a-z0-9]+")


def _slug(text: str) -> str:
    return _NON_SLUG.sub("-", text.lower()).strip("-")


class OncPairListAdapter:
    """One of the two ``$``-separated ONC pair lists."""

    version = VERSION

    def __init__(self, name: str, path: Path, resolver: DrugResolver, *, interruptive: bool) -> None:
        self.name = name
        self._path = path
        self._resolver = resolver
        self._interruptive = interruptive

    @classmethod
    def high_priority(cls, paths: SourcePaths, resolver: DrugResolver) -> OncPairListAdapter | None:
        path = paths.resolve(HIGH_PRIORITY)
        return None if path is None else cls(HIGH_PRIORITY, path, resolver, interruptive=True)

    @classmethod
    def non_interruptive(cls, paths: SourcePaths, resolver: DrugResolver) -> OncPairListAdapter | None:
        path = paths.resolve(NON_INTERRUPTIVE)
        return None if path is None else cls(NON_INTERRUPTIVE, path, resolver, interruptive=False)

    @property
    def tag(self) -> str:
        return f"{self.name}@{self.version}"

    def _read(self) -> pl.DataFrame:
        # polars drops the byte-order mark; the trailing "$" makes an empty fifth column.
        frame = pl.read_csv(self._path, separator="$", has_header=False, infer_schema_length=0, quote_char=None)
        if frame.width < 4:
            raise ValueError(f"{self._path.name}: expected 4 '$'-separated fields, got {frame.width}")
        return frame.select(frame.columns[:4]).rename(
            dict(zip(frame.columns[:4], ["name_a", "drugbank_a", "name_b", "drugbank_b"], strict=True))
        )

    def _drug(self, name: str, drugbank_id: str) -> str | None:
        return self._resolver.by_drugbank(drugbank_id) or self._resolver.by_name(name)

    def rows(self) -> Iterator[Row]:
        pairs: dict[tuple[str, str], tuple[str, str, str]] = {}  # ids -> (name a, name b, origin)
        for line_no, (name_a, db_a, name_b, db_b) in enumerate(self._read().iter_rows(), start=1):
            origin = f"{self.name}:{line_no}"
            ends: list[tuple[str, str]] = []
            for name, db in ((name_a, db_a), (name_b, db_b)):
                drug = self._drug(name or "", db or "")
                if drug is None:
                    reason = f"DrugBank id and name unresolved ({self._resolver.unresolved_reason(name or '')})"
                    yield UnmappedReference(origin, f"{name} ({db})", reason)
                    break
                ends.append((drug, name.strip()))
            if len(ends) < 2:
                continue
            (a, a_name), (b, b_name) = sorted(ends)
            if a == b:
                yield UnmappedReference(origin, f"{name_a} + {name_b}", f"both drugs resolve to {a}")
                continue
            pairs.setdefault((a, b), (a_name, b_name, origin))
        for (a, b), (a_name, b_name, origin) in pairs.items():
            yield EdgeRow(RelType.INTERACTS_WITH, a, b, self._props(a_name, b_name), origin)

    def _props(self, a_name: str, b_name: str) -> dict[str, Any]:
        if self._interruptive:
            severity = Severity.MAJOR
            text = (
                f"High-priority interaction ({CITATION}): {a_name} + {b_name}. Alert should interrupt the prescriber."
            )
        else:
            severity = Severity.MINOR
            text = (
                f"Low-priority interaction ({CITATION}): {a_name} + {b_name}. "
                "The ONC panel judged it should be shown passively, not interrupt the prescriber."
            )
        return {"source": self.tag, "severity": severity.value, "interruptive": self._interruptive, "description": text}


@dataclass
class _Side:
    """One side of a class pair: its classes (name -> member names) and loose drugs."""

    classes: dict[str, list[str]] = field(default_factory=dict)
    drugs: list[str] = field(default_factory=list)


@dataclass
class ClassPair:
    number: int
    object_side: _Side = field(default_factory=_Side)
    precipitant_side: _Side = field(default_factory=_Side)


def parse_class_pairs(path: Path, sheet_name: str = "Revised Table 2") -> list[ClassPair]:
    """The numbered pairs of the ONC class sheet: class names open blocks, drug cells list members."""
    book = xlrd.open_workbook(str(path))
    try:
        sheet = book.sheet_by_name(sheet_name)
    except xlrd.biffh.XLRDError as exc:
        raise ValueError(f"{path.name}: no sheet {sheet_name!r} (sheets: {book.sheet_names()})") from exc
    pairs: list[ClassPair] = []
    current: ClassPair | None = None
    open_class: dict[str, str | None] = {"object": None, "precipitant": None}
    for r in range(2, sheet.nrows):
        number, obj_class, obj_drug, pre_class, pre_drug = (sheet.cell_value(r, c) for c in range(5))
        if isinstance(number, float):
            current = ClassPair(int(number))
            pairs.append(current)
            open_class = {"object": None, "precipitant": None}
        if current is None:
            continue
        cells = (
            ("object", current.object_side, obj_class, obj_drug),
            ("precipitant", current.precipitant_side, pre_class, pre_drug),
        )
        for key, side, cls_cell, drug_cell in cells:
            cls_name = " ".join(str(cls_cell).split())
            drug = " ".join(str(drug_cell).split())
            if cls_name:
                open_class[key] = cls_name
                side.classes.setdefault(cls_name, [])
            if not drug:
                continue
            if open_class[key] is None:
                side.drugs.append(drug)
            else:
                side.classes[str(open_class[key])].append(drug)
    return pairs


class OncClassPairsAdapter:
    """The 15 class-level pairs of the ONC high-priority list."""

    name = CLASS_PAIRS
    version = VERSION

    def __init__(self, path: Path, resolver: DrugResolver) -> None:
        self._path = path
        self._resolver = resolver

    @classmethod
    def from_paths(cls, paths: SourcePaths, resolver: DrugResolver) -> OncClassPairsAdapter | None:
        path = paths.resolve(CLASS_PAIRS)
        return None if path is None else cls(path, resolver)

    @property
    def tag(self) -> str:
        return f"{self.name}@{self.version}"

    def _drug(self, name: str) -> str | None:
        return self._resolver.by_name(_SPELLING_FIXES.get(name.lower(), name))

    def rows(self) -> Iterator[Row]:
        for pair in parse_class_pairs(self._path):
            origin = f"{self.name}:pair {pair.number}"
            ends: list[list[tuple[str, str]]] = []
            for side in (pair.object_side, pair.precipitant_side):
                entities: list[tuple[str, str]] = []
                yield from self._side_rows(pair.number, side, origin, entities)
                ends.append(entities)
            if ends[0] == ends[1] and len(ends[0]) == 1:
                yield from self._self_pair(pair.number, ends[0][0], origin)
                continue
            for a_id, a_name in ends[0]:
                for b_id, b_name in ends[1]:
                    if a_id != b_id:
                        yield EdgeRow(
                            RelType.INTERACTS_WITH, a_id, b_id, self._props(pair.number, a_name, b_name), origin
                        )

    def _side_rows(self, number: int, side: _Side, origin: str, entities: list[tuple[str, str]]) -> Iterator[Row]:
        for cls_name, members in side.classes.items():
            cid = f"ONCDDI:pair{number}-{_slug(cls_name)}"
            props = {
                "name": f"{cls_name} (ONC pair {number})",
                "class_type": ClassType.ONC_DDI_CLASS.value,
                "synonyms": [cls_name],
                "sources": [self.tag],
            }
            yield NodeRow(Label.DRUG_CLASS, cid, props, origin)
            entities.append((cid, cls_name))
            for member in members:
                drug = self._drug(member)
                if drug is None:
                    yield UnmappedReference(origin, member, f"member of {cls_name!r} not resolved to a drug")
                else:
                    yield EdgeRow(RelType.MEMBER_OF_CLASS, drug, cid, {"source": self.tag}, origin)
        for name in side.drugs:
            drug = self._drug(name)
            if drug is None:
                yield UnmappedReference(origin, name, "drug not resolved")
            else:
                entities.append((drug, name))

    def _self_pair(self, number: int, entity: tuple[str, str], origin: str) -> Iterator[Row]:
        """A class paired with itself ("QT prolonging agents" x2), which an edge cannot hold.

        Following ANSM's own convention ("AINS" + "AUTRES AINS") we add an "other ..." twin
        and link the pair between the two; the sheet lists no members, so both classes take
        the ANSM torsadogenic substances as a subclass (IS_A), which makes any two of them match.
        """
        cid, name = entity
        twin = f"{cid}-other"
        props = {
            "name": f"other {name} (ONC pair {number})",
            "class_type": ClassType.ONC_DDI_CLASS.value,
            "synonyms": [f"other {name}"],
            "sources": [self.tag],
        }
        yield NodeRow(Label.DRUG_CLASS, twin, props, origin)
        for target in (cid, twin):
            yield EdgeRow(RelType.IS_A, ANSM_TORSADES_CLASS, target, {"source": self.tag}, origin)
        yield EdgeRow(RelType.INTERACTS_WITH, cid, twin, self._props(number, name, f"other {name}"), origin)

    def _props(self, number: int, a_name: str, b_name: str) -> dict[str, Any]:
        text = (
            f"High-priority interaction ({CITATION}, class pair {number}): {a_name} + {b_name}. "
            "Alert should interrupt the prescriber."
        )
        return {"source": self.tag, "severity": Severity.MAJOR.value, "interruptive": True, "description": text}
