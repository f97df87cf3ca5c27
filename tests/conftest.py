"""Shared fixtures. Real data comes from ../shared/data beside the checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from kgcds.settings import default_data_dir
from ontology.schema import GraphSchema, load_schema


@pytest.fixture(scope="session")
def schema() -> GraphSchema:
    return load_schema()


@pytest.fixture(scope="session")
def shared_data() -> Path:
    path = default_data_dir()
    if not path.is_dir():
        pytest.fail(f"shared data not found at {path}: tests need ../shared/data beside the checkout")
    return path
