"""The graph store on a Neo4j (or Neo4j-compatible Bolt) server, through the official driver.

How a load stays atomic (see :mod:`graph_store.cypher` for the queries): every node
carries the name of the generation that wrote it, the ``:KgcdsMeta`` node names the
current generation, and every read filters on it. :meth:`Neo4jGraphStore.replace_graph`
writes a complete new generation in batched managed transactions, then moves the
pointer in one transaction, then deletes the old generation in batches. A load that
fails or is killed leaves the pointer where it was; the next load deletes what the
failed one left behind (generations are registered as pending before any write).

One writer at a time: two concurrent loads into one database would delete each
other's unfinished generation.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any, LiteralString, Protocol
from urllib.parse import urlsplit

import neo4j
import polars as pl

from graph_loader.rows import EdgeRow, NodeRow
from graph_store import cypher
from graph_store.collect import collect_graph
from graph_store.contract import Direction, StoreError
from graph_store.frames import edges_to_frame, nodes_to_frame
from graph_store.neo4j_errors import describe_failure, store_errors
from ontology.schema import GraphSchema
from ontology.vocab import Label, RelType

BOLT_SCHEMES = frozenset({"bolt", "bolt+s", "bolt+ssc", "neo4j", "neo4j+s", "neo4j+ssc"})
STREAM_FETCH_SIZE = 10_000
"""Records per round trip when streaming a label or type back (the driver's default is 1,000)."""


class _Secret(Protocol):
    def get_secret_value(self) -> str: ...


class BoltSettings(Protocol):
    """What :meth:`Neo4jGraphStore.from_settings` reads; ``kgcds.settings.Settings`` has it all.

    A Protocol rather than the class, because graph_store must not import the CLI package.
    """

    @property
    def store(self) -> str: ...
    @property
    def neo4j_user(self) -> str: ...
    @property
    def neo4j_password(self) -> _Secret: ...
    @property
    def neo4j_database(self) -> str | None: ...
    @property
    def neo4j_batch_size(self) -> int: ...


def _batches(rows: Sequence[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield list(rows[start : start + size])


def _clean(props: dict[str, Any]) -> dict[str, Any]:
    """Neo4j stores no nulls and no tuples: drop the one, turn the other into lists."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in props.items() if v is not None}


def _write_count(tx: neo4j.ManagedTransaction, query: LiteralString, params: dict[str, Any]) -> int:
    record = tx.run(query, params).single()
    return int(record["n"]) if record is not None else 0


def _read_all(tx: neo4j.ManagedTransaction, query: LiteralString, params: dict[str, Any]) -> list[neo4j.Record]:
    return list(tx.run(query, params))


def safe_uri(uri: str) -> str:
    """The URI without any user:password@ part, for messages."""
    parts = urlsplit(uri)
    host = parts.netloc.rsplit("@", 1)[-1]
    return f"{parts.scheme}://{host}{parts.path}"


class Neo4jGraphStore:
    """Graph store on a Bolt server. The constructor does no I/O; use :meth:`connect` to open one."""

    def __init__(
        self,
        driver: neo4j.Driver,
        uri: str,
        schema: GraphSchema,
        *,
        user: str = "neo4j",
        database: str | None = None,
        batch_size: int = 10_000,
    ) -> None:
        if batch_size < 1:
            raise StoreError(f"Neo4j batch size must be at least 1, got {batch_size}")
        self._driver = driver
        self._uri = safe_uri(uri)
        self._schema = schema
        self._user = user
        self._database = database or None  # "" from an empty env var means the server's default
        self._batch_size = batch_size
        self._schema_ready = False

    # ---- opening -------------------------------------------------------------------
    @classmethod
    def connect(
        cls,
        uri: str,
        schema: GraphSchema,
        *,
        user: str = "neo4j",
        password: str = "",
        database: str | None = None,
        batch_size: int = 10_000,
    ) -> Neo4jGraphStore:
        """Open a driver on ``uri`` and check that the server answers, the credentials work and the database exists."""
        where = f"Neo4j server {safe_uri(uri)}"
        scheme = uri.split("://", 1)[0] if "://" in uri else ""
        if scheme not in BOLT_SCHEMES:
            raise StoreError(f"{where}: unsupported URI scheme {scheme!r}; use one of {sorted(BOLT_SCHEMES)}")
        try:
            driver = neo4j.GraphDatabase.driver(uri, auth=(user, password))
        except (ValueError, neo4j.exceptions.ConfigurationError) as exc:
            raise StoreError(f"{where}: invalid connection settings: {exc}") from exc
        store = cls(driver, uri, schema, user=user, database=database, batch_size=batch_size)
        try:
            store.verify()
        except BaseException:
            driver.close()
            raise
        return store

    @classmethod
    def from_settings(cls, settings: BoltSettings, schema: GraphSchema) -> Neo4jGraphStore:
        return cls.connect(
            settings.store,
            schema,
            user=settings.neo4j_user,
            password=settings.neo4j_password.get_secret_value(),
            database=settings.neo4j_database,
            batch_size=settings.neo4j_batch_size,
        )

    def verify(self) -> None:
        """One round trip on the configured database; raises :class:`StoreError` naming what is wrong."""
        try:
            with self._session() as session:
                session.run(cypher.PROBE).consume()
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError) as exc:
            raise StoreError(describe_failure(self._where, self._user, self._database, exc)) from exc

    @property
    def description(self) -> str:
        db = f" database {self._database}" if self._database else ""
        return f"Neo4j store at {self._uri}{db}"

    @property
    def _where(self) -> str:
        return f"Neo4j server {self._uri}"

    def _errors(self) -> AbstractContextManager[None]:
        return store_errors(self._where, self._user, self._database)

    def _session(self, fetch_size: int | None = None) -> neo4j.Session:
        if fetch_size is None:
            return self._driver.session(database=self._database)
        return self._driver.session(database=self._database, fetch_size=fetch_size)

    # ---- low-level helpers -----------------------------------------------------------
    def _write(self, session: neo4j.Session, query: str, params: dict[str, Any]) -> int:
        return session.execute_write(_write_count, query, params)

    def _read(self, query: str, params: dict[str, Any]) -> list[neo4j.Record]:
        with self._errors(), self._session() as session:
            return session.execute_read(_read_all, query, params)

    def _stream(self, query: str, params: dict[str, Any]) -> Iterator[neo4j.Record]:
        with self._errors(), self._session(STREAM_FETCH_SIZE) as session:
            yield from session.run(query, params)

    def _meta(self) -> tuple[str | None, dict[str, str], list[str]]:
        rows = self._read(cypher.READ_META, {"meta_id": cypher.META_ID})
        if not rows:
            return None, {}, []
        raw = rows[0]["metadata"]
        metadata: dict[str, str] = json.loads(raw) if raw else {}
        return rows[0]["current"], metadata, list(rows[0]["pending"] or [])

    def _current(self) -> str | None:
        return self._meta()[0]

    def _candidate_labels(self, node_id: str) -> list[Label]:
        """Labels a node with this id can have, from the schema's CURIE prefixes (all labels if none match)."""
        found = self._schema.label_for_prefix(node_id.split(":", 1)[0])
        return [lbl for lbl in Label if lbl in found] or list(Label)

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._errors(), self._session() as session:
            for label in self._schema.nodes:
                session.run(cypher.node_identity_constraint(label)).consume()
                session.run(cypher.generation_index(label)).consume()
        self._schema_ready = True

    # ---- writes --------------------------------------------------------------------
    def _write_nodes(self, session: neo4j.Session, gen: str, nodes: Iterable[NodeRow]) -> None:
        by_label: dict[Label, list[dict[str, Any]]] = defaultdict(list)
        for node in nodes:
            by_label[node.label].append({"id": node.id, "props": _clean(node.props)})
        for label, rows in by_label.items():
            query = cypher.merge_nodes(label)
            for batch in _batches(rows, self._batch_size):
                self._write(session, query, {"rows": batch, "gen": gen})

    def _write_edges(
        self, session: neo4j.Session, gen: str, edges: Iterable[EdgeRow], labels: dict[str, Label]
    ) -> None:
        groups: dict[tuple[RelType, Label, Label], list[dict[str, Any]]] = defaultdict(list)
        for edge in edges:
            key_props = self._schema.relationships[edge.type].key
            props = _clean(edge.props)
            # A null can't be merged on; the embedded store keys a missing key property as "" too.
            key = {name: props.setdefault(name, "") for name in key_props}
            groups[(edge.type, labels[edge.source], labels[edge.target])].append(
                {"s": edge.source, "t": edge.target, "key": key, "props": props}
            )
        for (rel_type, source, target), rows in groups.items():
            query = cypher.merge_edges(rel_type, source, target, self._schema.relationships[rel_type].key)
            for batch in _batches(rows, self._batch_size):
                self._write(session, query, {"rows": batch, "gen": gen})

    def _delete_generation(self, session: neo4j.Session, gen: str) -> None:
        for label in Label:
            for query in (cypher.delete_generation_edges(label), cypher.delete_generation_nodes(label)):
                while self._write(session, query, {"gen": gen, "batch": self._batch_size}):
                    pass
        self._write(session, cypher.FORGET_PENDING, {"meta_id": cypher.META_ID, "gen": gen})

    def _collect_graph(
        self, nodes: Iterable[NodeRow], edges: Iterable[EdgeRow]
    ) -> tuple[dict[str, NodeRow], list[EdgeRow]]:
        return collect_graph(nodes, edges, self._schema, self.description)

    def replace_graph(self, nodes: Iterable[NodeRow], edges: Iterable[EdgeRow], metadata: dict[str, str]) -> None:
        node_map, edge_list = self._collect_graph(nodes, edges)
        self._ensure_schema()
        old, _, pending = self._meta()
        gen = uuid.uuid4().hex
        with self._errors(), self._session() as session:
            for stale in pending:  # left behind by a load that was killed: never current, safe to drop
                if stale != old:
                    self._delete_generation(session, stale)
            self._write(session, cypher.REGISTER_PENDING, {"meta_id": cypher.META_ID, "gen": gen})
            try:
                self._write_nodes(session, gen, node_map.values())
                labels = {node_id: node.label for node_id, node in node_map.items()}
                self._write_edges(session, gen, edge_list, labels)
                switch = {
                    "meta_id": cypher.META_ID,
                    "gen": gen,
                    "metadata": json.dumps(metadata, sort_keys=True),
                    "retired": [old] if old else [],
                }
                self._write(session, cypher.SWITCH_GENERATION, switch)
            except BaseException:
                self._discard(gen)
                raise
        if old:
            # The new graph is live; if this cleanup fails, the old generation stays registered and goes next load.
            self._discard(old)

    def _discard(self, gen: str) -> None:
        """Best effort after a failed load; whatever stays behind is still registered and goes next time."""
        try:
            with self._session() as session:
                self._delete_generation(session, gen)
        except (neo4j.exceptions.Neo4jError, neo4j.exceptions.DriverError):
            pass

    def upsert(self, nodes: Iterable[NodeRow], edges: Iterable[EdgeRow]) -> None:
        node_list = list(nodes)
        edge_list = list(edges)
        self._ensure_schema()
        current, metadata, _ = self._meta()
        gen = current or uuid.uuid4().hex
        labels = {n.id: n.label for n in node_list}
        endpoints = {e.source for e in edge_list} | {e.target for e in edge_list}
        unknown = sorted(endpoints - set(labels))
        if unknown and current:
            labels.update(self._find_labels(current, unknown))
        for e in edge_list:
            if e.source not in labels or e.target not in labels:
                raise StoreError(f"{self.description}: edge {e.source}-[{e.type}]->{e.target} has a missing endpoint")
        with self._errors(), self._session() as session:
            if current is None:
                self._write(session, cypher.REGISTER_PENDING, {"meta_id": cypher.META_ID, "gen": gen})
            self._write_nodes(session, gen, node_list)
            self._write_edges(session, gen, edge_list, labels)
            if current is None:
                switch = {"meta_id": cypher.META_ID, "gen": gen, "metadata": json.dumps(metadata), "retired": []}
                self._write(session, cypher.SWITCH_GENERATION, switch)

    def _find_labels(self, gen: str, ids: list[str]) -> dict[str, Label]:
        by_labels: dict[tuple[Label, ...], list[str]] = defaultdict(list)
        for node_id in ids:
            by_labels[tuple(self._candidate_labels(node_id))].append(node_id)
        found: dict[str, Label] = {}
        for labels, group in by_labels.items():
            for record in self._read(cypher.find_labels(labels), {"ids": group, "gen": gen}):
                found[record["id"]] = Label(record["label"])
        return found

    # ---- reads ---------------------------------------------------------------------
    @staticmethod
    def _node(label: Label, props: dict[str, Any]) -> NodeRow:
        return NodeRow(label, str(props["id"]), {k: v for k, v in props.items() if k not in cypher.INTERNAL_PROPS})

    @staticmethod
    def _ontology_label(labels: list[str]) -> Label:
        for name in labels:
            if name in Label.__members__.values():
                return Label(name)
        raise StoreError(f"a graph node has no ontology label: {labels}")

    def get_node(self, node_id: str) -> NodeRow | None:
        gen = self._current()
        if gen is None:
            return None
        rows = self._read(cypher.get_node(self._candidate_labels(node_id)), {"id": node_id, "gen": gen})
        return self._node(Label(rows[0]["label"]), dict(rows[0]["props"])) if rows else None

    def neighbours(
        self, node_id: str, rel_type: RelType | None = None, direction: Direction = Direction.OUT
    ) -> list[NodeRow]:
        gen = self._current()
        if gen is None:
            return []
        outgoing = direction in (Direction.OUT, Direction.BOTH)
        incoming = direction in (Direction.IN, Direction.BOTH)
        query = cypher.neighbours(self._candidate_labels(node_id), rel_type, outgoing, incoming)
        found: dict[str, NodeRow] = {}
        for record in self._read(query, {"id": node_id, "gen": gen}):
            node = self._node(self._ontology_label(record["labels"]), dict(record["props"]))
            found[node.id] = node
        return [found[k] for k in sorted(found)]

    def shortest_path(self, source_id: str, target_id: str, max_hops: int = 6) -> list[str] | None:
        """Breadth-first search, one query per hop and label, undirected, at most ``max_hops`` hops."""
        gen = self._current()
        if gen is None:
            return None
        ends = self._find_labels(gen, sorted({source_id, target_id}))
        if source_id not in ends or target_id not in ends:
            return None
        parent: dict[str, str | None] = {source_id: None}
        frontier: dict[str, Label] = {source_id: ends[source_id]}
        for _ in range(max_hops):
            if target_id in parent or not frontier:
                break
            frontier = self._expand(gen, frontier, parent)
        if target_id not in parent:
            return None
        path = [target_id]
        while (prev := parent[path[-1]]) is not None:
            path.append(prev)
        return path[::-1]

    def _expand(self, gen: str, frontier: dict[str, Label], parent: dict[str, str | None]) -> dict[str, Label]:
        by_label: dict[Label, list[str]] = defaultdict(list)
        for node_id, label in frontier.items():
            by_label[label].append(node_id)
        hits: list[tuple[str, str, Label]] = []
        for label, ids in by_label.items():
            for record in self._read(cypher.frontier(label), {"ids": ids, "gen": gen}):
                hits.append((record["dst"], record["src"], self._ontology_label(record["labels"])))
        nxt: dict[str, Label] = {}
        for dst, src, label in sorted(hits):  # sorted, so ties resolve the same way every time
            if dst not in parent:
                parent[dst] = src
                nxt[dst] = label
        return nxt

    def node_counts(self) -> dict[str, int]:
        gen = self._current()
        if gen is None:
            return {}
        counts = {}
        for label in Label:
            n = int(self._read(cypher.count_nodes(label), {"gen": gen})[0]["n"])
            if n:
                counts[label.value] = n
        return counts

    def _sources(self, rel_type: RelType) -> list[Label]:
        """Labels an edge of this type can start from (the schema's allowed sources), in a stable order."""
        allowed = self._schema.relationships[rel_type].sources
        return [label for label in Label if label in allowed]

    def relationship_counts(self) -> dict[str, int]:
        gen = self._current()
        if gen is None:
            return {}
        counts = {}
        for rel_type in RelType:
            n = sum(
                int(self._read(cypher.count_edges(rel_type, source), {"gen": gen})[0]["n"])
                for source in self._sources(rel_type)
            )
            if n:
                counts[rel_type.value] = n
        return counts

    def iter_nodes(self, label: Label | None = None) -> Iterator[NodeRow]:
        gen = self._current()
        if gen is None:
            return
        for lbl in [label] if label else list(Label):
            for record in self._stream(cypher.stream_nodes(lbl), {"gen": gen}):
                yield self._node(lbl, dict(record["props"]))

    def iter_edges(self, rel_type: RelType | None = None) -> Iterator[EdgeRow]:
        gen = self._current()
        if gen is None:
            return
        for rt in [rel_type] if rel_type else list(RelType):
            for source in self._sources(rt):
                for record in self._stream(cypher.stream_edges(rt, source), {"gen": gen}):
                    yield EdgeRow(rt, record["s"], record["t"], dict(record["props"]))

    def nodes_frame(self, label: Label) -> pl.DataFrame:
        return nodes_to_frame(self._schema, label, list(self.iter_nodes(label))).sort("id")

    def edges_frame(self, rel_type: RelType) -> pl.DataFrame:
        rows = list(self.iter_edges(rel_type))
        return edges_to_frame(self._schema, rel_type, rows).sort(["source_id", "target_id"])

    def metadata(self) -> dict[str, str]:
        return self._meta()[1]

    def close(self) -> None:
        self._driver.close()
