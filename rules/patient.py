"""The patient as the engine sees it: plain, already-resolved facts.

The API turns FHIR resources into these (codes as CURIEs, drugs resolved to ingredient
ids); the engine never parses FHIR and never touches a store.

Structs are ``gc=False`` (plain values, no cycles), so building them does not feed the collector.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

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
    match_note: str | None = None
    """How the substance was identified when not by an exact code ("by name", "by allergy group name")."""


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


T = TypeVar("T")
Deferred = Callable[[], T]
"""A fact given as the function that reads it: called on the first read only (see :class:`PatientContext`)."""


class PatientContext:
    """One patient's facts, as the checks read them.

    ``pregnant``, ``conditions``, ``labs`` and ``genotypes`` may be given as a :data:`Deferred` instead
    of a value: the function is called the first time a check reads the fact, and its value kept. A real
    record carries dozens of conditions and observations, while most orders meet no rule that reads one,
    so reading them only on demand spares most calls that work; a check that does read one sees
    exactly what an eager read would have given.
    """

    __slots__ = (
        "_conditions",
        "_genotypes",
        "_labs",
        "_pregnant",
        "active_medications",
        "age_years",
        "allergies",
        "drafts",
        "sex",
        "unmapped",
    )

    def __init__(
        self,
        *,
        age_years: float | None,
        sex: str | None,
        pregnant: bool | Deferred[bool | None] | None,
        active_medications: tuple[MedicationEntry, ...],
        drafts: tuple[MedicationEntry, ...],
        allergies: tuple[AllergyEntry, ...],
        conditions: tuple[ConditionEntry, ...] | Deferred[tuple[ConditionEntry, ...]],
        labs: tuple[LabResult, ...] | Deferred[tuple[LabResult, ...]],
        genotypes: tuple[GenotypeResult, ...] | Deferred[tuple[GenotypeResult, ...]],
        unmapped: tuple[str, ...],
    ) -> None:
        self.age_years = age_years
        self.sex = sex
        """FHIR administrative gender: male | female | other | unknown."""
        self.active_medications = active_medications
        self.drafts = drafts
        self.allergies = allergies
        self.unmapped = unmapped
        """Record entries (active medications, other drafts, allergies) that could not be recognised, by
        display name and code, so a card can say what the drafts were not checked against. A draft that
        cannot be recognised is not listed: it was not screened at all, and says so itself."""
        self._pregnant = pregnant
        self._conditions = conditions
        self._labs = labs
        self._genotypes = genotypes

    @property
    def pregnant(self) -> bool | None:
        found = self._pregnant
        if callable(found):
            found = self._pregnant = found()
        return found

    @property
    def conditions(self) -> tuple[ConditionEntry, ...]:
        found = self._conditions
        if callable(found):
            found = self._conditions = found()
        return found

    @property
    def labs(self) -> tuple[LabResult, ...]:
        found = self._labs
        if callable(found):
            found = self._labs = found()
        return found

    @property
    def genotypes(self) -> tuple[GenotypeResult, ...]:
        found = self._genotypes
        if callable(found):
            found = self._genotypes = found()
        return found
