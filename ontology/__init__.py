"""The kgcds ontology: graph schema (labels, relationship types, properties, code systems) and code mapping."""

from ontology.schema import GraphSchema, NodeTypeSpec, PropertySpec, RelTypeSpec, load_schema
from ontology.vocab import Label, RelType, Severity

__all__ = [
    "GraphSchema",
    "Label",
    "NodeTypeSpec",
    "PropertySpec",
    "RelType",
    "RelTypeSpec",
    "Severity",
    "load_schema",
]
