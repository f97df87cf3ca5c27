"""``kgcds rules validate | test | report``: tools for the pharmacists who maintain the rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from kgcds.cli.common import CliError, build_settings, open_store, store_option
from ontology.schema import load_schema
from rules.knowledge import EngineKnowledge
from rules.ruleset import BUILTIN_CHECKS, DEFAULT_LIBRARY, read_rule_files
from rules.selftest import run_all

_dir_option = click.option(
    "--rules-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_LIBRARY,
    show_default=True,
    envvar="KGCDS_RULES_DIR",
    help="Directory of rule YAML files. Env: KGCDS_RULES_DIR.",
)
_overrides_option = click.option(
    "--overrides",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="KGCDS_RULES_OVERRIDES",
    help="Site overrides YAML (switch rules off, change severity). Env: KGCDS_RULES_OVERRIDES.",
)


@click.group("rules")
def rules_group() -> None:
    """Validate, test and report on the pharmacist-maintained rules."""


@rules_group.command("validate")
@_dir_option
@_overrides_option
def validate_command(rules_dir: Path, overrides: Path | None) -> None:
    """Check every rule file; print each problem as FILE:LINE: message. Exit 1 when any."""
    rules, found_overrides, problems, fingerprint = read_rule_files(rules_dir, overrides)
    for problem in problems:
        click.echo(str(problem))
    if problems:
        raise SystemExit(1)
    click.echo(f"{len(rules)} rules and {len(found_overrides)} overrides valid (fingerprint {fingerprint}).")


@rules_group.command("test")
@_dir_option
@click.option("--graph", "use_graph", is_flag=True, help="Resolve classes through the graph store (class rules).")
@store_option
def test_command(rules_dir: Path, use_graph: bool, store: str | None) -> None:
    """Run every rule's own cases (patient + order -> expected findings). Exit 1 on any failure."""
    rules, _, problems, _ = read_rule_files(rules_dir, None)
    if problems:
        for problem in problems:
            click.echo(str(problem))
        raise CliError(f"{len(problems)} problem(s) in the rule files: run 'kgcds rules validate'")
    knowledge = EngineKnowledge.empty()
    if use_graph:
        from rules.graph_knowledge import knowledge_from_store

        graph = open_store(build_settings(store=store), load_schema())
        knowledge = knowledge_from_store(graph)
    results = run_all(rules, knowledge, datetime.now(UTC))
    failed = [r for r in results if not r.passed]
    for result in failed:
        click.echo(f"FAIL {result.rule_id} :: {result.case_name}: {result.message}")
    click.echo(f"{len(results) - len(failed)} passed, {len(failed)} failed ({len(rules)} rules).")
    if failed:
        raise SystemExit(1)


@rules_group.command("report")
@click.option(
    "--feedback-db",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="KGCDS_FEEDBACK_DB",
    help="Feedback SQLite written by the API (default: <KGCDS_HOME>/feedback.sqlite3).",
)
@_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def report_command(feedback_db: Path | None, rules_dir: Path, as_json: bool) -> None:
    """Fires and override rate per rule, from the clinicians' feedback."""
    from cds_api.feedback_store import FeedbackStore, RuleTally

    path = feedback_db or build_settings().home / "feedback.sqlite3"
    if not path.is_file():
        raise CliError(f"no feedback database at {path} (set --feedback-db or KGCDS_FEEDBACK_DB)")
    store = FeedbackStore.open(path)
    try:
        tallies = {t.rule_id: t for t in store.tallies()}
    finally:
        store.close()
    rules, _, _, _ = read_rule_files(rules_dir, None)
    known = sorted({*BUILTIN_CHECKS, *(r.id for r in rules), *tallies})
    rows = [tallies.get(rule_id) or RuleTally(rule_id, 0, 0, 0) for rule_id in known]
    rows.sort(key=lambda t: (-t.fired, t.rule_id))
    if as_json:
        payload = [
            {
                "rule_id": t.rule_id,
                "fired": t.fired,
                "accepted": t.accepted,
                "overridden": t.overridden,
                "override_rate": None if t.override_rate is None else round(t.override_rate, 3),
            }
            for t in rows
        ]
        click.echo(json.dumps(payload, indent=2))
        return
    table = Table(title=f"rule feedback ({path})")
    for column in ("rule", "fired", "accepted", "overridden", "override rate"):
        table.add_column(column, justify="left" if column == "rule" else "right")
    for t in rows:
        rate = "-" if t.override_rate is None else f"{t.override_rate:.0%}"
        table.add_row(t.rule_id, str(t.fired), str(t.accepted), str(t.overridden), rate)
    Console().print(table)
