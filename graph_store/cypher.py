"""Every Cypher statement the Neo4j store sends, as constants and small builders.

Labels and relationship types are interpolated only from :class:`~ontology.vocab.Label` /
:class:`~ontology.vocab.RelType` members (checked again here); every value travels as a
``$parameter``. Writes are ``UNWIND $rows`` batches.

Generations: every node carries ``_gen``, the name of the load that wrote it. The one
``:KgcdsMeta`` node says which generation is current; readers only look at that one.
A load writes a whole new generation beside the current one and then moves the pointer
in one small transaction, so a failed load never shows a half-written or half-deleted
graph. Relationships only ever join nodes of one generation, so they need no marker.
Node identity is therefore ``(id, _gen)``, unique per label.

Only portable Cypher is used (no APOC, no ``CALL { } IN TRANSACTIONS``, no
``shortestPath``), so the store also runs on Bolt servers that are not Neo4j.
"""

from __future__ import annotations

from collections.abc import Iterable

from ontology.vocab import Label, RelType

GEN = "_gen"
"""The node property naming the generation (load) a node belongs to."""

META_LABEL = "KgcdsMeta"
"""Label of the single store-bookkeeping node; not part of the ontology and never returned as graph data."""

META_ID = "kgcds"
INTERNAL_PROPS = frozenset({"id", GEN})
"""Node properties that are store bookkeeping or identity, not schema properties."""


def _label(label: Label) -> str:
    # Enum membership is the injection guard: only ontology labels reach the query text.
    return f"`{Label(label).value}`"


def _rel(rel_type: RelType) -> str:
    return f"`{RelType(rel_type).value}`"


# ---- schema ---------------------------------------------------------------------------


def node_identity_constraint(label: Label) -> str:
    return (
        f"CREATE CONSTRAINT kgcds_{Label(label).value}_id IF NOT EXISTS "
        f"FOR (n:{_label(label)}) REQUIRE (n.id, n.{GEN}) IS UNIQUE"
    )


def generation_index(label: Label) -> str:
    return f"CREATE INDEX kgcds_{Label(label).value}_gen IF NOT EXISTS FOR (n:{_label(label)}) ON (n.{GEN})"


# ---- the generation pointer ---------------------------------------------------------

READ_META = (
    f"MATCH (m:{META_LABEL} {{id: $meta_id}}) RETURN m.current AS current, m.metadata AS metadata, m.pending AS pending"
)

REGISTER_PENDING = (
    f"MERGE (m:{META_LABEL} {{id: $meta_id}}) SET m.pending = [g IN coalesce(m.pending, []) WHERE g <> $gen] + [$gen]"
)
"""Record a generation before writing it, so a rerun after a crash knows what to clean up."""

SWITCH_GENERATION = (
    f"MERGE (m:{META_LABEL} {{id: $meta_id}}) "
    "SET m.current = $gen, m.metadata = $metadata, "
    "m.pending = [g IN coalesce(m.pending, []) WHERE g <> $gen] + $retired"
)
"""Make ``$gen`` current in one transaction; the generation it replaces (``$retired``) becomes garbage to delete."""

FORGET_PENDING = (
    f"MATCH (m:{META_LABEL} {{id: $meta_id}}) SET m.pending = [g IN coalesce(m.pending, []) WHERE g <> $gen]"
)


# ---- writes --------------------------------------------------------------------------


def merge_nodes(label: Label) -> str:
    """Rows ``{id, props}``; properties are merged into an existing node (upsert semantics)."""
    return (
        f"UNWIND $rows AS r MERGE (n:{_label(label)} {{id: r.id, {GEN}: $gen}}) SET n += r.props RETURN count(n) AS n"
    )


