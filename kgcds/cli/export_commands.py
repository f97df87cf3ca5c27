"""``kgcds export``: the whole graph as RDF."""

from __future__ import annotations

import time
from pathlib import Path

import click

from graph_store.contract import StoreError
from graph_store.rdf_export import export_store
from kgcds.cli.common import CliError, build_settings, open_store, store_option
from ontology.curie import CurieError
from ontology.rdf_export import RdfFormat
from ontology.schema import load_schema


@click.command("export")
@store_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["turtle", "nt"]),
    default="turtle",
    show_default=True,
    help="Turtle (prefixed, grouped by node) or N-Triples (one triple a line).",
)
@click.argument("file", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def export_command(store: str | None, fmt: RdfFormat, file: Path) -> None:
    """Write the whole graph and its schema ontology as RDF to FILE.

    Nodes become IRIs of their code system typed with the schema class; edges become
    triples plus an rdf:Statement carrying their properties (source, frequency ...).
    """
    if not file.parent.is_dir():
        raise CliError(f"FILE: directory {file.parent} does not exist")
    settings = build_settings(store=store)
    schema = load_schema()
    target = open_store(settings, schema)
    started = time.perf_counter()
    try:
        counts = export_store(target, schema, file, fmt)
    except (StoreError, CurieError, ValueError) as exc:
        raise CliError(f"export failed: {exc}") from exc
    finally:
        target.close()
    click.echo(
        f"wrote {counts.triples:,} triples ({counts.nodes:,} nodes, {counts.edges:,} edges) "
        f"to {file} in {time.perf_counter() - started:.1f} s"
    )
