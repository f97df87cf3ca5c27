"""The registry of source adapters a full load runs, in dependency-free order."""

from __future__ import annotations

from graph_loader.adapter import SourceAdapter
from graph_loader.config import SourcePaths


def default_adapters(paths: SourcePaths) -> list[SourceAdapter]:
    """Every adapter whose source is supplied. Missing optional sources are skipped."""
    adapters: list[SourceAdapter] = []
    # Each group below is registered by the module that owns the source. Imports stay local: some
    # sources' packages are slow to import (simple-icd-10-cm parses its XML at import, ~3 s), and
    # importing this registry should not pay for them.
    # --- phenotype / disease / gene sources ---
    from graph_loader.adapters.hpo import hpo_adapters
    from graph_loader.adapters.icd10cm import Icd10CmAdapter
    from graph_loader.adapters.lab_tests import LabTestsAdapter

    adapters += [*hpo_adapters(paths), Icd10CmAdapter.installed(), LabTestsAdapter.from_yaml()]
    # --- drug vocabulary sources ---
    from graph_loader.adapters.drug_vocabulary import drug_adapters
    from graph_loader.drug_identity import shared_resolver

    drugs = shared_resolver(paths)  # built once; interaction/PGx adapters below reuse it
    adapters += drug_adapters(paths, drugs)
    # --- interaction and pharmacogenomic sources ---
    from graph_loader.adapters.interaction_sources import interaction_adapters

    adapters += interaction_adapters(paths, drugs)
    return adapters
