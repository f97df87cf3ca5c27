"""LabTest nodes from the curated LOINC list ``graph_loader/curated/lab_tests.yaml``."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from graph_loader.adapter import Row
from graph_loader.rows import NodeRow
from ontology.vocab import Label

NAME = "lab_tests"


def loinc_check_digit(payload: str) -> int:
    """LOINC's mod-10 check digit (the Luhn scheme) of the digits before the hyphen."""
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            digit = digit - 9 if digit > 9 else digit
        total += digit
    return (10 - total % 10) % 10


class LabTestEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=r"^\d{1,7}-\d$")
    name: str = Field(min_length=1)
    unit: str | None = None
    synonyms: list[str] = Field(default_factory=list)

    @field_validator("code")
    @classmethod
    def _check_digit(cls, code: str) -> str:
        payload, check = code.split("-")
        expected = loinc_check_digit(payload)
        if int(check) != expected:
            raise ValueError(f"LOINC {code}: check digit should be {expected}; the code is mistyped")
        return code


class LabTestCatalog(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1)
    tests: list[LabTestEntry] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_codes(self) -> LabTestCatalog:
        seen: set[str] = set()
        for test in self.tests:
            if test.code in seen:
                raise ValueError(f"tests: LOINC {test.code} is listed twice")
            seen.add(test.code)
        return self


def default_catalog_path() -> Path:
    return Path(str(resources.files("graph_loader").joinpath("curated", "lab_tests.yaml")))


def load_catalog(path: Path) -> LabTestCatalog:
    """Parse and validate the YAML; a bad entry raises ValueError naming the file and field."""
    data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    try:
        return LabTestCatalog.model_validate(data)
    except ValidationError as exc:
        raise ValueError(f"{path}: {exc}") from exc


class LabTestsAdapter:
    name = NAME

    def __init__(self, catalog: LabTestCatalog) -> None:
        self._catalog = catalog

    @property
    def version(self) -> str:
        return self._catalog.version

    @classmethod
    def from_yaml(cls, path: Path | None = None) -> LabTestsAdapter:
        return cls(load_catalog(path or default_catalog_path()))

    def rows(self) -> Iterator[Row]:
        for position, test in enumerate(self._catalog.tests, start=1):
            props = {"name": test.name, "unit": test.unit, "synonyms": test.synonyms}
            yield NodeRow(Label.LAB_TEST, f"LOINC:{test.code}", props, f"{NAME}:{position}")

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(f"LOINC:{t.code}" for t in self._catalog.tests)
