"""Small builders for engine test patients (plain data, no FHIR)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rules.patient import (
    AllergyEntry,
    ConditionEntry,
    GenotypeResult,
    LabResult,
    MedicationEntry,
    PatientContext,
)

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def med(
    ingredient: str, name: str, *, draft: bool = False, ref: str | None = None, extra: tuple[str, ...] = ()
) -> MedicationEntry:
    return MedicationEntry(
        ref=ref or f"MedicationRequest/{'draft' if draft else 'active'}-{name.replace(' ', '-')}",
        display=name,
        codes=(ingredient,),
        ingredient_ids=(ingredient, *extra),
        is_draft=draft,
        match_note=None,
    )


def allergy(
    display: str,
    *,
    ingredients: tuple[str, ...] = (),
    groups: tuple[str, ...] = (),
    verification: str | None = "confirmed",
    criticality: str | None = "low",
    clinical: str | None = "active",
) -> AllergyEntry:
    return AllergyEntry(
        ref=f"AllergyIntolerance/{display.replace(' ', '-')}",
        display=display,
        codes=(),
        ingredient_ids=ingredients,
        class_ids=groups,
        criticality=criticality,
        verification_status=verification,
        clinical_status=clinical,
    )


def condition(code: str, display: str, status: str | None = "active") -> ConditionEntry:
    return ConditionEntry(ref=f"Condition/{code}", display=display, codes=(code,), clinical_status=status)


def lab(loinc: str, value: float, days_ago: float = 2, unit: str | None = None) -> LabResult:
    return LabResult(loinc=loinc, value=value, unit=unit, effective=NOW - timedelta(days=days_ago))


def genotype(gene: str, phenotype: str | None, allele: str | None = None) -> GenotypeResult:
    return GenotypeResult(
        gene=gene, phenotype=phenotype, allele=allele, display=f"{gene} {allele or ''} {phenotype or ''}"
    )


def patient(
    *,
    drafts: tuple[MedicationEntry, ...],
    active: tuple[MedicationEntry, ...] = (),
    allergies: tuple[AllergyEntry, ...] = (),
    conditions: tuple[ConditionEntry, ...] = (),
    labs: tuple[LabResult, ...] = (),
    genotypes: tuple[GenotypeResult, ...] = (),
    age: float | None = 70,
    sex: str | None = "female",
    pregnant: bool | None = None,
) -> PatientContext:
    return PatientContext(
        age_years=age,
        sex=sex,
        pregnant=pregnant,
        active_medications=active,
        drafts=drafts,
        allergies=allergies,
        conditions=conditions,
        labs=labs,
        genotypes=genotypes,
        unmapped=(),
    )
