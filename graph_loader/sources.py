"""The registry of source adapters a full load runs, in dependency-free order."""

from __future__ import annotations

from graph_loader.adapter import SourceAdapter
from graph_loader.config import SourcePaths


def default_adapters(paths: SourcePaths) -> list[SourceAdapter]:
    """Every adapter whose source is supplied. Missing optional sources are skipped."""
    adapters: list[SourceAdapter] = []
    # Each group below is registered by the module that owns the source.
    # --- phenotype / disease / gene sources ---
    # --- drug vocabulary sources ---
    # --- interaction and pharmacogenomic sources ---
    return adapters
