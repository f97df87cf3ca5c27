"""The default, serverless graph store: parquet tables on disk, networkx in memory.

Layout of the store directory::

    <root>/CURRENT                    name of the live generation (swapped atomically)
    <root>/generations/<name>/nodes/<Label>.parquet
    <root>/generations/<name>/edges/<TYPE>.parquet
    <root>/generations/<name>/metadata.json

A load writes a complete new generation and only then replaces ``CURRENT`` with
``os.replace``, so a crash or error mid-load leaves the previous graph as it was.
Notebooks can read the parquet tables directly with polars.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from pathlib import Path

import networkx as nx
import polars as pl

from graph_loader.rows import EdgeRow, NodeRow
from graph_store.collect import collect_graph
from graph_store.contract import Direction, StoreError
from graph_store.frames import (
    edge_frame_schema,
    edges_to_frame,
    frame_to_edges,
    frame_to_nodes,
    node_frame_schema,
    nodes_to_frame,
)
from ontology.schema import GraphSchema
from ontology.vocab import Label, RelType

_CURRENT = "CURRENT"


class EmbeddedGraphStore:
    """Graph store on the local disk. Nothing is read until first asked for."""

    def __init__(self, root: Path, schema: GraphSchema) -> None:
        self._root = root
        self._schema = schema
        self._graph: nx.MultiDiGraph | None = None
        self._graph_generation: str | None = None

    @property
    def description(self) -> str:
        return f"embedded store at {self._root}"

    @property
    def root(self) -> Path:
        return self._root

    # ---- generations -------------------------------------------------
    def current_generation(self) -> Path | None:
        pointer = self._root / _CURRENT
        if not pointer.exists():
            return None
        name = pointer.read_text(encoding="utf-8").strip()
        path = self._root / "generations" / name
        if not path.is_dir():
            raise StoreError(f"{self.description}: CURRENT names missing generation {name!r}")
        return path

    def _write_generation(self, nodes: dict[str, NodeRow], edges: list[EdgeRow], metadata: dict[str, str]) -> None:
        gens = self._root / "generations"
        gens.mkdir(parents=True, exist_ok=True)
        name = uuid.uuid4().hex
        tmp = gens / f".tmp-{name}"
        try:
            (tmp / "nodes").mkdir(parents=True)
            (tmp / "edges").mkdir()
            by_label: dict[Label, list[NodeRow]] = defaultdict(list)
            for n in nodes.values():
                by_label[n.label].append(n)
            for label, rows in by_label.items():
                rows.sort(key=lambda r: r.id)
                nodes_to_frame(self._schema, label, rows).write_parquet(tmp / "nodes" / f"{label.value}.parquet")
            by_type: dict[RelType, list[EdgeRow]] = defaultdict(list)
            for e in edges:
                by_type[e.type].append(e)
            for rel_type, erows in by_type.items():
                erows.sort(key=lambda r: (r.source, r.target, str(r.props.get("source", ""))))
                edges_to_frame(self._schema, rel_type, erows).write_parquet(tmp / "edges" / f"{rel_type.value}.parquet")
            (tmp / "metadata.json").write_text(json.dumps(metadata, indent=2, sort_keys=True), encoding="utf-8")
            tmp.rename(gens / name)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        old = self.current_generation()
        pointer_tmp = self._root / f".{_CURRENT}.{name}"
        pointer_tmp.write_text(name, encoding="utf-8")
        os.replace(pointer_tmp, self._root / _CURRENT)
        self._graph = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    # ---- writes --------------------------------------------------------
    def replace_graph(self, nodes: Iterable[NodeRow], edges: Iterable[EdgeRow], metadata: dict[str, str]) -> None:
        node_map, edge_list = collect_graph(nodes, edges, self._schema, self.description)
        self._write_generation(node_map, edge_list, metadata)

    def upsert(self, nodes: Iterable[NodeRow], edges: Iterable[EdgeRow]) -> None:
        node_map = {n.id: n for n in self.iter_nodes()}
        for n in nodes:
            old = node_map.get(n.id)
            node_map[n.id] = n if old is None else NodeRow(n.label, n.id, {**old.props, **n.props})
        edge_map = {e.key(self._schema.relationships[e.type].key): e for e in self.iter_edges()}
        for e in edges:
            if e.source not in node_map or e.target not in node_map:
                raise StoreError(f"{self.description}: edge {e.source}-[{e.type}]->{e.target} has a missing endpoint")
            edge_map[e.key(self._schema.relationships[e.type].key)] = e
        self._write_generation(node_map, list(edge_map.values()), self.metadata())

    # ---- reads -----------------------------------------------------------
    def nodes_frame(self, label: Label) -> pl.DataFrame:
        gen = self.current_generation()
        path = gen / "nodes" / f"{label.value}.parquet" if gen else None
        if path is None or not path.exists():
            return pl.DataFrame(schema=node_frame_schema(self._schema, label))
        return pl.read_parquet(path)

    def edges_frame(self, rel_type: RelType) -> pl.DataFrame:
        gen = self.current_generation()
        path = gen / "edges" / f"{rel_type.value}.parquet" if gen else None
        if path is None or not path.exists():
            return pl.DataFrame(schema=edge_frame_schema(self._schema, rel_type))
        return pl.read_parquet(path)

    def iter_nodes(self, label: Label | None = None) -> Iterator[NodeRow]:
        for lbl in [label] if label else list(Label):
            yield from frame_to_nodes(lbl, self.nodes_frame(lbl))

    def iter_edges(self, rel_type: RelType | None = None) -> Iterator[EdgeRow]:
        for rt in [rel_type] if rel_type else list(RelType):
            yield from frame_to_edges(rt, self.edges_frame(rt))

    def _parquet_rows(self, kind: str) -> dict[str, int]:
        gen = self.current_generation()
        if gen is None:
            return {}
        counts = {}
        for path in sorted((gen / kind).glob("*.parquet")):
            n = pl.scan_parquet(path).select(pl.len()).collect().item()
            if n:
                counts[path.stem] = int(n)
        return counts

    def node_counts(self) -> dict[str, int]:
        return self._parquet_rows("nodes")

    def relationship_counts(self) -> dict[str, int]:
        return self._parquet_rows("edges")

    def metadata(self) -> dict[str, str]:
        gen = self.current_generation()
        if gen is None:
            return {}
        data: dict[str, str] = json.loads((gen / "metadata.json").read_text(encoding="utf-8"))
        return data

    def to_networkx(self) -> nx.MultiDiGraph:
        """The whole graph as a networkx MultiDiGraph (node attr ``label``, edge key = type)."""
        gen = self.current_generation()
        name = gen.name if gen else None
        if self._graph is not None and self._graph_generation == name:
            return self._graph
        g = nx.MultiDiGraph()
        for n in self.iter_nodes():
            g.add_node(n.id, label=n.label.value, **n.props)
        for e in self.iter_edges():
            g.add_edge(e.source, e.target, key=e.type.value, **e.props)
        self._graph, self._graph_generation = g, name
        return g

    def get_node(self, node_id: str) -> NodeRow | None:
        g = self.to_networkx()
        if node_id not in g:
            return None
        attrs = dict(g.nodes[node_id])
        label = Label(attrs.pop("label"))
        return NodeRow(label, node_id, attrs)

    def neighbours(
        self, node_id: str, rel_type: RelType | None = None, direction: Direction = Direction.OUT
    ) -> list[NodeRow]:
        g = self.to_networkx()
        if node_id not in g:
            return []
        found: set[str] = set()
        if direction in (Direction.OUT, Direction.BOTH):
            for _, tgt, key in g.out_edges(node_id, keys=True):
                if rel_type is None or key == rel_type.value:
                    found.add(tgt)
        if direction in (Direction.IN, Direction.BOTH):
            for src, _, key in g.in_edges(node_id, keys=True):
                if rel_type is None or key == rel_type.value:
                    found.add(src)
        out = []
        for nid in sorted(found):
            node = self.get_node(nid)
            if node is not None:
                out.append(node)
        return out

    def shortest_path(self, source_id: str, target_id: str, max_hops: int = 6) -> list[str] | None:
        g = self.to_networkx()
        if source_id not in g or target_id not in g:
            return None
        try:
            path: list[str] = nx.shortest_path(g.to_undirected(as_view=True), source_id, target_id)
        except nx.NetworkXNoPath:
            return None
        return path if len(path) - 1 <= max_hops else None

    def close(self) -> None:
        self._graph = None