def merge_edges(rel_type: RelType, source: Label, target: Label, key: Iterable[str]) -> str:
    """Rows ``{s, t, key: {..}, props}``; the edge is identified by type, endpoints and ``key``
    and its properties are replaced, as the embedded store does."""
    key_map = ", ".join(f"`{name}`: r.key.`{name}`" for name in key)
    pattern = f"[e:{_rel(rel_type)}{' {' + key_map + '}' if key_map else ''}]"
    return (
        f"UNWIND $rows AS r "
        f"MATCH (a:{_label(source)} {{id: r.s, {GEN}: $gen}}) "
        f"MATCH (b:{_label(target)} {{id: r.t, {GEN}: $gen}}) "
        f"MERGE (a)-{pattern}->(b) SET e = r.props RETURN count(e) AS n"
    )


def delete_generation_edges(label: Label) -> str:
    return f"MATCH (n:{_label(label)})-[e]->() WHERE n.{GEN} = $gen WITH e LIMIT $batch DELETE e RETURN count(*) AS n"


def delete_generation_nodes(label: Label) -> str:
    return f"MATCH (n:{_label(label)}) WHERE n.{GEN} = $gen WITH n LIMIT $batch DETACH DELETE n RETURN count(*) AS n"


# ---- reads ---------------------------------------------------------------------------


def find_labels(labels: Iterable[Label]) -> str:
    """Rows ``{id, label}`` for each of ``$ids`` present in the current generation under one of ``labels``."""
    parts = [
        f"MATCH (n:{_label(label)}) WHERE n.id IN $ids AND n.{GEN} = $gen "
        f"RETURN n.id AS id, '{Label(label).value}' AS label"
        for label in labels
    ]
    return " UNION ALL ".join(parts)


def get_node(labels: Iterable[Label]) -> str:
    parts = [
        f"MATCH (n:{_label(label)} {{id: $id, {GEN}: $gen}}) "
        f"RETURN '{Label(label).value}' AS label, properties(n) AS props"
        for label in labels
    ]
    return " UNION ALL ".join(parts)


def neighbours(labels: Iterable[Label], rel_type: RelType | None, outgoing: bool, incoming: bool) -> str:
    """Rows ``{labels, props}`` for nodes one hop from ``$id`` (which has one of ``labels``)."""
    rel = f"[:{_rel(rel_type)}]" if rel_type is not None else "[]"
    arrow = f"-{rel}->" if outgoing and not incoming else f"<-{rel}-" if incoming and not outgoing else f"-{rel}-"
    parts = [
        f"MATCH (n:{_label(label)} {{id: $id, {GEN}: $gen}}){arrow}(m) "
        "RETURN DISTINCT labels(m) AS labels, properties(m) AS props"
        for label in labels
    ]
    return " UNION ".join(parts)


def frontier(label: Label) -> str:
    """Undirected one-hop expansion of many ``$ids`` of one label, for the bounded path search."""
    return (
        f"UNWIND $ids AS id MATCH (n:{_label(label)} {{id: id, {GEN}: $gen}})-[]-(m) "
        "RETURN DISTINCT id AS src, m.id AS dst, labels(m) AS labels"
    )


def count_nodes(label: Label) -> str:
    return f"MATCH (n:{_label(label)}) WHERE n.{GEN} = $gen RETURN count(n) AS n"


def count_edges(rel_type: RelType, source: Label) -> str:
    """Starting from a labelled node lets the server use the generation index instead of scanning every node."""
    return f"MATCH (a:{_label(source)})-[e:{_rel(rel_type)}]->() WHERE a.{GEN} = $gen RETURN count(e) AS n"


def stream_nodes(label: Label) -> str:
    return f"MATCH (n:{_label(label)}) WHERE n.{GEN} = $gen RETURN properties(n) AS props"


def stream_edges(rel_type: RelType, source: Label) -> str:
    return (
        f"MATCH (a:{_label(source)})-[e:{_rel(rel_type)}]->(b) WHERE a.{GEN} = $gen "
        "RETURN a.id AS s, b.id AS t, properties(e) AS props"
    )


PROBE = "RETURN 1 AS ok"
