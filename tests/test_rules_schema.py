"""Rule files: validation with file and line, site overrides, and hot reload that keeps the last good set."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ontology.schema import GraphSchema
from ontology.vocab import Severity
from rules.engine import RulesEngine
from rules.knowledge import EngineKnowledge
from rules.loader import RuleSetError
from rules.patient import PatientContext
from rules.reload import ReloadingEngine
from rules.ruleset import DEFAULT_LIBRARY, RuleSet, read_rule_files
from tests.rules_patients import NOW, lab, med, patient

METFORMIN = "RXNORM:6809"
METFORMIN_RULE = DEFAULT_LIBRARY / "renal" / "stopp-e6-metformin-egfr30.yaml"


def _metformin_at_egfr_25() -> PatientContext:
    return patient(labs=(lab("33914-3", 25),), drafts=(med(METFORMIN, "metformin", draft=True),))


def test_shipped_library_is_valid() -> None:
    rules, _, problems, fingerprint = read_rule_files(DEFAULT_LIBRARY, None)
    assert problems == []
    assert len(rules) >= 20 and fingerprint
    assert {r.kind for r in rules} == {"drug-drug", "drug-disease", "renal", "pregnancy", "pharmacogenomic"}


def test_every_error_is_reported_with_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "id: bad-rule\n"  # 1
        "version: '1'\n"  # 2
        "kind: renal\n"  # 3
        "title: broken\n"  # 4
        "match:\n"  # 5
        "  ingredients: [RXNORM:6809]\n"  # 6
        "conditions:\n"  # 7
        "  lab: {test: egfr, operator: '<<', value: 30}\n"  # 8
        "severity: severe\n"  # 9
        "summary: '{drug} {colour}'\n"  # 10
        "detail: d\n"  # 11
        "source: {label: x, dataset: x@1}\n"  # 12
        "cases: []\n"  # 13
        "surprise: 1\n",  # 14
        encoding="utf-8",
    )
    with pytest.raises(RuleSetError) as caught:
        RuleSet.load(tmp_path)
    by_line = {p.line: p.message for p in caught.value.problems}
    assert all(p.path == bad for p in caught.value.problems)
    assert "operator" in by_line[8]
    assert "severity" in by_line[9]
    assert "colour" in by_line[10]
    assert "cases" in by_line[13]
    assert "surprise" in by_line[14]


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    (tmp_path / "x.yaml").write_text("id: a\nversion: [1\nkind: renal\n", encoding="utf-8")
    with pytest.raises(RuleSetError) as caught:
        RuleSet.load(tmp_path)
    (problem,) = caught.value.problems
    assert problem.line >= 2 and "YAML" in problem.message


def test_duplicate_ids_are_refused(tmp_path: Path) -> None:
    shutil.copy(METFORMIN_RULE, tmp_path / "a.yaml")
    shutil.copy(METFORMIN_RULE, tmp_path / "b.yaml")
    with pytest.raises(RuleSetError, match="already used"):
        RuleSet.load(tmp_path)


def test_kind_needs_its_condition(tmp_path: Path) -> None:
    text = METFORMIN_RULE.read_text(encoding="utf-8").replace("kind: renal", "kind: pharmacogenomic")
    (tmp_path / "a.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"needs conditions\.genotype"):
        RuleSet.load(tmp_path)


def test_override_switches_a_rule_off_or_changes_severity(tmp_path: Path) -> None:
    engine_knowledge = EngineKnowledge.empty()
    off = tmp_path / "off.yaml"
    off.write_text("overrides:\n  - rule_id: stopp-e6-metformin-egfr30\n    enabled: false\n    reason: local policy\n")
    lower = tmp_path / "lower.yaml"
    lower.write_text("overrides:\n  - rule_id: stopp-e6-metformin-egfr30\n    severity: moderate\n    reason: pilot\n")
    p = _metformin_at_egfr_25()
    assert RulesEngine(engine_knowledge, RuleSet.load(DEFAULT_LIBRARY, off)).evaluate(p, NOW) == []
    (f,) = RulesEngine(engine_knowledge, RuleSet.load(DEFAULT_LIBRARY, lower)).evaluate(p, NOW)
    assert f.severity is Severity.MODERATE


def test_override_of_unknown_rule_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "o.yaml"
    bad.write_text("overrides:\n  - rule_id: no-such-rule\n    enabled: false\n    reason: typo\n")
    with pytest.raises(RuleSetError, match="unknown rule 'no-such-rule'"):
        RuleSet.load(DEFAULT_LIBRARY, bad)


def test_override_can_silence_a_builtin_check(tmp_path: Path) -> None:
    path = tmp_path / "o.yaml"
    path.write_text("overrides:\n  - rule_id: kgcds.duplicate.ingredient\n    enabled: false\n    reason: noisy\n")
    assert RuleSet.load(DEFAULT_LIBRARY, path).builtin("kgcds.duplicate.ingredient").enabled is False


def test_hot_reload_applies_valid_and_keeps_last_good(tmp_path: Path) -> None:
    library = tmp_path / "library"
    library.mkdir()
    rule_path = library / "metformin.yaml"
    shutil.copy(METFORMIN_RULE, rule_path)
    engine = ReloadingEngine.load(EngineKnowledge.empty(), library)
    p = _metformin_at_egfr_25()
    (before,) = engine.evaluate(p, NOW)
    assert before.severity is Severity.CONTRAINDICATED

    assert engine.refresh().changed is False

    rule_path.write_text(rule_path.read_text().replace("severity: contraindicated", "severity: major"))
    outcome = engine.refresh(force=True)
    assert outcome.applied
    (after,) = engine.evaluate(p, NOW)
    assert after.severity is Severity.MAJOR

    good_fingerprint = engine.ruleset.fingerprint
    rule_path.write_text(rule_path.read_text().replace("severity: major", "severity: catastrophic"))
    outcome = engine.refresh(force=True)
    assert outcome.changed and not outcome.applied and outcome.problems
    assert engine.ruleset.fingerprint == good_fingerprint
    (still,) = engine.evaluate(p, NOW)
    assert still.severity is Severity.MAJOR


def test_build_engine_from_store_serves_the_library(tmp_path: Path, schema: GraphSchema) -> None:
    from rules.factory import build_engine
    from tests import rules_fixture_graph as g

    store = g.build_rules_store(tmp_path / "graph", schema)
    engine = build_engine(store)
    p = patient(active=(med(g.WARFARIN, "warfarin"),), drafts=(med(g.FLUCONAZOLE, "fluconazole", draft=True),))
    assert [f.kind for f in engine.evaluate(p, NOW)] == ["drug-drug"]
    assert engine.refresh().changed is False


def test_example_overrides_file_is_valid() -> None:
    example = DEFAULT_LIBRARY.parent / "overrides.example.yaml"
    ruleset = RuleSet.load(DEFAULT_LIBRARY, example)
    assert ruleset.builtin("kgcds.duplicate.class").enabled is False
    (digoxin,) = [r for r in ruleset.rules if r.id == "stopp-e1-digoxin-egfr30"]
    assert digoxin.severity is Severity.MINOR and digoxin.interruptive is False


def test_a_key_given_twice_is_reported_not_silently_dropped(tmp_path: Path) -> None:
    text = METFORMIN_RULE.read_text(encoding="utf-8")
    (tmp_path / "twice.yaml").write_text(text + "severity: minor\n", encoding="utf-8")
    with pytest.raises(RuleSetError) as caught:
        RuleSet.load(tmp_path)
    (problem,) = caught.value.problems
    assert problem.line == len(text.splitlines()) + 1 and "given twice" in problem.message
