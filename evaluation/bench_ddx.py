"""Ranking latency over the full disease set: median and p99 per ranker, printed, never asserted.

    python -m evaluation.bench_ddx --store PATH --cases ../shared/data/phenopackets/dev.jsonl.gz [--n 500]

Times one full request as the API makes it: map the findings, score every disease, order
them, and explain the top ten (with the next findings to check). The index is compiled once
beforehand, as the server does at start-up; its compile time is printed separately.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from ddx_ranker.engine import DdxEngine, RankerName
from ddx_ranker.learned import LearnedRanker
from evaluation.ddx_eval import findings_of, load_cases
from evaluation.latency import summary_ms
from graph_store.embedded import EmbeddedGraphStore
from knowledge_index.phenotype import PhenotypeIndex
from ontology.schema import load_schema


def bench(engine: DdxEngine, findings: list[object], ranker: RankerName, explain: bool) -> dict[str, float]:
    timings = []
    for f in findings:
        started = time.perf_counter()
        engine.differential(f, top_k=10, ranker=ranker, with_explanations=explain)  # type: ignore[arg-type]
        timings.append((time.perf_counter() - started) * 1000)
    return summary_ms(timings)


@click.command()
@click.option("--store", "store_path", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--cases", "cases_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--n", "n_cases", default=500, show_default=True, help="Cases to time (evenly spaced over the file).")
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path), default=None)
def main(store_path: Path, cases_path: Path, n_cases: int, model_path: Path | None) -> None:
    started = time.perf_counter()
    index = PhenotypeIndex.from_store(EmbeddedGraphStore(store_path, load_schema()))
    model = LearnedRanker.load(model_path) if model_path else LearnedRanker.shipped()
    engine = DdxEngine.compile(index, model)
    compile_s = time.perf_counter() - started
    cases, _ = load_cases(cases_path)
    step = max(1, len(cases) // n_cases)
    findings: list[object] = [findings_of(c) for c in cases[::step][:n_cases]]
    engine.differential(findings_of(cases[0]), ranker="lr")  # warm caches once
    rankers: list[RankerName] = ["lr", "resnik", "learned"] if model is not None else ["lr", "resnik"]
    results = {
        "diseases": index.n_diseases,
        "terms": index.n_terms,
        "compile_s": round(compile_s, 2),
        **{
            f"{r}{'' if e else '_no_explanations'}": bench(engine, findings, r, e)
            for r in rankers
            for e in (True, False)
        },
    }
    click.echo(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
