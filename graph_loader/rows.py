"""The rows adapters yield and stores receive.

Adapters know nothing of stores: they yield these plain rows, and the pipeline
validates them against the schema before any store sees them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ontology.vocab import Label, RelType

PropValue = str | int | float | bool | list[str]
Props = dict[str, Any]


@dataclass(frozen=True, slots=True)
class NodeRow:
    label: Label
    id: str
    props: Props
    origin: str = field(default="", compare=False)
    """Where the row came from (``source:line``), for the load report; never stored."""


@dataclass(frozen=True, slots=True)
class EdgeRow:
    type: RelType
    source: str
    target: str
    props: Props
    origin: str = field(default="", compare=False)

    def key(self, key_props: tuple[str, ...]) -> tuple[str, ...]:
        """Identity of the edge: type, endpoints and the schema's key properties."""
        return (self.type.value, self.source, self.target, *(str(self.props.get(p, "")) for p in key_props))
