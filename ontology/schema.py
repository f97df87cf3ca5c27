"""Load the OWL/Turtle schema into typed, immutable specs.

Everything that needs to know what a valid graph looks like (loader validation,
Neo4j constraints, the RDF export, the embedded store's column types) asks the
:class:`GraphSchema` returned by :func:`load_schema`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

from rdflib import RDF, RDFS, Graph, Namespace, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import OWL, XSD

from ontology.vocab import Label, RelType

KG = Namespace("https://w3id.org/kgcds/schema#")
SCHEMA_IRI = "https://w3id.org/kgcds/schema"

Datatype = Literal["string", "float", "integer", "boolean"]

LIST_SEPARATOR = "\x1f"
"""No item of a multivalued property may contain this control character (ASCII unit
separator): stores use it to move list columns in bulk."""

_XSD_TO_DATATYPE: dict[URIRef, Datatype] = {
    XSD.string: "string",
    XSD.double: "float",
    XSD.float: "float",
    XSD.decimal: "float",
    XSD.integer: "integer",
    XSD.int: "integer",
    XSD.boolean: "boolean",
}


class SchemaError(ValueError):
    """The schema file is inconsistent with itself or with :mod:`ontology.vocab`."""


@dataclass(frozen=True, slots=True)
class PropertySpec:
    name: str
    iri: str
    datatype: Datatype
    multivalued: bool
    allowed_values: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class NodeTypeSpec:
    label: Label
    iri: str
    description: str
    id_prefixes: frozenset[str]
    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def properties(self) -> tuple[str, ...]:
        return self.required + self.optional


@dataclass(frozen=True, slots=True)
class RelTypeSpec:
    type: RelType
    iri: str
    description: str
    sources: frozenset[Label]
    targets: frozenset[Label]
    required: tuple[str, ...]
    optional: tuple[str, ...]
    key: tuple[str, ...]
    symmetric: bool

    @property
    def properties(self) -> tuple[str, ...]:
        return self.required + self.optional


@dataclass(frozen=True, slots=True)
class CodeSystem:
    prefix: str
    name: str
    fhir_system: str
    iri_prefix: str


@dataclass(frozen=True, slots=True)
class GraphSchema:
    version: str
    nodes: Mapping[Label, NodeTypeSpec]
    relationships: Mapping[RelType, RelTypeSpec]
    properties: Mapping[str, PropertySpec]
    code_systems: Mapping[str, CodeSystem]

    def label_for_prefix(self, prefix: str) -> frozenset[Label]:
        return frozenset(lbl for lbl, spec in self.nodes.items() if prefix in spec.id_prefixes)


def default_schema_path() -> Path:
    return Path(str(resources.files("ontology").joinpath("kgcds_schema.ttl")))


def _text(g: Graph, subject: URIRef, predicate: URIRef) -> str:
    value = g.value(subject, predicate)
    return str(value) if value is not None else ""


def _names(g: Graph, subject: URIRef, predicate: URIRef) -> tuple[str, ...]:
    """Property names a node/rel class points at, in a stable (sorted) order."""
    names = []
    for prop in g.objects(subject, predicate):
        label = g.value(prop, KG.label)
        if label is None:
            raise SchemaError(f"{subject}: {predicate} points at {prop}, which has no kg:label")
        names.append(str(label))
    return tuple(sorted(names))


def _labels_of(g: Graph, subject: URIRef, predicate: URIRef) -> frozenset[Label]:
    out = set()
    for cls in g.objects(subject, predicate):
        text = g.value(cls, KG.label)
        if text is None or str(text) not in Label.__members__.values():
            raise SchemaError(f"{subject}: {predicate} names unknown node class {cls}")
        out.add(Label(str(text)))
    return frozenset(out)


def parse_schema(g: Graph) -> GraphSchema:
    properties: dict[str, PropertySpec] = {}
    for prop in g.subjects(RDF.type, OWL.DatatypeProperty):
        assert isinstance(prop, URIRef)
        name = _text(g, prop, KG.label)
        rng = g.value(prop, RDFS.range)
        if not name or rng is None or rng not in _XSD_TO_DATATYPE:
            raise SchemaError(f"property {prop} needs kg:label and an xsd rdfs:range")
        allowed = frozenset(str(v) for v in g.objects(prop, KG.allowedValue)) or None
        multi = g.value(prop, KG.multivalued)
        properties[name] = PropertySpec(
            name=name,
            iri=str(prop),
            datatype=_XSD_TO_DATATYPE[URIRef(str(rng))],
            multivalued=bool(isinstance(multi, RdfLiteral) and multi.toPython() is True),
            allowed_values=allowed,
        )

    nodes: dict[Label, NodeTypeSpec] = {}
    for cls in g.subjects(RDF.type, OWL.Class):
        assert isinstance(cls, URIRef)
        text = g.value(cls, KG.label)
        if text is None:
            continue  # helper classes such as kg:CodeSystem carry no graph label
        if str(text) not in Label.__members__.values():
            raise SchemaError(f"schema class {cls} has label {text!s} unknown to ontology.vocab.Label")
        label = Label(str(text))
        nodes[label] = NodeTypeSpec(
            label=label,
            iri=str(cls),
            description=_text(g, cls, RDFS.comment),
            id_prefixes=frozenset(str(p) for p in g.objects(cls, KG.idPrefix)),
            required=_names(g, cls, KG.requiredProperty),
            optional=_names(g, cls, KG.optionalProperty),
        )

    rels: dict[RelType, RelTypeSpec] = {}
    for rel in g.subjects(RDF.type, OWL.ObjectProperty):
        assert isinstance(rel, URIRef)
        rel_name = _text(g, rel, KG.label)
        if rel_name not in RelType.__members__.values():
            raise SchemaError(f"schema relationship {rel} has label {rel_name!r} unknown to RelType")
        rtype = RelType(rel_name)
        rels[rtype] = RelTypeSpec(
            type=rtype,
            iri=str(rel),
            description=_text(g, rel, RDFS.comment),
            sources=_labels_of(g, rel, KG.allowedSource),
            targets=_labels_of(g, rel, KG.allowedTarget),
            required=_names(g, rel, KG.requiredProperty),
            optional=_names(g, rel, KG.optionalProperty),
            key=_names(g, rel, KG.keyProperty),
            symmetric=(rel, RDF.type, OWL.SymmetricProperty) in g,
        )

    code_systems: dict[str, CodeSystem] = {}
    for cs in g.subjects(RDF.type, KG.CodeSystem):
        assert isinstance(cs, URIRef)
        prefix = _text(g, cs, KG.prefix)
        code_systems[prefix] = CodeSystem(
            prefix=prefix,
            name=_text(g, cs, RDFS.label),
            fhir_system=_text(g, cs, KG.fhirSystem),
            iri_prefix=_text(g, cs, KG.iriPrefix),
        )

    missing_nodes = set(Label) - set(nodes)
    missing_rels = set(RelType) - set(rels)
    if missing_nodes or missing_rels:
        raise SchemaError(f"schema lacks {sorted(missing_nodes)} {sorted(missing_rels)} declared in ontology.vocab")
    declared: list[tuple[str, tuple[str, ...]]] = [(str(s.label), s.properties) for s in nodes.values()]
    declared += [(str(r.type), r.properties) for r in rels.values()]
    for owner, used in declared:
        unknown = set(used) - set(properties)
        if unknown:
            raise SchemaError(f"{owner} uses undeclared properties {sorted(unknown)}")
    for node_spec in nodes.values():
        unknown_prefixes = node_spec.id_prefixes - set(code_systems)
        if unknown_prefixes:
            raise SchemaError(f"{node_spec.label} accepts prefixes without a code system: {sorted(unknown_prefixes)}")

    version = g.value(URIRef(SCHEMA_IRI), OWL.versionInfo)
    return GraphSchema(
        version=str(version) if version is not None else "0",
        nodes=nodes,
        relationships=rels,
        properties=properties,
        code_systems=code_systems,
    )


def load_schema(path: Path | None = None) -> GraphSchema:
    """Parse the schema Turtle file (the packaged one by default)."""
    g = Graph()
    g.parse(path or default_schema_path(), format="turtle")
    return parse_schema(g)
