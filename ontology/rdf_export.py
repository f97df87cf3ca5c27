"""Write the property graph as RDF (Turtle or N-Triples), derived entirely from the schema.

* a node becomes its code system's IRI (``HP:0001250`` -> ``http://purl.obolibrary.org/obo/HP_0001250``)
  with ``rdf:type`` the schema class, ``dct:identifier`` its CURIE, ``rdfs:label`` its
  name, and one triple per property value using the schema property IRI and its
  XSD datatype;
* an edge becomes one direct triple with the relationship IRI, so simple queries stay
  simple, plus an ``rdf:Statement`` reification carrying the edge's properties. Standard
  RDF reification is chosen over RDF-star (not loadable everywhere, and rdflib 7 parses
  it only partly) and over a bespoke n-ary node (tools would not know it describes the
  direct triple). Every edge is reified because every edge carries at least its
  ``source``: provenance is the point. Statement IRIs hash the edge's schema key, so a
  re-export gives the same IRIs and two sources asserting one pair give two statements.

The writer streams: one node or edge in, its lines out, no in-memory RDF graph. Terms
are written in N-Triples syntax (escaped single-line literals, full IRIs), which is
also valid Turtle; the Turtle form adds prefixes and groups a node's triples.
This module sees rows only through the :class:`NodeLike` / :class:`EdgeLike`
protocols, so it depends on nothing outside :mod:`ontology`.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TextIO
from urllib.parse import quote

from rdflib import Graph

from ontology.curie import CodeSystemMap
from ontology.schema import KG, SCHEMA_IRI, GraphSchema, PropertySpec, default_schema_path
from ontology.vocab import Label, RelType

RdfFormat = Literal["turtle", "nt"]

RDF_NS = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS_NS = "http://www.w3.org/2000/01/rdf-schema#"
XSD_NS = "http://www.w3.org/2001/XMLSchema#"
OWL_NS = "http://www.w3.org/2002/07/owl#"
DCT_NS = "http://purl.org/dc/terms/"
GRAPH_IRI = "https://w3id.org/kgcds/graph"
STATEMENT_NS = "https://w3id.org/kgcds/statement/"

_PREFIXES = (("rdf", RDF_NS), ("rdfs", RDFS_NS), ("xsd", XSD_NS), ("owl", OWL_NS), ("dct", DCT_NS), ("kg", str(KG)))
_SIMPLE_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_XSD_OF = {"string": "string", "float": "double", "integer": "integer", "boolean": "boolean"}
# Characters RFC 3987 forbids in an IRI; a CURIE local part may carry them (spaces in class names).
_IRI_UNSAFE = re.compile(r'[\x00-\x20<>"{}|^`\\]')


class NodeLike(Protocol):
    @property
    def label(self) -> Label: ...
    @property
    def id(self) -> str: ...
    @property
    def props(self) -> Mapping[str, Any]: ...


class EdgeLike(Protocol):
    @property
    def type(self) -> RelType: ...
    @property
    def source(self) -> str: ...
    @property
    def target(self) -> str: ...
    @property
    def props(self) -> Mapping[str, Any]: ...


@dataclass
class ExportCounts:
    nodes: int = 0
    edges: int = 0
    triples: int = 0


def iri(text: str) -> str:
    if _IRI_UNSAFE.search(text):
        text = quote(text, safe=":/#?&=%;,+!$'()*@~.-_")
    return f"<{text}>"


def string_literal(text: str) -> str:
    escaped = (
        text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    )
    return f'"{escaped}"'


def typed_literal(spec: PropertySpec, value: Any) -> str:
    """A value in N-Triples syntax with the XSD datatype the schema gives its property."""
    if spec.datatype == "string":
        return string_literal(str(value))  # plain literals are xsd:string in RDF 1.1
    if spec.datatype == "boolean":
        lexical = "true" if value else "false"
    elif spec.datatype == "integer":
        lexical = str(int(value))
    else:
        number = float(value)
        if math.isnan(number):
            lexical = "NaN"
        elif math.isinf(number):
            lexical = "INF" if number > 0 else "-INF"
        else:
            lexical = repr(number)
    return f'"{lexical}"^^<{XSD_NS}{_XSD_OF[spec.datatype]}>'


class RdfWriter:
    """Streams nodes and edges to ``out`` as RDF; call :meth:`start` first."""

    def __init__(self, schema: GraphSchema, out: TextIO, fmt: RdfFormat) -> None:
        if fmt not in ("turtle", "nt"):
            raise ValueError(f"format must be 'turtle' or 'nt', got {fmt!r}")
        self._schema = schema
        self._codes = CodeSystemMap.from_schema(schema)
        self._out = out
        self._turtle = fmt == "turtle"
        self.counts = ExportCounts()
        self._type = f"<{RDF_NS}type>"
        self._short_names: dict[str, str] = {}
        self._last_direct: tuple[str, str, str] | None = None
        self._prop_iri = {name: f"<{spec.iri}>" for name, spec in schema.properties.items()}

    def node_iri(self, curie: str) -> str:
        return iri(self._codes.to_iri(curie))

    def _emit(self, subject: str, pairs: list[tuple[str, str]]) -> None:
        if not pairs:
            return
        self.counts.triples += len(pairs)
        if self._turtle:
            body = " ;\n    ".join(f"{self._short(p)} {self._short(o) if p == self._type else o}" for p, o in pairs)
            self._out.write(f"{subject} {body} .\n")
        else:
            self._out.write("".join(f"{subject} {p} {o} .\n" for p, o in pairs))

    def _short(self, term: str) -> str:
        """A Turtle prefixed name for a predicate or class IRI (a small, bounded set, hence cached)."""
        found = self._short_names.get(term)
        if found is None:
            found = term
            if term == self._type:
                found = "a"
            else:
                for prefix, ns in _PREFIXES:
                    local = term[len(ns) + 1 : -1]
                    if term.startswith(f"<{ns}") and _SIMPLE_LOCAL.match(local):
                        found = f"{prefix}:{local}"
                        break
            self._short_names[term] = found
        return found

    def start(self, metadata: Mapping[str, str], include_schema: bool = True) -> None:
        """Prefixes (Turtle), a header naming the schema ontology, and the schema triples themselves."""
        if self._turtle:
            for prefix, ns in _PREFIXES:
                self._out.write(f"@prefix {prefix}: <{ns}> .\n")
            self._out.write("\n")
        header = [(self._type, f"<{OWL_NS}Ontology>"), (f"<{OWL_NS}imports>", f"<{SCHEMA_IRI}>")]
        header += [(f"<{DCT_NS}description>", string_literal(f"{k}={v}")) for k, v in sorted(metadata.items())]
        self._emit(f"<{GRAPH_IRI}>", header)
        if include_schema:
            schema_graph = Graph()
            schema_graph.parse(default_schema_path(), format="turtle")
            for line in sorted(schema_graph.serialize(format="nt").splitlines()):
                if line.strip():
                    self._out.write(line + "\n")
                    self.counts.triples += 1

    def write_node(self, node: NodeLike) -> None:
        spec = self._schema.nodes[node.label]
        pairs = [
            (self._type, f"<{spec.iri}>"),
            (f"<{DCT_NS}identifier>", string_literal(node.id)),
        ]
        display = node.props.get("name") or node.props.get("symbol")
        if isinstance(display, str) and display:
            pairs.append((f"<{RDFS_NS}label>", string_literal(display)))
        pairs += self._property_pairs(node.props)
        self._emit(self.node_iri(node.id), pairs)
        self.counts.nodes += 1

    def write_edge(self, edge: EdgeLike) -> None:
        spec = self._schema.relationships[edge.type]
        subject, predicate, obj = self.node_iri(edge.source), f"<{spec.iri}>", self.node_iri(edge.target)
        # Stores hand edges out sorted, so several sources' copies of one triple arrive together.
        if (subject, predicate, obj) != self._last_direct:
            self._emit(subject, [(predicate, obj)])
            self._last_direct = (subject, predicate, obj)
        key = "\x1f".join([edge.type.value, edge.source, edge.target, *(str(edge.props.get(k, "")) for k in spec.key)])
        statement = f"<{STATEMENT_NS}{hashlib.sha1(key.encode('utf-8')).hexdigest()[:24]}>"
        pairs = [
            (self._type, f"<{RDF_NS}Statement>"),
            (f"<{RDF_NS}subject>", subject),
            (f"<{RDF_NS}predicate>", predicate),
            (f"<{RDF_NS}object>", obj),
            *self._property_pairs(edge.props),
        ]
        self._emit(statement, pairs)
        self.counts.edges += 1

    def _property_pairs(self, props: Mapping[str, Any]) -> list[tuple[str, str]]:
        pairs: list[tuple[str, str]] = []
        for name in sorted(props):
            value = props[name]
            if value is None or value == "" or value == []:
                continue
            spec = self._schema.properties.get(name)
            if spec is None:
                raise ValueError(f"property {name!r} is not in the schema, so it has no RDF property")
            values = value if isinstance(value, list) else [value]
            pairs += [(self._prop_iri[name], typed_literal(spec, v)) for v in values]
        return pairs


def export_rdf(
    schema: GraphSchema,
    nodes: Iterable[NodeLike],
    edges: Iterable[EdgeLike],
    out: TextIO,
    fmt: RdfFormat = "turtle",
    metadata: Mapping[str, str] | None = None,
) -> ExportCounts:
    """Stream a whole graph (plus the schema ontology) to ``out``."""
    writer = RdfWriter(schema, out, fmt)
    writer.start(metadata or {})
    for node in nodes:
        writer.write_node(node)
    for edge in edges:
        writer.write_edge(edge)
    return writer.counts
