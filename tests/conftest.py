"""Shared fixtures. Real data comes from ../shared/data beside the checkout."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from kgcds.settings import default_data_dir
from ontology.schema import GraphSchema, load_schema
from tests.bolt_server import BoltTarget, arcadedb_server, external_target


@pytest.fixture(scope="session")
def schema() -> GraphSchema:
    return load_schema()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = default_data_dir()
    if not path.is_dir():
        pytest.fail(f"shared data not found at {path}: tests need ../shared/data beside the checkout")
    return path


# ---- Bolt server (Neo4j store tests) ----------------------------------------------
@pytest.fixture(scope="session")
def bolt_target(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BoltTarget]:
    """A Bolt server for the session: ``KGCDS_TEST_NEO4J_URI`` if set, else ArcadeDB started on loopback."""
    external = external_target()
    if external is not None:
        yield external
        return
    with arcadedb_server(tmp_path_factory.mktemp("arcadedb")) as target:
        yield target
