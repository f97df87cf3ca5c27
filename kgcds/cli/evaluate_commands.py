"""``kgcds evaluate ddx`` (score rankers on a phenopackets file) and ``kgcds evaluate ddx-train``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from ddx_ranker.engine import DdxEngine, RankerName
from ddx_ranker.learned import MODEL_FILE, LearnedRanker, ModelError
from evaluation.ddx_eval import (
    EvaluationReport,
    Metrics,
    candidate_sets,
    cross_validate,
    evaluate,
    load_cases,
    train_shipped,
)
from graph_store.contract import StoreError
from kgcds.cli.common import CliError, build_settings, open_store, store_option
from knowledge_index.phenotype import PhenotypeIndex, PhenotypeIndexError
from ontology.schema import load_schema

RANKER_CHOICES = ("auto", "lr", "resnik", "learned")
RANK_BINS = ((1, 1, "1"), (2, 3, "2-3"), (4, 10, "4-10"), (11, 50, "11-50"), (51, 100, "51-100"))


def _index(store: str | None) -> PhenotypeIndex:
    settings = build_settings(store=store)
    target = open_store(settings, load_schema())
    try:
        return PhenotypeIndex.from_store(target)
    except (PhenotypeIndexError, StoreError) as exc:
        raise CliError(f"{target.description}: {exc}") from exc
    finally:
        target.close()


def _cases(path: Path) -> tuple[list[Any], list[Any]]:
    try:
        cases, errors = load_cases(path)
    except OSError as exc:
        raise CliError(f"--cases: {path} cannot be read: {exc}") from exc
    if not cases:
        raise CliError(f"--cases: {path} holds no readable phenopacket ({len(errors)} malformed lines)")
    return cases, errors


def _model(path: Path | None) -> LearnedRanker | None:
    try:
        return LearnedRanker.load(path) if path is not None else LearnedRanker.shipped()
    except ModelError as exc:
        raise CliError(str(exc)) from exc


def rank_histogram(report: EvaluationReport) -> list[tuple[str, int]]:
    ranks = [r.rank for r in report.results]
    bins = [(label, sum(1 for r in ranks if r is not None and lo <= r <= hi)) for lo, hi, label in RANK_BINS]
    bins.append((">100", sum(1 for r in ranks if r is not None and r > 100)))
    bins.append(("not in graph", sum(1 for r in ranks if r is None)))
    return bins


def write_plot(reports: list[EvaluationReport], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4))
    width = 0.8 / len(reports)
    for i, report in enumerate(reports):
        bins = rank_histogram(report)
        shares = [n / max(len(report.results), 1) for _, n in bins]
        ax.bar([x + i * width for x in range(len(bins))], shares, width=width, label=report.ranker)
    labels = [label for label, _ in rank_histogram(reports[0])]
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(labels))], labels)
    ax.set_xlabel("rank of the published diagnosis")
    ax.set_ylabel("share of cases")
    ax.set_title(f"Differential diagnosis: rank distribution (n={len(reports[0].results)})")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _metrics_row(table: Table, name: str, m: Metrics) -> None:
    table.add_row(
        name, f"{m.n:,}", f"{m.top1:.1%}", f"{m.top3:.1%}", f"{m.top10:.1%}", f"{m.mrr:.3f}", f"{m.absent_share:.1%}"
    )


def _metrics_table(title: str) -> Table:
    table = Table(title=title)
    for col in ("ranker / subset", "n", "top-1", "top-3", "top-10", "MRR", "not in graph"):
        table.add_column(col, justify="left" if col.startswith("ranker") else "right")
    return table


@click.group("evaluate")
def evaluate_group() -> None:
    """Measure the engine on held-out data."""


@evaluate_group.command("ddx")
@store_option
@click.option("--cases", "cases_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print n, top1/3/10, mrr and per-case ranks as JSON.")
@click.option(
    "--use-genes", is_flag=True, help="Also use the causal genes the phenopackets name (off: phenotype only)."
)
@click.option(
    "--ranker",
    type=click.Choice(RANKER_CHOICES),
    default="auto",
    show_default=True,
    help="auto = learned when a model is available, else lr. Text mode with auto compares all three.",
)
@click.option(
    "--model",
    "model_path",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=None,
    help=f"Learned ranker file (default: the shipped ddx_ranker/{MODEL_FILE}).",
)
@click.option(
    "--plot",
    "plot_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("ddx-ranks.png"),
    show_default=True,
    help="Where the text form writes the rank-distribution plot.",
)
def ddx_command(
    store: str | None,
    cases_path: Path,
    as_json: bool,
    use_genes: bool,
    ranker: str,
    model_path: Path | None,
    plot_path: Path,
) -> None:
    """Rank every case of a phenopackets JSONL(.gz) file and report how often the diagnosis comes first.

    Needs a store loaded with the HPO source (``kgcds load``). Malformed phenopackets are
    listed and skipped. A case whose diagnosis is not in the graph counts as a miss (rank null).
    """
    cases, errors = _cases(cases_path)
    model = _model(model_path)
    engine = DdxEngine.compile(_index(store), model)
    if ranker == "learned" and model is None:
        raise CliError("--ranker learned: no model shipped; train one with 'kgcds evaluate ddx-train'")
    chosen: RankerName = engine.default_ranker if ranker == "auto" else ranker  # type: ignore[assignment]
    if as_json:
        click.echo(json.dumps(evaluate(engine, cases, chosen, use_genes, errors).to_json()))
        return
    names: list[RankerName] = [chosen]
    if ranker == "auto":
        names = ["lr", "resnik", "learned"] if model is not None else ["lr", "resnik"]
    reports = [evaluate(engine, cases, name, use_genes, errors) for name in names]
    console = Console()
    table = _metrics_table(f"{cases_path.name}: {'gene-aware' if use_genes else 'phenotype-only'} ranking")
    for report in reports:
        _metrics_row(table, report.ranker, report.metrics)
        _metrics_row(table, f"{report.ranker}, publication not cited by HPO", report.subset(cited=False))
    console.print(table)
    for report in reports:
        lat = report.to_json()["latency_ms"]
        console.print(f"{report.ranker}: latency median {lat['median']} ms, p99 {lat['p99']} ms")
        if report.trained_on_share:
            console.print(
                f"[yellow]{report.ranker}: {report.trained_on_share:.0%} of these cases come from publications the "
                "model was trained on: these figures are optimistic; see 'ddx-train' for cross-validated ones[/]"
            )
    for error in errors[:20]:
        console.print(f"skipped {error}")
    if len(errors) > 20:
        console.print(f"... and {len(errors) - 20} more malformed lines")
    write_plot(reports, plot_path)
    console.print(f"rank distribution plot: {plot_path}")


@evaluate_group.command("ddx-train")
@store_option
@click.option("--cases", "cases_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20))
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=f"Where to write the model (default: ddx_ranker/{MODEL_FILE} in the package).",
)
@click.option(
    "--report",
    "report_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write the cross-validation and baseline figures as JSON here.",
)
def ddx_train_command(
    store: str | None, cases_path: Path, folds: int, out_path: Path | None, report_path: Path | None
) -> None:
    """Cross-validate the learned ranker grouped by publication, then train it on every case and save it."""
    cases, errors = _cases(cases_path)
    index = _index(store)
    engine = DdxEngine.compile(index)
    baselines = {name: evaluate(engine, cases, name, False, errors) for name in ("lr", "resnik")}
    sets = candidate_sets(engine, cases)
    cv = cross_validate(engine, sets, n_folds=folds)
    model = train_shipped(sets, cv, index, cases_path.name)
    target = out_path or Path(__file__).resolve().parents[2] / "ddx_ranker" / MODEL_FILE
    model.save(target)
    summary = {
        **{name: r.metrics.as_dict() for name, r in baselines.items()},
        **{f"{name}_not_cited": r.subset(cited=False).as_dict() for name, r in baselines.items()},
        **cv.to_json(),
        "model": str(target),
    }
    if report_path is not None:
        report_path.write_text(json.dumps(summary, indent=2), encoding="utf-8")
    table = _metrics_table(f"{cases_path.name}: {folds}-fold cross-validation grouped by publication")
    for name, report in baselines.items():
        _metrics_row(table, name, report.metrics)
        _metrics_row(table, f"{name}, not cited", report.subset(cited=False))
    _metrics_row(table, "learned (out of fold)", Metrics.of(cv.results))
    _metrics_row(table, "learned, not cited", Metrics.of([r for r in cv.results if not r.cited]))
    Console().print(table)
    click.echo(f"model written to {target}")
