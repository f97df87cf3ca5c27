"""The rule file format pharmacists write, as pydantic models (unknown keys are errors).

One rule per YAML file under ``rules/library/``. Operators are code; rules only choose
them by name. Text fields are templates filled per patient; see :data:`TEMPLATE_FIELDS`.
"""

from __future__ import annotations

import string
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from ontology.vocab import Severity
from rules.findings import SUMMARY_MAX

RULE_ID_PATTERN = r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$"
RuleKind = Literal["drug-drug", "drug-disease", "renal", "pregnancy", "pharmacogenomic"]
Operator = Literal["<", "<=", ">", ">="]
Curie = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*:\S+$")]

TEMPLATE_FIELDS = frozenset(
    {"drug", "other", "condition", "value", "unit", "threshold", "operator", "date", "test", "gene", "phenotype", "age"}
)
"""Placeholders a rule's texts may use, e.g. ``"{drug} with eGFR {value} (< {threshold})"``."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DrugMatch(_Strict):
    ingredients: list[Curie] = []
    """Drug (ingredient) ids, e.g. ``RXNORM:6809`` metformin."""
    classes: list[Curie] = []
    """Class ids; every member through the graph matches (``ATC:M01A``, ``ALLERGYGROUP:nsaid``)."""
    exclude_ingredients: list[Curie] = []

    @model_validator(mode="after")
    def _not_empty(self) -> DrugMatch:
        if not self.ingredients and not self.classes:
            raise ValueError("give at least one of 'ingredients' or 'classes'")
        return self


class LabCondition(_Strict):
    test: str
    """``egfr`` (any eGFR LOINC, else estimated from creatinine), ``potassium``, ``sodium`` or ``LOINC:<code>``."""
    operator: Operator
    value: float
    unit: str | None = None
    max_age_days: int = Field(default=365, gt=0)
    """Results older than this (relative to the evaluation time) are ignored."""

    @field_validator("test")
    @classmethod
    def _known_test(cls, value: str) -> str:
        from rules.labs import NAMED_TESTS  # local: labs imports nothing from here, but keep the schema light

        if value not in NAMED_TESTS and not value.startswith("LOINC:"):
            raise ValueError(f"unknown test {value!r}: use one of {sorted(NAMED_TESTS)} or LOINC:<code>")
        return value


class GenotypeCondition(_Strict):
    gene: str = Field(min_length=2)
    phenotypes: list[str] = []
    """CPIC phenotypes that trigger the rule (``Poor Metabolizer``), case-insensitive."""
    alleles: list[str] = []
    """Alleles whose presence triggers it (``*57:01``); a result saying ``negative`` never does."""

    @model_validator(mode="after")
    def _something(self) -> GenotypeCondition:
        if not self.phenotypes and not self.alleles:
            raise ValueError("give 'phenotypes' or 'alleles'")
        return self


class AgeCondition(_Strict):
    min_years: float | None = None
    max_years: float | None = None


class Conditions(_Strict):
    lab: LabCondition | None = None
    any_condition: list[Curie] = []
    """Condition codes; a trailing ``*`` matches by prefix (``ICD10CM:I50*``)."""
    genotype: GenotypeCondition | None = None
    age: AgeCondition | None = None
    pregnant: bool | None = None
    with_drug: DrugMatch | None = None
    """Drug-drug rules: the other drug (active or another draft)."""


class RuleSource(_Strict):
    label: str
    url: str | None = None
    dataset: str = Field(pattern=r"^\S+@\S+$")
    """``name@version`` of what the rule encodes, e.g. ``stoppstart_v2@huibers2018``."""


class CaseLab(_Strict):
    test: str
    """LOINC code (bare or ``LOINC:``)."""
    value: float
    unit: str | None = None
    days_ago: float = 1


class CaseGenotype(_Strict):
    gene: str
    phenotype: str | None = None
    allele: str | None = None


class CasePatient(_Strict):
    age_years: float | None = 70
    sex: Literal["male", "female", "other", "unknown"] | None = "female"
    pregnant: bool | None = None
    active: list[Curie] = []
    """Ingredient ids of active medications."""
    conditions: list[Curie] = []
    labs: list[CaseLab] = []
    genotypes: list[CaseGenotype] = []


class Expectation(_Strict):
    rule_id: str | None = None
    """Defaults to the rule under test."""
    severity: Severity | None = None


class RuleCase(_Strict):
    name: str
    patient: CasePatient
    draft: list[Curie] = Field(min_length=1)
    """Ingredient ids of the draft orders."""
    expect: list[Expectation]
    """Findings of this rule expected; an empty list means the rule must stay silent."""


class Rule(_Strict):
    id: str = Field(pattern=RULE_ID_PATTERN)
    version: str = Field(min_length=1)
    kind: RuleKind
    title: str
    match: DrugMatch
    conditions: Conditions = Conditions()
    severity: Severity
    interruptive: bool = True
    supersedes_index: bool = False
    """Drug-drug only: this rule's severity replaces what the interaction sources say about the pair."""
    summary: str = Field(min_length=1)
    detail: str
    management: str | None = None
    source: RuleSource
    references: list[str] = []
    cases: list[RuleCase] = Field(min_length=1)
    """A rule carries its own tests: at least one case, ideally one that fires and one that does not."""

    @field_validator("summary", "detail", "management")
    @classmethod
    def _known_placeholders(cls, value: str | None) -> str | None:
        if value is None:
            return value
        for _text, name, _spec, _conv in string.Formatter().parse(value):
            if name is not None and name not in TEMPLATE_FIELDS:
                raise ValueError(f"unknown placeholder {{{name}}}; allowed: {sorted(TEMPLATE_FIELDS)}")
        return value

    @field_validator("summary")
    @classmethod
    def _summary_fits(cls, value: str) -> str:
        # Placeholders expand, so leave room: the fixed text alone must fit well inside the card limit.
        fixed = "".join(text for text, *_ in string.Formatter().parse(value))
        if len(fixed) > SUMMARY_MAX - 40:
            raise ValueError(f"summary text is {len(fixed)} characters; keep it under {SUMMARY_MAX - 40}")
        return value

    @model_validator(mode="after")
    def _kind_needs(self) -> Rule:
        c = self.conditions
        needs = {
            "drug-drug": ("conditions.with_drug", c.with_drug is not None),
            "drug-disease": ("conditions.any_condition or conditions.lab", bool(c.any_condition) or c.lab is not None),
            "renal": ("conditions.lab", c.lab is not None),
            "pregnancy": ("conditions.pregnant: true", c.pregnant is True),
            "pharmacogenomic": ("conditions.genotype", c.genotype is not None),
        }
        what, ok = needs[self.kind]
        if not ok:
            raise ValueError(f"a {self.kind} rule needs {what}")
        if self.supersedes_index and self.kind != "drug-drug":
            raise ValueError("supersedes_index only applies to drug-drug rules")
        return self


class Override(_Strict):
    rule_id: str
    enabled: bool = True
    severity: Severity | None = None
    interruptive: bool | None = None
    reason: str = Field(min_length=1)
    """Why the site changed it (kept for audit)."""


class OverrideFile(_Strict):
    overrides: list[Override] = []
