"""Lab values the rules ask about: named tests, the latest result, eGFR from creatinine."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from rules.patient import LabResult

EGFR_LOINCS = frozenset(
    {
        "33914-3",  # eGFR/1.73 m2 (MDRD)
        "62238-1",  # eGFR/1.73 m2 (CKD-EPI)
        "48642-3",
        "48643-1",
        "50044-7",
        "50210-4",
        "69405-9",
        "70969-1",
        "77147-7",
        "88293-6",
        "88294-4",
        "98979-8",  # eGFR/1.73 m2 (CKD-EPI 2021)
        "98980-6",
    }
)
CREATININE_MG_DL_LOINCS = frozenset({"2160-0", "38483-4"})
CREATININE_UMOL_L_LOINCS = frozenset({"14682-9", "59826-8"})
NAMED_TESTS: dict[str, frozenset[str]] = {
    "egfr": EGFR_LOINCS,
    "creatinine": CREATININE_MG_DL_LOINCS | CREATININE_UMOL_L_LOINCS,
    "potassium": frozenset({"2823-3", "6298-4"}),
    "sodium": frozenset({"2951-2", "2947-0"}),
    "heart-rate": frozenset({"8867-4"}),
}
UMOL_PER_MG_CREATININE = 88.42
_CLOCK_SKEW = timedelta(days=1)
"""A result dated up to a day ahead of the server's clock still counts (the EHR's clock or time zone)."""


def bare_loinc(code: str) -> str:
    return code.removeprefix("LOINC:")


@dataclass(frozen=True, slots=True)
class LabValue:
    """A value the engine compares, with how it was obtained (for the card)."""

    value: float
    unit: str | None
    effective: datetime | None
    loinc: str
    derivation: str | None = None
    """Set when the value was computed (eGFR from creatinine), to say so in the card."""


def latest(labs: Iterable[LabResult], loincs: frozenset[str], now: datetime, max_age_days: int) -> LabResult | None:
    """Most recent result among ``loincs`` not older than ``max_age_days``; undated results count as oldest."""
    now = as_utc(now)
    oldest = now - timedelta(days=max_age_days)
    newest = now + _CLOCK_SKEW
    best: LabResult | None = None
    best_time: datetime | None = None
    for lab in labs:
        if bare_loinc(lab.loinc) not in loincs or lab.value != lab.value:  # NaN is no result
            continue
        when = as_utc(lab.effective) if lab.effective is not None else None
        if when is not None and (when < oldest or when > newest):
            continue
        if best is None or (when is not None and (best_time is None or when > best_time)):
            best, best_time = lab, when
    return best


def as_utc(moment: datetime) -> datetime:
    """FHIR dates without a zone (``2026-11-20``) are read as UTC, so they compare with zoned ones."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def ckd_epi_2021(creatinine_mg_dl: float, age_years: float, sex: str) -> float:
    """Race-free CKD-EPI 2021 eGFR in mL/min/1.73 m2 (Inker et al., NEJM 2021)."""
    female = sex == "female"
    kappa = 0.7 if female else 0.9
    alpha = -0.241 if female else -0.302
    ratio = creatinine_mg_dl / kappa
    egfr: float = 142 * min(ratio, 1.0) ** alpha * max(ratio, 1.0) ** -1.200 * 0.9938**age_years
    return egfr * 1.012 if female else egfr


def lab_value(
    test: str, labs: Iterable[LabResult], now: datetime, max_age_days: int, age_years: float | None, sex: str | None
) -> LabValue | None:
    labs = tuple(labs)
    if test.startswith("LOINC:"):
        found = latest(labs, frozenset({bare_loinc(test)}), now, max_age_days)
        return None if found is None else LabValue(found.value, found.unit, found.effective, bare_loinc(found.loinc))
    direct = latest(labs, NAMED_TESTS[test], now, max_age_days)
    if test == "egfr":
        creatinine = latest(labs, NAMED_TESTS["creatinine"], now, max_age_days)
        # A measured eGFR wins unless a creatinine is more recent and can be converted.
        newer_creatinine = creatinine is not None and (direct is None or _is_newer(creatinine, direct))
        if newer_creatinine and creatinine is not None and age_years is not None and sex in ("male", "female"):
            mg_dl = creatinine.value
            if bare_loinc(creatinine.loinc) in CREATININE_UMOL_L_LOINCS or (creatinine.unit or "").lower() in (
                "umol/l",
                "µmol/l",
            ):
                mg_dl = creatinine.value / UMOL_PER_MG_CREATININE
            if mg_dl > 0:
                estimate = round(ckd_epi_2021(mg_dl, age_years, sex or ""), 1)
                note = f"estimated with CKD-EPI 2021 from creatinine {mg_dl:.2f} mg/dL"
                return LabValue(estimate, "mL/min/1.73m2", creatinine.effective, bare_loinc(creatinine.loinc), note)
    if direct is None:
        return None
    return LabValue(direct.value, direct.unit, direct.effective, bare_loinc(direct.loinc))


def _is_newer(a: LabResult, b: LabResult) -> bool:
    return a.effective is not None and b.effective is not None and as_utc(a.effective) > as_utc(b.effective)


def compare(value: float, operator: str, threshold: float) -> bool:
    if operator == "<":
        return value < threshold
    if operator == "<=":
        return value <= threshold
    if operator == ">":
        return value > threshold
    if operator == ">=":
        return value >= threshold
    raise ValueError(f"unknown operator {operator!r}")
