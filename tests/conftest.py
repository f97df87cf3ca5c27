"""Shared fixtures. Real data comes from ../shared/data beside the checkout."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kgcds.native import is_compiled, mismatch
from kgcds.settings import default_data_dir
from ontology.schema import GraphSchema, load_schema
from tests.bolt_server import BoltTarget, arcadedb_server, external_target


def pytest_sessionstart(session: pytest.Session) -> None:
    """Test the code the sources say: refuse a stale mypyc build, and (``KGCDS_EXPECT_NATIVE``, set by
    ``make unit``) a session that would run interpreted when compiled modules were asked for, or the reverse."""
    reason = mismatch()
    if reason is not None:
        pytest.exit(f"compiled modules are stale: {reason}. Run `make native` (or NATIVE=0 to remove them).", 2)
    expected = os.environ.get("KGCDS_EXPECT_NATIVE")
    compiled = is_compiled()
    if expected in ("0", "1") and (expected == "1") != compiled:
        state = "compiled" if compiled else "interpreted"
        pytest.exit(f"KGCDS_EXPECT_NATIVE={expected} but the hot path would run {state}", 2)


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
