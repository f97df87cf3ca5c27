"""The engine's records compare, hash and show by value, as the frozen structs they replaced did."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kgcds.native import is_compiled
from ontology.vocab import Severity
from rules.findings import Finding, Suggestion
from rules.patient import ConditionEntry, LabResult, MedicationEntry


def test_records_are_equal_and_hash_alike_by_value() -> None:
    a = MedicationEntry(
        "MedicationRequest/1", "warfarin 5 MG Oral Tablet", ("RXNORM:855332",), ("RXNORM:11289",), False, None
    )
    b = MedicationEntry(
        "MedicationRequest/1", "warfarin 5 MG Oral Tablet", ("RXNORM:855332",), ("RXNORM:11289",), False, None
    )
    c = MedicationEntry(
        "MedicationRequest/1", "warfarin 5 MG Oral Tablet", ("RXNORM:855332",), ("RXNORM:11289",), True, None
    )
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != c  # one field differs
    assert "MedicationEntry" in repr(a) and "warfarin" in repr(a)


def test_records_of_different_kinds_are_never_equal() -> None:
    lab = LabResult("33914-3", 25.0, "mL/min", datetime(2026, 11, 20, tzinfo=UTC))
    condition = ConditionEntry("33914-3", "25.0", ("mL/min",), None)
    assert lab != condition and lab != lab._values()


@pytest.mark.skipif(
    not is_compiled(), reason="mypyc makes Final attributes read-only; interpreted, mypy alone guards them"
)
def test_records_are_read_only() -> None:
    suggestion = Suggestion("Cancel the order", "remove-draft", None, None)
    with pytest.raises(AttributeError):
        suggestion.label = "something else"  # type: ignore[misc]


def test_a_finding_equals_its_copy() -> None:
    fields = dict(
        rule_id="r",
        rule_version="1",
        kind="renal",
        severity=Severity.MAJOR,
        interruptive=True,
        draft_ref="MedicationRequest/d",
        other_ref=None,
        summary="s",
        detail_markdown="d",
        management=None,
        source_label="l",
        source_url=None,
        source_dataset="x@1",
        source_version="1",
        references=(),
        suggestions=(Suggestion("Cancel the order", "remove-draft", None, None),),
        dedupe_key=("renal", "d"),
    )
    assert Finding(**fields) == Finding(**fields)  # type: ignore[arg-type]
    assert Finding(**fields) != Finding(**(fields | {"summary": "t"}))  # type: ignore[arg-type]
