"""The patient as the engine sees it: plain, already-resolved facts.

The API turns FHIR resources into these (codes as CURIEs, drugs resolved to ingredient
ids); the engine never parses FHIR and never touches a store.

Structs are ``gc=False`` (plain values, no cycles), so building them does not feed the collector.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import msgspec


class MedicationEntry(msgspec.Struct, frozen=True, gc=False):
    ref: str
    """FHIR reference of the order (``MedicationRequest/123``); cards name it."""
    display: str
    codes: tuple[str, ...]
    """The order's codes as CURIEs (``RXNORM:855332``)."""
    ingredient_ids: tuple[str, ...]
    """Resolved active ingredients (Drug node ids); empty when unresolved."""
    is_draft: bool
    match_note: str | None
    """How the drug was resolved when not by exact code (e.g. "by name"), shown in the card."""


class AllergyEntry(msgspec.Struct, frozen=True, gc=False):
    ref: str
    display: str
    codes: tuple[str, ...]
    ingredient_ids: tuple[str, ...]
    """Ingredients the allergy names directly (an allergy to amoxicillin)."""
    class_ids: tuple[str, ...]
    """Classes the allergy names (``ALLERGYGROUP:penicillin`` for "allergy to penicillins")."""
    criticality: str | None
    """FHIR criticality: low | high | unable-to-assess."""
    verification_status: str | None
    """FHIR verificationStatus code: unconfirmed | presumed | confirmed | refuted | entered-in-error."""
    clinical_status: str | None
    """FHIR clinicalStatus code: active | inactive | resolved."""


class ConditionEntry(msgspec.Struct, frozen=True, gc=False):
    ref: str
    display: str
    codes: tuple[str, ...]
    """CURIEs: ``SNOMEDCT:59621000``, ``ICD10CM:I10``."""
    clinical_status: str | None


class LabResult(msgspec.Struct, frozen=True, gc=False):
    loinc: str
    """The LOINC code, bare (``33914-3``) or as a CURIE (``LOINC:33914-3``)."""
    value: float
    unit: str | None
    effective: datetime | None


class GenotypeResult(msgspec.Struct, frozen=True, gc=False):
    gene: str
    """Gene symbol (``CYP2C19``, ``HLA-B``)."""
    phenotype: str | None
    """CPIC phenotype term (``Poor Metabolizer``) or ``positive``/``negative`` for an allele test."""
    allele: str | None
    """Allele or diplotype as reported (``*57:01``, ``HLA-B*57:01``, ``*2/*2``)."""
    display: str


@dataclass(frozen=True, slots=True)
class PatientContext:
    age_years: float | None
    sex: str | None
    """FHIR administrative gender: male | female | other | unknown."""
    pregnant: bool | None
    active_medications: tuple[MedicationEntry, ...]
    drafts: tuple[MedicationEntry, ...]
    allergies: tuple[AllergyEntry, ...]
    conditions: tuple[ConditionEntry, ...]
    labs: tuple[LabResult, ...]
    genotypes: tuple[GenotypeResult, ...]
    unmapped: tuple[str, ...]
    """Codes the API could not resolve, so a card can say what was not checked."""
