"""The French ANSM drug-interaction thesaurus (2020-10 edition), classes and all.

Three files: the thesaurus (3,139 entries between 626 interactants), the substance
index (substance -> the ANSM classes it belongs to) and a substance -> RxNorm map.
An interactant is a class when the index uses it as a class name (most entries are
class-level: "ANTICOAGULANTS ORAUX" applies to every member); a few interactants are
neither class nor indexed substance (alcohol, grapefruit, latex condoms, "drugs given by
mouth") and become member-less ANSM groups so their entries are kept, not dropped.

Each unordered pair is stored once: entries A-B and B-A, and entries whose interactants
resolve to the same drugs, are merged (worst severity wins, every level is kept in
``source_severity`` and every French text in ``source_text``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from graph_loader.adapter import Row
from graph_loader.adapters.ansm_english_subset import AnsmEnglishSubsetAdapter
from graph_loader.adapters.ansm_glossary import AnsmGlossary, fold_text, tidy_text
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow
from ontology.vocab import ClassType, Label, RelType, Severity

NAME = "ansm_thesaurus"
VERSION = "2020-10"

# Folded level label -> (tier, the label as ANSM prints it).
_LEVELS: dict[str, tuple[Severity, str]] = {
    "contre-indication": (Severity.CONTRAINDICATED, "Contre-indication"),
    "association deconseillee": (Severity.MAJOR, "Association déconseillée"),
    "precaution d'emploi": (Severity.MODERATE, "Précaution d'emploi"),
    "a prendre en compte": (Severity.MINOR, "A prendre en compte"),
    "il convient de prendre en compte": (Severity.MINOR, "A prendre en compte"),
}

TIER_EN: dict[Severity, str] = {
    Severity.CONTRAINDICATED: "Contraindicated combination",
    Severity.MAJOR: "Combination not recommended",
    Severity.MODERATE: "Precaution for use",
    Severity.MINOR: "Take into account",
}

# What each ANSM level asks the prescriber to do; the specifics stay in the French source_text.
_MANAGEMENT_EN: dict[Severity, str] = {
    Severity.CONTRAINDICATED: "Do not combine (ANSM: contre-indication).",
    Severity.MAJOR: "Avoid the combination unless no alternative exists (ANSM: association déconseillée).",
    Severity.MODERATE: "May be combined with the precautions the source states, e.g. monitoring or dose "
    "adjustment (ANSM: précaution d'emploi; see the French source text).",
    Severity.MINOR: "Take the risk into account (ANSM: à prendre en compte).",
}

_NON_SLUG = re.compile(r"[^a-z0-9]+")
_HYPHEN_BREAK = re.compile(r"(\w)- (\w)")  # "adrénergiques- sérotoninergiques", a PDF line break


def class_id(french_name: str) -> str:
    """``ANSM:<slug>`` from a class name, whatever its case or accents."""
    return "ANSM:" + _NON_SLUG.sub("-", fold_text(french_name)).strip("-")


def parse_level(label: str) -> tuple[Severity, str]:
    found = _LEVELS.get(fold_text(label))
    if found is None:
        raise ValueError(f"ANSM severity level {label!r} is not one of {sorted(_LEVELS)}")
    return found


@dataclass
class _Pair:
    """Everything the source says about one unordered pair of graph nodes."""

    names: dict[str, str]
    levels: list[tuple[Severity, str]] = field(default_factory=list)
    mechanisms: list[str] = field(default_factory=list)
    french: list[str] = field(default_factory=list)
    origin: str = ""

    def add(self, entry: dict[str, Any], origin: str) -> None:
        self.origin = self.origin or origin
        for level in entry["severity_levels"]:
            tier, label = parse_level(level["level"])
            info = tidy_text(level.get("info") or "")
            text = f"{label}: {info}" if info else label
            if (tier, text) not in self.levels:
                self.levels.append((tier, text))
        mechanism = tidy_text(entry["interaction_mechanism"])
        if mechanism and mechanism not in self.mechanisms:
            self.mechanisms.append(mechanism)
        french = tidy_text(entry["description"])
        if french and french not in self.french:
            self.french.append(french)


@dataclass(frozen=True, slots=True)
class _Substance:
    name: str
    classes: tuple[str, ...]


class AnsmThesaurusAdapter:
    """Yields ANSM DrugClass nodes, MEMBER_OF_CLASS and INTERACTS_WITH edges."""

    name = NAME
    version = VERSION

    def __init__(
        self,
        thesaurus: Path,
        substances: Path,
        rxnorm: Path,
        resolver: DrugResolver,
        glossary: AnsmGlossary | None = None,
        english_subset: Path | None = None,
    ) -> None:
        self._thesaurus = thesaurus
        self._english_subset = english_subset
        self._substances = substances
        self._rxnorm = rxnorm
        self._resolver = resolver
        self._glossary = glossary
        self._drug_cache: dict[str, str | None] = {}

    @classmethod
    def from_paths(cls, paths: SourcePaths, resolver: DrugResolver) -> AnsmThesaurusAdapter | None:
        files = [paths.resolve(f) for f in ("ansm_thesaurus", "ansm_substances", "ansm_rxnorm")]
        if any(f is None for f in files):
            return None
        thesaurus, substances, rxnorm = (f for f in files if f is not None)
        return cls(thesaurus, substances, rxnorm, resolver, english_subset=paths.resolve("ansm_english_subset"))

    @property
    def tag(self) -> str:
        return f"{self.name}@{self.version}"

    # -- reading -------------------------------------------------------------------------
    def _read_substances(self) -> dict[str, _Substance]:
        records = json.loads(self._substances.read_text(encoding="utf-8"))
        out: dict[str, _Substance] = {}
        for i, rec in enumerate(records, start=1):
            if "substance" not in rec or "drug_classes" not in rec:
                raise ValueError(f"{self._substances.name} record {i}: needs 'substance' and 'drug_classes'")
            out[fold_text(rec["substance"])] = _Substance(rec["substance"], tuple(rec["drug_classes"]))
        return out

    def _read_rxnorm(self) -> dict[str, str]:
        frame = pl.read_csv(self._rxnorm, separator="\t", infer_schema_length=0, null_values=["NA", ""])
        if frame.columns[:2] != ["substance", "RxNorm"]:
            raise ValueError(f"{self._rxnorm.name}: expected columns substance, RxNorm; got {frame.columns}")
        return {fold_text(s): r for s, r in frame.select("substance", "RxNorm").iter_rows() if r is not None}

    def _read_entries(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = json.loads(self._thesaurus.read_text(encoding="utf-8"))
        for i, entry in enumerate(entries, start=1):
            for key in ("main_drug", "plus_drug", "severity_levels", "interaction_mechanism", "description"):
                if key not in entry:
                    raise ValueError(f"{self._thesaurus.name} entry {i}: missing field {key!r}")
        return entries

    # -- resolution ----------------------------------------------------------------------
    def _drug(self, substance: str, rxnorm: dict[str, str], glossary: AnsmGlossary) -> str | None:
        """RxNorm map first, then the French name, then the glossary's English name."""
        key = fold_text(substance)
        if key not in self._drug_cache:
            rxcui = rxnorm.get(key)
            found = self._resolver.by_rxcui(rxcui) if rxcui else None
            found = found or self._resolver.by_name(substance)
            english = glossary.substance_name_en(substance)
            if found is None and english:
                found = self._resolver.by_name(english)
            self._drug_cache[key] = found
        return self._drug_cache[key]

    # -- rows ----------------------------------------------------------------------------
    def rows(self) -> Iterator[Row]:
        glossary = self._glossary or AnsmGlossary.load()
        substances = self._read_substances()
        rxnorm = self._read_rxnorm()
        entries = self._read_entries()
        class_names: dict[str, str] = {}  # class id -> French name (index spelling preferred)
        for sub in substances.values():
            for cls_name in sub.classes:
                class_names.setdefault(class_id(cls_name), _HYPHEN_BREAK.sub(r"\1-\2", tidy_text(cls_name)))
        interactants = {e[k] for e in entries for k in ("main_drug", "plus_drug")}
        for interactant in sorted(interactants):
            cid = class_id(interactant)
            if cid not in class_names and fold_text(interactant) not in substances:
                class_names[cid] = tidy_text(interactant).lower()  # a member-less group (alcohol, grapefruit)
        yield from self._class_nodes(class_names, glossary)
        yield from self._memberships(substances, rxnorm, glossary)
        yield from self._interactions(entries, substances, rxnorm, class_names, glossary)

    def _class_nodes(self, class_names: dict[str, str], glossary: AnsmGlossary) -> Iterator[Row]:
        for cid, name in sorted(class_names.items()):
            english = glossary.class_name_en(name)
            props = {
                "name": name,
                "class_type": ClassType.ANSM_CLASS.value,
                "synonyms": [english] if english else [],
                "sources": [self.tag],
            }
            yield NodeRow(Label.DRUG_CLASS, cid, props, f"{self.name}:class:{cid}")

    def _memberships(
        self, substances: dict[str, _Substance], rxnorm: dict[str, str], glossary: AnsmGlossary
    ) -> Iterator[Row]:
        seen: set[tuple[str, str]] = set()
        for i, sub in enumerate(substances.values(), start=1):
            origin = f"{self.name}:substance:{i}"
            if not sub.classes:
                continue
            drug = self._drug(sub.name, rxnorm, glossary)
            if drug is None:
                reason = "ANSM substance (with classes) not resolved via RxNorm map or name: "
                yield UnmappedReference(origin, sub.name, reason + self._resolver.unresolved_reason(sub.name))
                continue
            for cls_name in sub.classes:
                key = (drug, class_id(cls_name))
                if key not in seen:
                    seen.add(key)
                    yield EdgeRow(RelType.MEMBER_OF_CLASS, drug, key[1], {"source": self.tag}, origin)

    def _endpoint(
        self,
        interactant: str,
        substances: dict[str, _Substance],
        rxnorm: dict[str, str],
        class_names: dict[str, str],
        glossary: AnsmGlossary,
    ) -> tuple[str | None, str]:
        """The node an interactant names and the name to print for it."""
        cid = class_id(interactant)
        if cid in class_names:
            english = glossary.class_name_en(class_names[cid])
            return cid, f"{class_names[cid]} ({english})" if english else class_names[cid]
        substance = substances[fold_text(interactant)].name
        drug = self._drug(substance, rxnorm, glossary)
        return drug, (self._resolver.name_of(drug) if drug else None) or substance

    def _interactions(
        self,
        entries: list[dict[str, Any]],
        substances: dict[str, _Substance],
        rxnorm: dict[str, str],
        class_names: dict[str, str],
        glossary: AnsmGlossary,
    ) -> Iterator[Row]:
        pairs: dict[tuple[str, str], _Pair] = {}
        for i, entry in enumerate(entries, start=1):
            origin = f"{self.name}:{i}"
            ends: list[tuple[str, str]] = []
            for interactant in (entry["main_drug"], entry["plus_drug"]):
                node, printed = self._endpoint(interactant, substances, rxnorm, class_names, glossary)
                if node is None:
                    yield UnmappedReference(origin, interactant, "ANSM interactant not resolved to a drug or class")
                    break
                ends.append((node, printed))
            if len(ends) < 2:
                continue
            (a, a_name), (b, b_name) = sorted(ends)
            if a == b:
                yield UnmappedReference(origin, f"{a_name} + {b_name}", f"both interactants resolve to {a}")
                continue
            pair = pairs.setdefault((a, b), _Pair(names={a: a_name, b: b_name}))
            pair.add(entry, origin)
        english = self._english_mechanisms()
        for (a, b), pair in pairs.items():
            props = self._props(pair, a, b, glossary, english.get((a, b)))
            yield EdgeRow(RelType.INTERACTS_WITH, a, b, props, pair.origin)

    def _english_mechanisms(self) -> dict[tuple[str, str], str]:
        """WorldVista's human English translation of drug-drug pairs, preferred to the glossary."""
        if self._english_subset is None:
            return {}
        subset = AnsmEnglishSubsetAdapter(self._english_subset, self._resolver)
        return {
            (row.source, row.target): str(row.props["mechanism"])
            for row in subset.rows()
            if isinstance(row, EdgeRow) and row.props.get("mechanism")
        }

    def _props(self, pair: _Pair, a: str, b: str, glossary: AnsmGlossary, english: str | None) -> dict[str, Any]:
        worst = min((tier for tier, _ in pair.levels), key=lambda s: s.rank)
        if english:
            mechanism = f"{english.rstrip('.')} (WorldVista English translation)."
        else:
            mechanism = " ".join(glossary.mechanism_en(m) for m in pair.mechanisms)
        description = f"{TIER_EN[worst]}: {pair.names[a]} + {pair.names[b]} (ANSM thesaurus). {mechanism}"
        return {
            "source": self.tag,
            "severity": worst.value,
            "source_severity": " | ".join(text for _, text in pair.levels),
            "description": description,
            "mechanism": mechanism,
            "management": _MANAGEMENT_EN[worst],
            "source_text": "\n\n".join(pair.french),
            "source_language": "fr",
        }
