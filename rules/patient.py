"""The patient as the engine sees it: plain, already-resolved facts.

The API turns FHIR resources into these (codes as CURIEs, drugs resolved to ingredient
ids); the engine never parses FHIR and never touches a store.

Compiled with mypyc (:mod:`kgcds.native`), as plain native classes with written-out constructors and
``Final`` (read-only) attributes, compared and hashed by value: see :mod:`rules.findings` for why not
msgspec structs or dataclasses.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Final, TypeVar

from rules.records import ValueRecord


class MedicationEntry(ValueRecord):
    ref: Final[str]
    """FHIR reference of the order (``MedicationRequest/123``); cards name it."""
    display: Final[str]
    codes: Final[tuple[str, ...]]
    """The order's codes as CURIEs (``RXNORM:855332``)."""
    ingredient_ids: Final[tuple[str, ...]]
    """Resolved active ingredients (Drug node ids); empty when unresolved."""
    is_draft: Final[bool]
    match_note: Final[str | None]
    """How the drug was resolved when not by exact code (e.g. "by name"), shown in the card."""

    def __init__(
        self,
        ref: str,
        display: str,
        codes: tuple[str, ...],
        ingredient_ids: tuple[str, ...],
        is_draft: bool,
        match_note: str | None,
    ) -> None:
        self.ref = ref
        self.display = display
        self.codes = codes
        self.ingredient_ids = ingredient_ids
        self.is_draft = is_draft
        self.match_note = match_note

    def _values(self) -> tuple[object, ...]:
        return (self.ref, self.display, self.codes, self.ingredient_ids, self.is_draft, self.match_note)


class AllergyEntry(ValueRecord):
    ref: Final[str]
    display: Final[str]
    codes: Final[tuple[str, ...]]
    ingredient_ids: Final[tuple[str, ...]]
    """Ingredients the allergy names directly (an allergy to amoxicillin)."""
    class_ids: Final[tuple[str, ...]]
    """Classes the allergy names (``ALLERGYGROUP:penicillin`` for "allergy to penicillins")."""
    criticality: Final[str | None]
    """FHIR criticality: low | high | unable-to-assess."""
    verification_status: Final[str | None]
    """FHIR verificationStatus code: unconfirmed | presumed | confirmed | refuted | entered-in-error."""
    clinical_status: Final[str | None]
    """FHIR clinicalStatus code: active | inactive | resolved."""
    match_note: Final[str | None]
    """How the substance was identified when not by an exact code ("by name", "by allergy group name")."""

    def __init__(
        self,
        ref: str,
        display: str,
        codes: tuple[str, ...],
        ingredient_ids: tuple[str, ...],
        class_ids: tuple[str, ...],
        criticality: str | None,
        verification_status: str | None,
        clinical_status: str | None,
        match_note: str | None = None,
    ) -> None:
        self.ref = ref
        self.display = display
        self.codes = codes
        self.ingredient_ids = ingredient_ids
        self.class_ids = class_ids
        self.criticality = criticality
        self.verification_status = verification_status
        self.clinical_status = clinical_status
        self.match_note = match_note

    def _values(self) -> tuple[object, ...]:
        return (
            self.ref,
            self.display,
            self.codes,
            self.ingredient_ids,
            self.class_ids,
            self.criticality,
            self.verification_status,
            self.clinical_status,
            self.match_note,
        )


class ConditionEntry(ValueRecord):
    ref: Final[str]
    display: Final[str]
    codes: Final[tuple[str, ...]]
    """CURIEs: ``SNOMEDCT:59621000``, ``ICD10CM:I10``."""
    clinical_status: Final[str | None]

    def __init__(self, ref: str, display: str, codes: tuple[str, ...], clinical_status: str | None) -> None:
        self.ref = ref
        self.display = display
        self.codes = codes
        self.clinical_status = clinical_status

    def _values(self) -> tuple[object, ...]:
        return (self.ref, self.display, self.codes, self.clinical_status)


class LabResult(ValueRecord):
    loinc: Final[str]
    """The LOINC code, bare (``33914-3``) or as a CURIE (``LOINC:33914-3``)."""
    value: Final[float]
    unit: Final[str | None]
    effective: Final[datetime | None]

    def __init__(self, loinc: str, value: float, unit: str | None, effective: datetime | None) -> None:
        self.loinc = loinc
        self.value = value
        self.unit = unit
        self.effective = effective

    def _values(self) -> tuple[object, ...]:
        return (self.loinc, self.value, self.unit, self.effective)


class GenotypeResult(ValueRecord):
    gene: Final[str]
    """Gene symbol (``CYP2C19``, ``HLA-B``)."""
    phenotype: Final[str | None]
    """CPIC phenotype term (``Poor Metabolizer``) or ``positive``/``negative`` for an allele test."""
    allele: Final[str | None]
    """Allele or diplotype as reported (``*57:01``, ``HLA-B*57:01``, ``*2/*2``)."""
    display: Final[str]

    def __init__(self, gene: str, phenotype: str | None, allele: str | None, display: str) -> None:
        self.gene = gene
        self.phenotype = phenotype
        self.allele = allele
        self.display = display

    def _values(self) -> tuple[object, ...]:
        return (self.gene, self.phenotype, self.allele, self.display)


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
