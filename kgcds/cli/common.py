"""Options and helpers shared by the subcommands."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from graph_store.contract import GraphStore, StoreError
from graph_store.factory import open_embedded
from kgcds.settings import Settings
from ontology.schema import GraphSchema

F = TypeVar("F", bound=Callable[..., Any])


class CliError(click.ClickException):
    """Bad input or an unusable store: a one-line message and exit code 2, never a traceback."""

    exit_code = 2


def store_option(func: F) -> F:
    return click.option(
        "--store",
        "store",
        default=None,
        metavar="URI",
        help="'embedded' (default), a directory for the embedded store, or bolt://host:port "
        "(also neo4j://, neo4j+s://, bolt+s://). Env: KGCDS_STORE.",
    )(func)


def build_settings(**overrides: Any) -> Settings:
    values = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**values)
    except ValueError as exc:
        raise CliError(f"invalid settings: {exc}") from exc


def open_store(settings: Settings, schema: GraphSchema) -> GraphStore:
    if settings.is_bolt:
        try:
            from graph_store.neo4j_store import Neo4jGraphStore
        except ImportError as exc:  # pragma: no cover - the module ships with the package
            raise CliError(f"the Neo4j store is not available: {exc}") from exc
        try:
            bolt_store: GraphStore = Neo4jGraphStore.connect(
                settings.store,
                schema,
                user=settings.neo4j_user,
                password=settings.neo4j_password.get_secret_value(),
                database=settings.neo4j_database,
                batch_size=settings.neo4j_batch_size,
            )
            return bolt_store
        except StoreError as exc:
            raise CliError(str(exc)) from exc
    return open_embedded(settings.embedded_path, schema)
