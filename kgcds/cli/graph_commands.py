"""``kgcds load`` and ``kgcds stats``."""

from __future__ import annotations

import json
from pathlib import Path

import click
import polars as pl
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from graph_loader.adapters.phenopackets import PhenopacketsAdapter
from graph_loader.pipeline import LoadError, load_graph
from graph_loader.sources import default_adapters
from graph_store.contract import GraphStore, StoreError
from kgcds.cli.common import CliError, build_settings, open_store, store_option
from ontology.schema import load_schema


def print_stats(store: GraphStore, as_json: bool) -> None:
    stats = {"nodes": store.node_counts(), "relationships": store.relationship_counts()}
    if as_json:
        click.echo(json.dumps(stats, indent=2, sort_keys=True))
        return
    console = Console()
    for kind, counts in stats.items():
        table = Table(title=f"{kind} ({sum(counts.values()):,})")
        table.add_column("label" if kind == "nodes" else "type")
        table.add_column("count", justify="right")
        for name, n in sorted(counts.items()):
            table.add_row(name, f"{n:,}")
        console.print(table)


@click.command("load")
@store_option
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Directory holding the source files (default: ../shared/data beside the checkout). Env: KGCDS_DATA_DIR.",
)
@click.option(
    "--atc-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="WHO ATC CSV (user-supplied: its licence forbids shipping it). Env: KGCDS_ATC_FILE.",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the full load report (rejected rows, unmapped references) as JSON here.",
)
@click.option(
    "--cases",
    "case_files",
    multiple=True,
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Also add the case reports of a GA4GH Phenopackets v2 JSONL(.gz) file as Case nodes "
    "(de-identified on load). Repeatable.",
)
@click.option("--quiet", is_flag=True, help="No progress bars.")
def load_command(
    store: str | None,
    data_dir: Path | None,
    atc_file: Path | None,
    report_path: Path | None,
    case_files: tuple[Path, ...],
    quiet: bool,
) -> None:
    """Build the knowledge graph from every source and replace the store's graph atomically.

    A failed load leaves the previous graph as it was. Rows that fail validation are
    refused and listed in the load report; they never enter the graph.
    """
    settings = build_settings(store=store, data_dir=data_dir, atc_file=atc_file)
    if not settings.data_dir.is_dir():
        raise CliError(f"--data-dir: {settings.data_dir} is not a directory")
    schema = load_schema()
    paths = settings.source_paths()
    try:
        adapters = default_adapters(paths)
    except (OSError, ValueError, pl.exceptions.PolarsError) as exc:
        raise CliError(f"cannot read the sources under --data-dir {settings.data_dir}: {exc}") from exc
    adapters += [PhenopacketsAdapter(path=path, name=f"phenopackets_{path.name.split('.')[0]}") for path in case_files]
    target = open_store(settings, schema)
    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description:<28}"),
        BarColumn(),
        TextColumn("{task.completed:>9,} rows"),
        TimeElapsedColumn(),
        disable=quiet,
    )
    tasks: dict[str, TaskID] = {}

    def on_progress(name: str, rows: int) -> None:
        if name not in tasks:
            tasks[name] = progress.add_task(name, total=None)
        if rows < 0:
            task = progress.tasks[tasks[name]]
            progress.update(tasks[name], total=task.completed or 1, completed=task.completed or 1)
        else:
            progress.update(tasks[name], completed=rows)

    try:
        with progress:
            report = load_graph(target, adapters, schema, on_progress)
    except (LoadError, StoreError) as exc:
        raise CliError(str(exc)) from exc
    finally:
        target.close()
    summary = report.to_json(max_rows=10**9)
    if report_path is not None:
        report_path.write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    click.echo(
        f"loaded into {target.description}: {len(report.sources)} sources, "
        f"{summary['rejected_count']} rows refused, {summary['unmapped_count']} unmapped references, "
        f"{summary['merged_duplicates']} duplicates merged"
    )
    for reason, n in report.rejected_by_reason().most_common(10):
        click.echo(f"  refused {n:>6} x {reason}")
    if not quiet:
        print_stats(open_store(settings, schema), as_json=False)


@click.command("stats")
@store_option
@click.option("--json", "as_json", is_flag=True, help='Print {"nodes": {LABEL: n}, "relationships": {TYPE: n}}.')
def stats_command(store: str | None, as_json: bool) -> None:
    """Count nodes per label and relationships per type in the store."""
    settings = build_settings(store=store)
    target = open_store(settings, load_schema())
    try:
        print_stats(target, as_json)
    except StoreError as exc:
        raise CliError(str(exc)) from exc
    finally:
        target.close()
