"""Turn driver and server errors into :class:`StoreError` messages a user can act on.

One place maps every failure, so each message names the server and the cause, and
none ever includes the password (the driver never puts it into its own messages;
we only ever format the URI, user and database).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import neo4j.exceptions as nx

from graph_store.contract import StoreError


def _server_message(exc: nx.Neo4jError) -> str:
    # Neo4j 5 servers append GQL status details to str(exc); the message alone is what the user needs.
    return (exc.message or str(exc)).strip()


def describe_failure(where: str, user: str, database: str | None, exc: Exception) -> str:
    """One line: the CLI prints it as is."""
    return " ".join(_describe(where, user, database, exc).split())


def _describe(where: str, user: str, database: str | None, exc: Exception) -> str:
    db = f"database {database!r}" if database else "the default database"
    if isinstance(exc, nx.AuthError):
        return f"{where}: authentication failed for user {user!r} (check KGCDS_NEO4J_USER / KGCDS_NEO4J_PASSWORD)"
    if isinstance(exc, nx.ServiceUnavailable):
        return f"{where}: server unreachable ({exc})"
    if isinstance(exc, nx.Neo4jError):
        code = exc.code or ""
        if code.endswith("DatabaseNotFound"):
            return f"{where}: {db} does not exist (check KGCDS_NEO4J_DATABASE): {_server_message(exc)}"
        if isinstance(exc, nx.ConstraintError) or ".Schema.Constraint" in code:
            return f"{where}: constraint violation in {db}: {_server_message(exc)}"
        if code.startswith("Neo.ClientError.Security"):
            return f"{where}: access denied to {db} for user {user!r}: {_server_message(exc)}"
        return f"{where}: {code or 'server error'}: {_server_message(exc)}"
    if isinstance(exc, nx.ConfigurationError):
        return f"{where}: invalid connection settings: {exc}"
    if isinstance(exc, nx.DriverError):
        return f"{where}: driver error: {type(exc).__name__}: {exc}"
    return f"{where}: {type(exc).__name__}: {exc}"


@contextmanager
def store_errors(where: str, user: str, database: str | None) -> Iterator[None]:
    """Re-raise any driver or server error inside the block as a :class:`StoreError`."""
    try:
        yield
    except StoreError:
        raise
    except (nx.Neo4jError, nx.DriverError) as exc:
        raise StoreError(describe_failure(where, user, database, exc)) from exc
