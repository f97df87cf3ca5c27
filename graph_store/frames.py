"""Row <-> polars frame conversion with column types taken from the schema.

Shared by every store that hands out frames, so a notebook sees the same columns
whichever backend it reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import polars as pl

from graph_loader.rows import EdgeRow, NodeRow
from ontology.schema import GraphSchema, PropertySpec
from ontology.vocab import Label, RelType


def polars_type(spec: PropertySpec) -> pl.DataType:
    if spec.multivalued:
        return pl.List(pl.String())
    return {
        "string": pl.String(),
        "float": pl.Float64(),
        "integer": pl.Int64(),
        "boolean": pl.Boolean(),
    }[spec.datatype]


def node_frame_schema(schema: GraphSchema, label: Label) -> dict[str, pl.DataType]:
    spec = schema.nodes[label]
    cols: dict[str, pl.DataType] = {"id": pl.String()}
    for name in spec.properties:
        cols[name] = polars_type(schema.properties[name])
    return cols


def edge_frame_schema(schema: GraphSchema, rel_type: RelType) -> dict[str, pl.DataType]:
    spec = schema.relationships[rel_type]
    cols: dict[str, pl.DataType] = {"source_id": pl.String(), "target_id": pl.String()}
    for name in spec.properties:
        cols[name] = polars_type(schema.properties[name])
    return cols


def _coerce(value: Any, dtype: pl.DataType) -> Any:
    # Integers stored in float columns must be floats, or polars refuses the column.
    if isinstance(dtype, pl.Float64) and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def nodes_to_frame(schema: GraphSchema, label: Label, rows: Sequence[NodeRow]) -> pl.DataFrame:
    cols = node_frame_schema(schema, label)
    data: dict[str, list[Any]] = {c: [] for c in cols}
    for row in rows:
        data["id"].append(row.id)
        for name, dtype in list(cols.items())[1:]:
            data[name].append(_coerce(row.props.get(name), dtype))
    return pl.DataFrame(data, schema=cols)


def edges_to_frame(schema: GraphSchema, rel_type: RelType, rows: Sequence[EdgeRow]) -> pl.DataFrame:
    cols = edge_frame_schema(schema, rel_type)
    data: dict[str, list[Any]] = {c: [] for c in cols}
    for row in rows:
        data["source_id"].append(row.source)
        data["target_id"].append(row.target)
        for name, dtype in list(cols.items())[2:]:
            data[name].append(_coerce(row.props.get(name), dtype))
    return pl.DataFrame(data, schema=cols)


def _props(record: dict[str, Any], skip: Iterable[str]) -> dict[str, Any]:
    skipped = set(skip)
    return {k: v for k, v in record.items() if k not in skipped and v is not None}


def frame_to_nodes(label: Label, frame: pl.DataFrame) -> Iterator[NodeRow]:
    for record in frame.iter_rows(named=True):
        yield NodeRow(label, record["id"], _props(record, ("id",)))


def frame_to_edges(rel_type: RelType, frame: pl.DataFrame) -> Iterator[EdgeRow]:
    for record in frame.iter_rows(named=True):
        yield EdgeRow(rel_type, record["source_id"], record["target_id"], _props(record, ("source_id", "target_id")))
