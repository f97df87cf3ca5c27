"""``kgcds rules validate | test | report`` through the real click entry point."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from cds_api.card_models import IssuedCard
from cds_api.feedback_store import FeedbackRecord, FeedbackStore
from kgcds.cli import main
from ontology.schema import GraphSchema
from rules.ruleset import DEFAULT_LIBRARY

METFORMIN_RULE = DEFAULT_LIBRARY / "renal" / "stopp-e6-metformin-egfr30.yaml"


def test_validate_shipped_library() -> None:
    result = CliRunner().invoke(main, ["rules", "validate"])
    assert result.exit_code == 0, result.output
    assert "rules and 0 overrides valid" in result.output


def test_validate_prints_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "metformin.yaml"
    bad.write_text(METFORMIN_RULE.read_text().replace("severity: contraindicated", "severity: deadly"))
    result = CliRunner().invoke(main, ["rules", "validate", "--rules-dir", str(tmp_path)])
    assert result.exit_code == 1
    line = next(i for i, text in enumerate(bad.read_text().splitlines(), 1) if text.startswith("severity:"))
    assert f"{bad}:{line}: severity:" in result.output


def test_rule_cases_pass_and_a_wrong_expectation_fails(tmp_path: Path) -> None:
    ok = CliRunner().invoke(main, ["rules", "test"])
    assert ok.exit_code == 0, ok.output
    assert " 0 failed" in ok.output

    wrong = tmp_path / "metformin.yaml"
    # The case "eGFR 90 stays silent" now claims the rule fires: the runner must catch it.
    text = METFORMIN_RULE.read_text().replace(
        "      value: 90\n      days_ago: 10\n  draft:\n  - RXNORM:6809\n  expect: []",
        "      value: 90\n      days_ago: 10\n  draft:\n  - RXNORM:6809\n  expect:\n  - {}",
    )
    assert text != METFORMIN_RULE.read_text()
    wrong.write_text(text)
    failed = CliRunner().invoke(main, ["rules", "test", "--rules-dir", str(tmp_path)])
    assert failed.exit_code == 1
    assert "FAIL stopp-e6-metformin-egfr30 :: eGFR 90 stays silent" in failed.output


def test_report_counts_fires_and_overrides(tmp_path: Path) -> None:
    db = tmp_path / "feedback.sqlite3"
    store = FeedbackStore.open(db)
    now = datetime(2026, 11, 22, tzinfo=UTC)
    service = "medication-order-select"
    card_id = store.card_ids(service).mint
    metformin = ("stopp-e6-metformin-egfr30", "1.0.0", "critical")
    issued = [IssuedCard(card_id(*metformin), *metformin) for _ in range(2)]
    issued.append(IssuedCard(card_id("kgcds.drug-drug", "1.0.0", "warning"), "kgcds.drug-drug", "1.0.0", "warning"))
    store.record_issued(service, issued[:1], now)
    store.flush()  # fires are summed across flushes and days
    store.record_issued(service, issued[1:], datetime(2026, 11, 23, tzinfo=UTC))
    store.record_feedback(
        [
            FeedbackRecord(issued[0].card_uuid, service, "overridden", now, None, "benefit", None, 0),
            FeedbackRecord(issued[1].card_uuid, service, "accepted", now, None, None, None, 1),
        ],
        now,
    )
    store.close()
    result = CliRunner().invoke(main, ["rules", "report", "--feedback-db", str(db), "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["rule_id"]: r for r in json.loads(result.output)}
    assert rows["stopp-e6-metformin-egfr30"] == {
        "rule_id": "stopp-e6-metformin-egfr30",
        "fired": 2,
        "accepted": 1,
        "overridden": 1,
        "override_rate": 0.5,
    }
    assert rows["kgcds.drug-drug"]["fired"] == 1 and rows["kgcds.drug-drug"]["override_rate"] is None
    assert rows["stopp-e4-nsaid-egfr50"]["fired"] == 0  # rules that never fired are listed too


def test_report_without_database_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["rules", "report", "--feedback-db", str(tmp_path / "none.sqlite3")])
    assert result.exit_code == 2
    assert "no feedback database" in result.output


def test_copy_of_library_validates(tmp_path: Path) -> None:
    shutil.copytree(DEFAULT_LIBRARY, tmp_path / "lib")
    result = CliRunner().invoke(main, ["rules", "validate", "--rules-dir", str(tmp_path / "lib")])
    assert result.exit_code == 0


def test_rule_cases_also_pass_with_classes_from_a_graph(tmp_path: Path, schema: GraphSchema) -> None:
    from tests.rules_fixture_graph import build_rules_store

    build_rules_store(tmp_path / "graph", schema)
    result = CliRunner().invoke(main, ["rules", "test", "--graph", "--store", str(tmp_path / "graph")])
    assert result.exit_code == 0, result.output
    assert " 0 failed" in result.output
