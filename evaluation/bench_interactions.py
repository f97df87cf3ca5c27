"""Benchmark: interaction lookup latency, plus what the DDI and PGx sources contributed.

Loads the drug vocabulary and the interaction / pharmacogenomic adapters into a
temporary embedded store (or reads an existing one with ``--store-dir``), compiles
:class:`DrugClassIndex` and :class:`InteractionIndex`, then times ``lookup`` over random
pairs of ingredients that have classes. Usage::

    python -m evaluation.bench_interactions [--data-dir DIR] [--store-dir DIR] [--pairs 20000]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from graph_store.contract import GraphStore
from graph_store.embedded import EmbeddedGraphStore
from knowledge_index.drug_classes import DrugClassIndex
from knowledge_index.interactions import InteractionIndex
from ontology.schema import load_schema
from ontology.vocab import RelType


def _load(store: EmbeddedGraphStore, data_dir: Path) -> None:
    from graph_loader.adapter import SourceAdapter
    from graph_loader.adapters.drug_vocabulary import drug_adapters
    from graph_loader.adapters.interaction_sources import interaction_adapters
    from graph_loader.config import SourcePaths
    from graph_loader.drug_identity import DrugResolver
    from graph_loader.pipeline import load_graph

    paths = SourcePaths(data_dir=data_dir)
    resolver = DrugResolver.from_paths(paths)
    adapters: list[SourceAdapter] = [*drug_adapters(paths, resolver), *interaction_adapters(paths, resolver)]
    report = load_graph(store, adapters, load_schema())
    unmapped = Counter(u.origin.split(":")[0] for u in report.unmapped)
    rejected = Counter(r.origin.split(":")[0] for r in report.rejected)
    print("unmapped references per source:", dict(unmapped))
    print("rejected rows per source:", dict(rejected))


def _counts(store: GraphStore) -> None:
    interactions = store.edges_frame(RelType.INTERACTS_WITH)
    print("INTERACTS_WITH per source:", dict(Counter(interactions["source"].to_list())))
    members = store.edges_frame(RelType.MEMBER_OF_CLASS)
    print("MEMBER_OF_CLASS per source:", dict(Counter(members["source"].to_list())))
    pgx = store.edges_frame(RelType.PGX_AFFECTS)
    print(f"PGX_AFFECTS: {pgx.height} (CPIC level A: {sum(1 for v in pgx['cpic_level'].to_list() if v == 'A')})")


def _percentiles(label: str, timings: list[float]) -> None:
    timings = sorted(timings)
    p99 = timings[min(len(timings) - 1, int(0.99 * len(timings)))]
    print(f"{label}: n={len(timings)} median {statistics.median(timings):.1f} µs, p99 {p99:.1f} µs")


def _time(index: InteractionIndex, classes: DrugClassIndex, pairs: list[tuple[str, str]]) -> tuple[list[float], int]:
    timings: list[float] = []
    hits = 0
    for a, b in pairs:
        started = time.perf_counter_ns()
        found = index.lookup(a, b, classes)
        timings.append((time.perf_counter_ns() - started) / 1000)
        hits += bool(found)
    return timings, hits


def _time_lookups(classes: DrugClassIndex, index: InteractionIndex, pairs: int, seed: int) -> None:
    rng = random.Random(seed)
    drugs = sorted(d for d, c in classes.classes_of_ingredient.items() if c)
    mean_classes = statistics.mean(len(classes.classes_of(d)) for d in drugs)
    print(f"ingredients with classes: {len(drugs)} (mean {mean_classes:.1f} classes each); entries: {len(index)}")
    sample = [(rng.choice(drugs), rng.choice(drugs)) for _ in range(pairs)]
    timings, hits = _time(index, classes, sample)
    _percentiles(f"random pairs ({hits} with a hit)", timings)
    # Pairs known to interact: one member (or the ingredient itself) from each end of random entries.
    entries = [e for others in index.adjacency.values() for found in others.values() for e in found]
    known: list[tuple[str, str]] = []
    for entry in rng.sample(entries, min(pairs, len(entries))):
        ends = [sorted(classes.members_of(k)) or [k] for k in (entry.key_1, entry.key_2)]
        known.append((rng.choice(ends[0]), rng.choice(ends[1])))
    timings, hits = _time(index, classes, known)
    _percentiles(f"interacting pairs ({hits} with a hit)", timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--store-dir", type=Path, default=None, help="an existing store to read instead of loading")
    parser.add_argument("--pairs", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddedGraphStore(args.store_dir or Path(tmp) / "graph", load_schema())
        if args.store_dir is None:
            from kgcds.settings import default_data_dir

            _load(store, args.data_dir or default_data_dir())
        _counts(store)
        started = time.perf_counter()
        classes = DrugClassIndex.from_store(store)
        index = InteractionIndex.from_store(store)
        print(f"index compile: {time.perf_counter() - started:.2f} s")
        store.close()
        # A server compiles once then serves: move the index out of the GC's young generations.
        gc.collect()
        gc.freeze()
        _time_lookups(classes, index, args.pairs, args.seed)


if __name__ == "__main__":
    main()
