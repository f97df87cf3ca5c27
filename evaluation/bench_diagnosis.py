"""``POST /diagnosis`` latency on a real store: median and p99, printed, never asserted.

    python -m evaluation.bench_diagnosis --store PATH --cases ../shared/data/phenopackets/dev.jsonl.gz [--n 300]

Everything is compiled once as ``kgcds serve`` does (``compile_services``: knowledge index, rules,
phenotype index and the shipped learned ranker); then each case's findings are posted as plain JSON
through the real Litestar app (in-process ASGI client: routing, decoding, the worker thread, encoding),
and separately handed to ``Diagnosis.diagnose`` (bytes in, bytes out) to show what the framework adds.
"""

from __future__ import annotations

import gc
import json
import tempfile
import time
from pathlib import Path

import click
import msgspec
from litestar.testing import TestClient

from cds_api.app import create_app
from cds_api.bootstrap import compile_services
from cds_api.settings import ApiSettings
from evaluation.ddx_eval import load_cases
from evaluation.latency import summary_ms
from graph_store.embedded import EmbeddedGraphStore
from ontology.schema import load_schema


@click.command()
@click.option("--store", "store_path", required=True, type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option("--cases", "cases_path", required=True, type=click.Path(dir_okay=False, exists=True, path_type=Path))
@click.option("--n", "n_cases", default=300, show_default=True, help="Cases to time (evenly spaced over the file).")
@click.option("--top-k", default=10, show_default=True)
def main(store_path: Path, cases_path: Path, n_cases: int, top_k: int) -> None:
    schema = load_schema()
    started = time.perf_counter()
    store = EmbeddedGraphStore(store_path, schema)
    compiled = compile_services(store, schema)
    compile_s = time.perf_counter() - started
    if compiled.ddx is None:
        raise click.ClickException(f"{store_path} holds no phenotype annotations: nothing to benchmark")
    cases, _ = load_cases(cases_path)
    step = max(1, len(cases) // n_cases)
    bodies = [
        msgspec.json.encode({"observed": c.observed, "excluded": c.excluded, "top_k": top_k})
        for c in cases[::step][:n_cases]
    ]
    gc.collect()
    gc.freeze()  # as `kgcds serve` does: the long-lived index stays out of the collector's way
    with tempfile.TemporaryDirectory() as home:
        settings = ApiSettings(home=Path(home), auth="disabled")
        app = create_app(settings, lambda: compiled.terminology, compiled.engine, ddx=compiled.ddx)
        http: list[float] = []
        direct: list[float] = []
        with TestClient(app) as client:
            headers = {"content-type": "application/json"}
            client.post("/diagnosis", content=bodies[0], headers=headers)  # warm up
            for body in bodies:
                t = time.perf_counter()
                response = client.post("/diagnosis", content=body, headers=headers)
                http.append((time.perf_counter() - t) * 1000)
                if response.status_code != 200:
                    raise click.ClickException(f"/diagnosis answered {response.status_code}: {response.text[:300]}")
        for body in bodies:
            t = time.perf_counter()
            compiled.ddx.diagnosis.diagnose(body)
            direct.append((time.perf_counter() - t) * 1000)
    store.close()
    engine = compiled.ddx.diagnosis.engine
    report = {
        "diseases": engine.index.n_diseases,
        "terms": engine.index.n_terms,
        "ranker": compiled.ddx.diagnosis.version.model_dump(),
        "compile_services_s": round(compile_s, 2),
        "top_k": top_k,
        "http_in_process": summary_ms(http),
        "diagnose_bytes": summary_ms(direct),
    }
    click.echo(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
