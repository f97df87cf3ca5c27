"""Benchmark: full graph build, knowledge-index compile time and peak memory.

Each phase runs in its own process so peak RSS is per phase. Prints medians over
``--repeat`` runs. Usage::

    python -m evaluation.bench_build [--data-dir DIR] [--repeat 3] [--store-dir DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _phase_build(store_dir: Path, data_dir: Path) -> dict[str, float]:
    from graph_loader.pipeline import load_graph
    from graph_loader.sources import default_adapters
    from graph_store.embedded import EmbeddedGraphStore
    from kgcds.settings import Settings
    from ontology.schema import load_schema

    started = time.perf_counter()
    schema = load_schema()
    store = EmbeddedGraphStore(store_dir, schema)
    # The same sources `kgcds load` reads (raw HPO files included when installed).
    paths = Settings(data_dir=data_dir).source_paths()
    report = load_graph(store, default_adapters(paths), schema)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "nodes": float(sum(store.node_counts().values())),
        "relationships": float(sum(store.relationship_counts().values())),
        "rejected": float(len(report.rejected)),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _phase_compile(store_dir: Path) -> dict[str, float]:
    from graph_store.embedded import EmbeddedGraphStore
    from knowledge_index.compiled import compile_index
    from ontology.schema import load_schema

    store = EmbeddedGraphStore(store_dir, load_schema())
    started = time.perf_counter()
    compile_index(store)
    return {
        "seconds": time.perf_counter() - started,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def _run_phase(phase: str, store_dir: Path, data_dir: Path) -> dict[str, float]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "evaluation.bench_build",
            "--phase",
            phase,
            "--store-dir",
            str(store_dir),
            "--data-dir",
            str(data_dir),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    from kgcds.settings import default_data_dir

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--store-dir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--phase", choices=["build", "compile"], default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.phase == "build":
        print(json.dumps(_phase_build(args.store_dir, args.data_dir)))
        return
    if args.phase == "compile":
        print(json.dumps(_phase_compile(args.store_dir)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        store_dir = args.store_dir or Path(tmp) / "graph"
        builds = [_run_phase("build", store_dir, args.data_dir) for _ in range(args.repeat)]
        compiles = [_run_phase("compile", store_dir, args.data_dir) for _ in range(args.repeat)]
    last = builds[-1]
    print(
        f"graph: {int(last['nodes']):,} nodes, {int(last['relationships']):,} relationships, "
        f"{int(last['rejected']):,} rows refused"
    )
    for name, runs in (("build", builds), ("compile", compiles)):
        seconds = [r["seconds"] for r in runs]
        rss = max(r["peak_rss_mib"] for r in runs)
        median = statistics.median(seconds)
        print(f"{name:<8} median {median:6.2f} s   max {max(seconds):6.2f} s   peak RSS {rss:,.0f} MiB")
    print(f"(n={args.repeat} each, {Path('/proc/cpuinfo').read_text().count('processor')} cores)")


if __name__ == "__main__":
    main()
