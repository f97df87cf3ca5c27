"""Map the codes an EHR sends for a Condition to the graph's condition ids.

Pure logic: the caller passes the ids the graph knows (a set, or any container) and,
optionally, cross-references from other vocabularies to graph ids (for instance the
SNOMED CT xrefs HPO terms carry). Nothing here reads a store, so the compiled index
and tests use the same code.

Every input yields a :class:`ConditionMapping`; an input that maps to nothing says so
and why, so a caller can report it instead of losing it.
"""

from __future__ import annotations

import re
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from ontology.curie import CodeSystemMap, CurieError, split_curie

ICD10CM = "ICD10CM"

MatchType = Literal["exact", "ancestor", "xref", "unmapped"]

ANCESTOR_DECAY = 0.9
"""Confidence per level climbed: the ancestor is certainly true of the patient, but says less."""
XREF_CONFIDENCE = 0.8
"""A cross-reference asserted by a terminology is an equivalence claim, not an identity."""

# Letter, digit, digit-or-letter (category), then up to four characters after the dot.
_ICD10CM_SHAPE = re.compile(r"^([A-Z][0-9][0-9A-Z])\.?([0-9A-Z]{1,4})?$")


@dataclass(frozen=True, slots=True)
class ConditionMapping:
    """What one input coding became."""

    system: str
    code: str
    curies: tuple[str, ...]
    match: MatchType
    confidence: float
    reason: str
    """Why this match (or, when unmapped, why not): fit to show a clinician or log."""

    @property
    def mapped(self) -> bool:
        return self.match != "unmapped"


def normalise_icd10cm(code: str) -> str | None:
    """``"e119"``, ``" E11.9 "``, ``"ICD10CM:E11.9"`` -> ``"E11.9"``; None when it is no ICD-10-CM code shape."""
    text = re.sub(r"\s+", "", code).upper()
    if text.startswith(f"{ICD10CM}:"):
        text = text[len(ICD10CM) + 1 :]
    found = _ICD10CM_SHAPE.match(text)
    if found is None:
        return None
    category, detail = found.group(1), found.group(2)
    return f"{category}.{detail}" if detail else category


def icd10cm_ancestors(code: str) -> list[str]:
    """Dotted ancestors by truncation, nearest first: ``E11.65`` -> ``[E11.6, E11]``."""
    out: list[str] = []
    current = code
    while "." in current:
        current = current[:-1].rstrip(".")
        out.append(current)
    return out


class ConditionCodeMapper:
    """Maps codings to graph condition ids; holds only what it is given."""

    def __init__(
        self,
        code_systems: CodeSystemMap,
        known_ids: Container[str],
        xrefs: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self._code_systems = code_systems
        self._known = known_ids
        self._xrefs: Mapping[str, Sequence[str]] = xrefs or {}

    def map_icd10cm(self, code: str, system: str = "http://hl7.org/fhir/sid/icd-10-cm") -> ConditionMapping:
        normal = normalise_icd10cm(code)
        if normal is None:
            return self._unmapped(system, code, f"{code!r} is not shaped like an ICD-10-CM code (e.g. E11.9)")
        exact = f"{ICD10CM}:{normal}"
        if exact in self._known:
            return ConditionMapping(system, code, (exact,), "exact", 1.0, f"ICD-10-CM {normal} is in the graph")
        for levels, ancestor in enumerate(icd10cm_ancestors(normal), start=1):
            curie = f"{ICD10CM}:{ancestor}"
            if curie in self._known:
                return ConditionMapping(
                    system,
                    code,
                    (curie,),
                    "ancestor",
                    round(ANCESTOR_DECAY**levels, 4),
                    f"ICD-10-CM {normal} is not in the graph; its nearest ancestor {ancestor} is",
                )
        return self._unmapped(system, code, f"neither ICD-10-CM {normal} nor any ancestor is in the graph")

    def map_coding(self, system: str, code: str) -> ConditionMapping:
        """One FHIR coding (``system`` URI + ``code``)."""
        if not code.strip():
            return self._unmapped(system, code, "the coding has an empty code")
        curie = self._code_systems.from_fhir(system, code)
        if curie is None:
            return self._unmapped(system, code, f"code system {system!r} is not one kgcds knows")
        try:
            prefix, local = split_curie(curie)
        except CurieError as exc:
            return self._unmapped(system, code, str(exc))
        if prefix == ICD10CM:
            return self.map_icd10cm(local, system)
        if curie in self._known:
            return ConditionMapping(system, code, (curie,), "exact", 1.0, f"{curie} is in the graph")
        targets = tuple(sorted(t for t in self._xrefs.get(curie, ()) if t in self._known))
        if targets:
            return ConditionMapping(
                system, code, targets, "xref", XREF_CONFIDENCE, f"{curie} is cross-referenced by {', '.join(targets)}"
            )
        return self._unmapped(system, code, f"{curie} is not a condition in the graph and nothing cross-references it")

    def map_codings(self, codings: Sequence[tuple[str, str]]) -> list[ConditionMapping]:
        """Every coding of a CodeableConcept, in order; callers pick the best mapped one."""
        return [self.map_coding(system, code) for system, code in codings]

    @staticmethod
    def _unmapped(system: str, code: str, reason: str) -> ConditionMapping:
        return ConditionMapping(system, code, (), "unmapped", 0.0, reason)


def best_mapping(mappings: Sequence[ConditionMapping]) -> ConditionMapping | None:
    """The most confident mapped result, the first on ties; None when nothing mapped."""
    mapped = [m for m in mappings if m.mapped]
    return max(mapped, key=lambda m: m.confidence) if mapped else None
