"""Validate adapter rows against the schema and assemble one consistent graph.

Bad rows are refused into the :class:`LoadReport` with a reason that names the
field; they never reach a store. The same node asserted by several sources is
merged (first value wins, lists are united); the same id asserted twice with
different content by one source is a duplicate and refused.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graph_loader.report import LoadReport
from graph_loader.rows import EdgeRow, NodeRow
from ontology.curie import CurieError, split_curie
from ontology.schema import LIST_SEPARATOR, GraphSchema, PropertySpec
from ontology.vocab import Label, RelType


@dataclass(frozen=True, slots=True)
class ValidatedGraph:
    nodes: dict[str, NodeRow]
    edges: list[EdgeRow]


def _source_of(origin: str) -> str:
    return origin.split(":", 1)[0]


def check_value(spec: PropertySpec, value: Any) -> str | None:
    """The reason a value does not fit its property, or None when it fits."""
    if spec.multivalued:
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            return f"{spec.name} must be a list of non-empty strings"
        if any(LIST_SEPARATOR in v for v in value):
            return f"{spec.name} items must not contain the control character U+001F"
        return None
    if spec.datatype == "string":
        if not isinstance(value, str):
            return f"{spec.name} must be a string, got {type(value).__name__}"
        if spec.allowed_values is not None and value not in spec.allowed_values:
            return f"{spec.name} must be one of {sorted(spec.allowed_values)}, got {value!r}"
    elif spec.datatype == "float":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"{spec.name} must be a number, got {type(value).__name__}"
    elif spec.datatype == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            return f"{spec.name} must be an integer, got {type(value).__name__}"
    elif spec.datatype == "boolean" and not isinstance(value, bool):
        return f"{spec.name} must be true or false, got {type(value).__name__}"
    return None


def _clean(props: Mapping[str, Any]) -> dict[str, Any]:
    """Absent and empty optional values are the same thing; store neither."""
    return {k: v for k, v in props.items() if v is not None and v != "" and v != []}


def _merge_props(first: dict[str, Any], second: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(first)
    for k, v in second.items():
        if k not in merged:
            merged[k] = v
        elif isinstance(merged[k], list) and isinstance(v, list):
            merged[k] = list(dict.fromkeys([*merged[k], *v]))
    return merged


class GraphValidator:
    """Accumulates rows from every source, then :meth:`finish` checks edges against the final node set."""

    def __init__(self, schema: GraphSchema, report: LoadReport) -> None:
        self._schema = schema
        self._report = report
        self._nodes: dict[str, NodeRow] = {}
        self._edges: dict[tuple[str, ...], EdgeRow] = {}
        # Property specs per label/type, looked up once: validation runs per row, ~1M times per load.
        owners: list[tuple[str, tuple[str, ...]]] = [(str(k), v.properties) for k, v in schema.nodes.items()]
        owners += [(str(k), v.properties) for k, v in schema.relationships.items()]
        self._allowed: dict[str, dict[str, PropertySpec]] = {
            owner: {name: schema.properties[name] for name in names} for owner, names in owners
        }

    def _props_problem(self, props: Mapping[str, Any], required: tuple[str, ...], owner: str) -> str | None:
        for name in required:
            if name not in props:
                return f"missing required property {name!r}"
        allowed = self._allowed[owner]
        for name, value in props.items():
            prop = allowed.get(name)
            if prop is None:
                return f"property {name!r} is not in the schema for this type"
            problem = check_value(prop, value)
            if problem:
                return problem
        return None

    def add_node(self, row: NodeRow) -> None:
        spec = self._schema.nodes.get(row.label)
        if spec is None:
            self._report.reject(row.origin, "node", row.id, f"unknown label {row.label!r}")
            return
        try:
            prefix, _ = split_curie(row.id)
        except CurieError as exc:
            self._report.reject(row.origin, "node", row.id, f"id: {exc}")
            return
        if prefix not in spec.id_prefixes:
            self._report.reject(
                row.origin,
                "node",
                row.id,
                f"id: prefix {prefix!r} not allowed for {row.label} ({sorted(spec.id_prefixes)})",
            )
            return
        props = _clean(row.props)
        problem = self._props_problem(props, spec.required, str(row.label))
        if problem:
            self._report.reject(row.origin, "node", row.id, problem)
            return
        existing = self._nodes.get(row.id)
        if existing is None:
            self._nodes[row.id] = NodeRow(row.label, row.id, props, row.origin)
            return
        if existing.label != row.label:
            self._report.reject(
                row.origin, "node", row.id, f"duplicate id: already a {existing.label} from {existing.origin}"
            )
            return
        if _source_of(existing.origin) == _source_of(row.origin) and existing.props != props:
            self._report.reject(row.origin, "node", row.id, f"duplicate id: first given at {existing.origin}")
            return
        self._report.merged_duplicates += 1
        self._nodes[row.id] = NodeRow(row.label, row.id, _merge_props(existing.props, props), existing.origin)

    def add_edge(self, row: EdgeRow) -> None:
        spec = self._schema.relationships.get(row.type)
        ident = f"({row.source})-[{row.type}]->({row.target})"
        if spec is None:
            self._report.reject(row.origin, "edge", ident, f"unknown relationship type {row.type!r}")
            return
        if row.source == row.target:
            self._report.reject(row.origin, "edge", ident, "self-loop: source and target are the same node")
            return
        props = _clean(row.props)
        problem = self._props_problem(props, spec.required, str(row.type))
        if problem:
            self._report.reject(row.origin, "edge", ident, problem)
            return
        source, target = row.source, row.target
        if spec.symmetric and target < source:
            source, target = target, source
        edge = EdgeRow(row.type, source, target, props, row.origin)
        key = (row.type.value, source, target, *[str(props.get(p, "")) for p in spec.key])
        existing = self._edges.get(key)
        if existing is None:
            self._edges[key] = edge
        else:
            self._report.merged_duplicates += 1
            self._edges[key] = EdgeRow(edge.type, source, target, _merge_props(existing.props, props), existing.origin)

    def finish(self) -> ValidatedGraph:
        """Drop (and report) edges whose endpoints are missing or of the wrong label."""
        edges: list[EdgeRow] = []
        rels = self._schema.relationships
        for edge in self._edges.values():
            spec = rels[RelType(edge.type)]
            ident = f"({edge.source})-[{edge.type}]->({edge.target})"
            src, tgt = self._nodes.get(edge.source), self._nodes.get(edge.target)
            if src is None or tgt is None:
                missing = edge.source if src is None else edge.target
                self._report.reject(edge.origin, "edge", ident, f"dangling edge: node {missing} does not exist")
                continue
            if spec.symmetric:
                ok = {src.label, tgt.label} <= (spec.sources | spec.targets)
            else:
                ok = src.label in spec.sources and tgt.label in spec.targets
            if not ok:
                self._report.reject(
                    edge.origin,
                    "edge",
                    ident,
                    f"endpoint labels: {src.label}->{tgt.label} not allowed for {edge.type}",
                )
                continue
            edges.append(edge)
        return ValidatedGraph(nodes=self._nodes, edges=edges)

    def node_label(self, node_id: str) -> Label | None:
        node = self._nodes.get(node_id)
        return node.label if node else None
