"""FHIR Conditions and Observations -> observed and excluded HPO findings for the differential.

A finding is coded in HPO (system ``http://human-phenotype-ontology.org`` or an ``HP:`` code), or in
another terminology (SNOMED CT, ICD-10-CM...) that the compiled index cross-references to an HPO term.
Negation follows FHIR: a refuted Condition, an Observation whose ``valueBoolean`` is false, whose
``interpretation`` is negative, or whose coded value says absent/negative is an *excluded* finding.
Every coded resource that yields no HPO term is returned as :class:`UnmappedCode` with the reason, so
the service can show what it could not use instead of silently ranking on part of the record.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from cds_api.fhir_models import CodeableConcept, FhirResource
from ontology.condition_codes import ConditionCodeMapper

HPO_SYSTEM = "http://human-phenotype-ontology.org"
HPO_PREFIX = "HP:"
_HPO_LOCAL = re.compile(r"^(?:HP[:_])?(\d{7})$")

# Records that never happened (entered in error) or were never carried out are not findings at all.
_VOID_STATUSES = frozenset({"entered-in-error", "cancelled"})
_REFUTED = "refuted"
# HL7 v3 ObservationInterpretation: negative, not detected, normal (a phenotype judged normal is absent).
_NEGATIVE_INTERPRETATIONS = frozenset({"NEG", "ND", "N"})
# Answer codes meaning "absent"/"no": SNOMED CT absent, negative, no; LOINC answer lists absent, negative, no.
_NEGATIVE_ANSWERS = frozenset({"2667000", "260385009", "373067005", "272519000", "LA9634-2", "LA6577-6", "LA32-8"})


@dataclass(frozen=True, slots=True)
class UnmappedCode:
    """A coded resource that gave no HPO term: where it is, what it said and why it was not used."""

    resource: str
    system: str | None
    code: str | None
    display: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class PhenotypeFindings:
    observed: tuple[str, ...]
    excluded: tuple[str, ...]
    unmapped: tuple[UnmappedCode, ...]


def hpo_curie(system: str | None, code: str | None) -> str | None:
    """``HP:0001250`` for an HPO coding (system URI with a bare or prefixed code, or any ``HP:`` code)."""
    if not code:
        return None
    text = code.strip()
    if system == HPO_SYSTEM or text.upper().startswith(HPO_PREFIX):
        found = _HPO_LOCAL.match(text.upper())
        return f"{HPO_PREFIX}{found.group(1)}" if found else None
    return None


def _codes(concept: CodeableConcept | None) -> set[str]:
    return {c.code for c in concept.coding if c.code} if concept is not None else set()


def _is_negated(resource: FhirResource) -> bool:
    if resource.resourceType == "Condition":
        return _REFUTED in _codes(resource.verificationStatus)
    if resource.valueBoolean is not None:
        return not resource.valueBoolean
    if any(_codes(i) & _NEGATIVE_INTERPRETATIONS for i in resource.interpretation):
        return True
    return bool(_codes(resource.valueCodeableConcept) & _NEGATIVE_ANSWERS)


class PhenotypeExtractor:
    """Turns prefetched resources into findings; ``conditions`` (from the compiled index) maps non-HPO codes."""

    def __init__(self, conditions: ConditionCodeMapper | None) -> None:
        self._conditions = conditions

    def extract(self, resources: Iterable[FhirResource]) -> PhenotypeFindings:
        observed: dict[str, None] = {}
        excluded: dict[str, None] = {}
        unmapped: list[UnmappedCode] = []
        for resource in resources:
            if resource.resourceType not in ("Condition", "Observation") or resource.code is None:
                continue
            if resource.status in _VOID_STATUSES or "entered-in-error" in _codes(resource.verificationStatus):
                continue
            where = f"{resource.resourceType}/{resource.id or '?'}"
            terms, missed = self._terms(where, resource.code)
            if not terms:
                unmapped.extend(missed)
                continue
            target = excluded if _is_negated(resource) else observed
            target.update(dict.fromkeys(terms))
        return PhenotypeFindings(tuple(observed), tuple(t for t in excluded if t not in observed), tuple(unmapped))

    def _terms(self, where: str, concept: CodeableConcept) -> tuple[list[str], list[UnmappedCode]]:
        """HPO terms for one concept: its HPO codings if any, else cross-referenced ones; else why not."""
        direct = [t for c in concept.coding if (t := hpo_curie(c.system, c.code)) is not None]
        if direct:
            return list(dict.fromkeys(direct)), []
        terms: list[str] = []
        missed: list[UnmappedCode] = []
        for coding in concept.coding:
            display = coding.display or concept.text
            if not coding.system or not coding.code:
                missed.append(UnmappedCode(where, coding.system, coding.code, display, "coding without system or code"))
                continue
            if self._conditions is None:
                missed.append(UnmappedCode(where, coding.system, coding.code, display, "no cross-references loaded"))
                continue
            mapping = self._conditions.map_coding(coding.system, coding.code)
            hpo = [c for c in mapping.curies if c.startswith(HPO_PREFIX)]
            if hpo:
                terms.extend(hpo)
            elif mapping.mapped:
                reason = f"maps to {', '.join(mapping.curies)}, which is not an HPO phenotype"
                missed.append(UnmappedCode(where, coding.system, coding.code, display, reason))
            else:
                missed.append(UnmappedCode(where, coding.system, coding.code, display, mapping.reason))
        if not concept.coding:
            missed.append(UnmappedCode(where, None, None, concept.text, "no coding (free text only)"))
        return list(dict.fromkeys(terms)), missed
