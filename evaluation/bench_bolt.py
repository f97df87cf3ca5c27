"""Bolt load and read-back throughput of the Neo4j store, against the server's own ceiling.

For a synthetic graph shaped like the real one (phenotypes, diseases, genes, drugs and
classes; HAS_PHENOTYPE dominating the relationships, skewed towards common phenotypes),
each repeat measures, on the same server and in the same run:

* bare: ``UNWIND $rows CREATE`` of the same rows in batches, with a plain index on ``id``
  (the least a loader can do and still find relationship endpoints), into a fresh database;
* store: :meth:`Neo4jGraphStore.replace_graph` into a fresh database (first load);
* read-back: ``iter_nodes`` + ``iter_edges`` of everything, then every label/type frame
  (what a knowledge-index compile reads);
* reload: ``replace_graph`` again over the loaded graph (new generation, pointer switch,
  old generation deleted).

Prints medians over the repeats and the store/bare ratio (goal: <= 1.5).

    python -m evaluation.bench_bolt                      # starts ArcadeDB on loopback
    python -m evaluation.bench_bolt --nodes 20000 --rels 100000 --repeats 3
    python -m evaluation.bench_bolt --uri bolt://host:7687 --user neo4j --password ...  # a real Neo4j
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import neo4j

from graph_loader.rows import EdgeRow, NodeRow
from graph_store.neo4j_store import Neo4jGraphStore
from ontology.schema import GraphSchema, load_schema
from ontology.vocab import Label, RelType

NODE_SHARE = {Label.PHENOTYPE: 0.40, Label.DISEASE: 0.30, Label.GENE: 0.10, Label.DRUG: 0.15, Label.DRUG_CLASS: 0.05}
EDGE_SHARE = {
    (RelType.HAS_PHENOTYPE, Label.DISEASE, Label.PHENOTYPE): 0.60,
    (RelType.IS_A, Label.PHENOTYPE, Label.PHENOTYPE): 0.10,
    (RelType.ASSOCIATED_WITH_GENE, Label.DISEASE, Label.GENE): 0.08,
    (RelType.MEMBER_OF_CLASS, Label.DRUG, Label.DRUG_CLASS): 0.10,
    (RelType.INTERACTS_WITH, Label.DRUG, Label.DRUG): 0.12,
}
PREFIX = {Label.PHENOTYPE: "HP", Label.DISEASE: "OMIM", Label.GENE: "NCBIGene", Label.DRUG: "RXNORM"}


@dataclass(frozen=True, slots=True)
class Target:
    uri: str
    user: str
    password: str
    databases: tuple[str | None, ...]
    """Fresh databases, one per load (ArcadeDB; two for the warm-up); a single entry means wipe and reuse it."""


def synthetic_graph(n_nodes: int, n_rels: int, seed: int = 7) -> tuple[list[NodeRow], list[EdgeRow]]:
    rng = random.Random(seed)
    ids: dict[Label, list[str]] = {}
    nodes: list[NodeRow] = []
    for label, share in NODE_SHARE.items():
        count = max(2, int(n_nodes * share))
        prefix = PREFIX.get(label, "ATC")
        ids[label] = [f"{prefix}:{i:07d}" for i in range(count)]
        for i, node_id in enumerate(ids[label]):
            props: dict[str, Any] = {"name": f"{label.value} {i}", "synonyms": [f"syn {i}a", f"syn {i}b"]}
            if label == Label.GENE:
                props = {"symbol": f"G{i}", "name": f"gene {i}"}
            elif label == Label.DRUG_CLASS:
                props["class_type"] = "atc"
            elif label == Label.PHENOTYPE:
                props["ic"] = rng.random() * 10
            nodes.append(NodeRow(label, node_id, props))
    edges: dict[tuple[str, ...], EdgeRow] = {}
    for (rel_type, src, tgt), share in EDGE_SHARE.items():
        want = int(n_rels * share)
        made = 0
        while made < want:
            # Targets skewed like real annotations: a few phenotypes/classes are very common.
            s = ids[src][rng.randrange(len(ids[src]))]
            t = ids[tgt][min(int(rng.paretovariate(1.2)) - 1, len(ids[tgt]) - 1)]
            t = t if rng.random() < 0.3 else ids[tgt][rng.randrange(len(ids[tgt]))]
            eprops: dict[str, Any] = {"source": "bench@1"}
            if rel_type == RelType.HAS_PHENOTYPE:
                eprops["frequency"] = round(rng.random(), 2)
            elif rel_type == RelType.INTERACTS_WITH:
                eprops.update(severity="major", description="synthetic interaction", source=f"bench{made % 2}@1")
            edge = EdgeRow(rel_type, s, t, eprops)
            key = edge.key(("source",))
            if s != t and key not in edges:
                edges[key] = edge
                made += 1
    return nodes, list(edges.values())


@dataclass
class Figures:
    values: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))

    def add(self, name: str, seconds: float) -> None:
        self.values[name].append(seconds)

    def median(self, name: str) -> float:
        return statistics.median(self.values[name])


@contextmanager
def timed(figures: Figures, name: str) -> Iterator[None]:
    started = time.perf_counter()
    yield
    figures.add(name, time.perf_counter() - started)
    print(f"  {name:<22} {figures.values[name][-1]:8.2f} s", flush=True)


def _wipe(driver: neo4j.Driver, database: str | None) -> None:
    with driver.session(database=database) as session:
        while True:
            record = session.run("MATCH (n) WITH n LIMIT 10000 DETACH DELETE n RETURN count(*) AS n").single()
            if record is None or not record["n"]:
                return


def _write_batches(session: neo4j.Session, query: str, rows: list[dict[str, Any]], batch: int) -> None:
    def write(tx: neo4j.ManagedTransaction, chunk: list[dict[str, Any]]) -> None:
        tx.run(query, rows=chunk).consume()

    for i in range(0, len(rows), batch):
        session.execute_write(write, rows[i : i + batch])


def bare_load(
    driver: neo4j.Driver, database: str | None, nodes: list[NodeRow], edges: list[EdgeRow], batch: int
) -> None:
    """The same rows with plain ``CREATE``: no generations, no MERGE, one index on ``id`` per label."""
    by_label: dict[Label, list[dict[str, Any]]] = defaultdict(list)
    labels = {}
    for n in nodes:
        by_label[n.label].append({"id": n.id, **n.props})
        labels[n.id] = n.label
    by_type: dict[tuple[RelType, Label, Label], list[dict[str, Any]]] = defaultdict(list)
    for e in edges:
        by_type[(e.type, labels[e.source], labels[e.target])].append({"s": e.source, "t": e.target, "p": e.props})
    with driver.session(database=database) as session:
        for label in by_label:
            session.run(f"CREATE INDEX bench_bare_{label.value} IF NOT EXISTS FOR (n:`{label.value}`) ON (n.id)")
        for label, rows in by_label.items():
            query = f"UNWIND $rows AS r CREATE (n:`{label.value}`) SET n = r"
            _write_batches(session, query, rows, batch)
        for (rel_type, src, tgt), rows in by_type.items():
            query = (
                f"UNWIND $rows AS r MATCH (a:`{src.value}` {{id: r.s}}) MATCH (b:`{tgt.value}` {{id: r.t}}) "
                f"CREATE (a)-[e:`{rel_type.value}`]->(b) SET e = r.p"
            )
            _write_batches(session, query, rows, batch)
        for label in by_label:
            session.run(f"DROP INDEX bench_bare_{label.value} IF EXISTS")


def run(target: Target, schema: GraphSchema, n_nodes: int, n_rels: int, repeats: int, batch: int) -> None:
    nodes, edges = synthetic_graph(n_nodes, n_rels)
    print(f"synthetic graph: {len(nodes):,} nodes, {len(edges):,} relationships; batch {batch:,}; {target.uri}")
    figures = Figures()
    driver = neo4j.GraphDatabase.driver(target.uri, auth=(target.user, target.password))
    fresh = iter(target.databases)

    def empty_database() -> str | None:
        if len(target.databases) > 1:
            return next(fresh)
        _wipe(driver, target.databases[0])  # untimed; slow on big graphs, hence fresh databases when we can
        return target.databases[0]

    try:
        # Untimed warm-up of both paths, so the first timed repeat doesn't pay for the server's JIT compilation.
        warm_nodes, warm_edges = synthetic_graph(max(n_nodes // 20, 100), max(n_rels // 20, 500), seed=1)
        bare_load(driver, empty_database(), warm_nodes, warm_edges, batch)
        warm = Neo4jGraphStore.connect(
            target.uri, schema, user=target.user, password=target.password, database=empty_database()
        )
        warm.replace_graph(warm_nodes, warm_edges, {})
        warm.close()
        for repeat in range(repeats):
            print(f"repeat {repeat + 1}/{repeats}", flush=True)
            bare_db = empty_database()
            with timed(figures, "bare load"):
                bare_load(driver, bare_db, nodes, edges, batch)
            store_db = empty_database()
            store = Neo4jGraphStore.connect(
                target.uri, schema, user=target.user, password=target.password, database=store_db, batch_size=batch
            )
            try:
                with timed(figures, "store replace_graph"):
                    store.replace_graph(nodes, edges, {"bench": str(repeat)})
                with timed(figures, "iter nodes+edges"):
                    read = sum(1 for _ in store.iter_nodes()) + sum(1 for _ in store.iter_edges())
                assert read == len(nodes) + len(edges), f"read back {read}, wrote {len(nodes) + len(edges)}"
                with timed(figures, "all frames"):
                    for label in Label:
                        store.nodes_frame(label)
                    for rel_type in RelType:
                        store.edges_frame(rel_type)
                with timed(figures, "reload (replace again)"):
                    store.replace_graph(nodes, edges, {"bench": f"{repeat}b"})
            finally:
                store.close()
    finally:
        driver.close()
    report(figures, len(nodes), len(edges))


def report(figures: Figures, n_nodes: int, n_rels: int) -> None:
    bare, store = figures.median("bare load"), figures.median("store replace_graph")
    print(f"\nmedians over {len(figures.values['bare load'])} repeat(s), {n_nodes:,} nodes + {n_rels:,} relationships:")
    for name in figures.values:
        print(f"  {name:<22} {figures.median(name):8.2f} s")
    print(
        f"  store first load       {n_nodes / store:8,.0f} nodes/s over the whole load, {n_rels / store:8,.0f} rels/s"
    )
    print(f"  bare CREATE            {n_nodes / bare:8,.0f} nodes/s over the whole load, {n_rels / bare:8,.0f} rels/s")
    print(f"  store / bare ratio     {store / bare:8.2f}  (goal <= 1.5)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--rels", type=int, default=500_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--uri", help="an existing server (else ArcadeDB is started on loopback)")
    parser.add_argument("--user", default="neo4j")
    parser.add_argument("--password", default="")
    parser.add_argument("--database", default=None)
    parser.add_argument("--heap", default="2g", help="ArcadeDB JVM heap when started here")
    args = parser.parse_args()
    schema = load_schema()
    if args.uri:
        run(Target(args.uri, args.user, args.password, (args.database,)), schema, **_sizes(args))
        return
    from tests.bolt_server import arcadedb_server  # dev-only: the test server lives with the tests

    names = tuple(f"bench{i}" for i in range(2 * args.repeats + 2))
    with tempfile.TemporaryDirectory(prefix="kgcds-bench-") as tmp, arcadedb_server(Path(tmp), names, args.heap) as t:
        run(Target(t.uri, t.user, t.password, names), schema, **_sizes(args))


def _sizes(args: argparse.Namespace) -> dict[str, int]:
    return {"n_nodes": args.nodes, "n_rels": args.rels, "repeats": args.repeats, "batch": args.batch}


if __name__ == "__main__":
    main()
