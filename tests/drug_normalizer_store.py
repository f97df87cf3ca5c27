"""A small real drug store for the normaliser tests: the drug vocabulary and RxNorm product adapters
run on the shared files, with the two product files cut to a few hundred rows (warfarin,
metoprolol, amoxicillin/clavulanate, drospirenone packs) so the build takes seconds.

The 2016 product map is cut to warfarin and metoprolol only, so "Amoxicillin 500 MG Oral
Capsule" (RXNORM:308191) is a code this store does not know, as in the shipped 2025 file.
"""

from __future__ import annotations

import re
from pathlib import Path

from graph_loader.adapters.drug_vocabulary import drug_adapters
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver
from graph_loader.pipeline import load_graph
from graph_store.embedded import EmbeddedGraphStore
from ontology.schema import GraphSchema

PRODUCTS_2025_KEEP = re.compile(r"warfarin|metoprolol|clavulanate|drospirenone", re.IGNORECASE)
PRODUCTS_2016_KEEP = re.compile(r"warfarin|metoprolol", re.IGNORECASE)
DRUG_ADAPTERS = frozenset({"drug_vocabulary", "rxnorm"})


def _slice(source: Path, target: Path, keep: re.Pattern[str]) -> None:
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    target.write_text(lines[0] + "".join(line for line in lines[1:] if keep.search(line)), encoding="utf-8")


def drug_store(root: Path, shared_data: Path, schema: GraphSchema) -> EmbeddedGraphStore:
    """The sliced drug store under ``root``, built on first use and reused afterwards."""
    store = EmbeddedGraphStore(root / "store", schema)
    if store.current_generation() is not None:
        return store
    root.mkdir(parents=True, exist_ok=True)
    defaults = SourcePaths(data_dir=shared_data)
    products_2025 = root / "products_2025.csv"
    products_2016 = root / "products_2016.tsv"
    _slice(defaults.resolve("rxnorm_products") or Path(), products_2025, PRODUCTS_2025_KEEP)
    _slice(defaults.resolve("rxnorm_products_2016") or Path(), products_2016, PRODUCTS_2016_KEEP)
    paths = SourcePaths(data_dir=shared_data, rxnorm_products=products_2025, rxnorm_products_2016=products_2016)
    adapters = [a for a in drug_adapters(paths, DrugResolver.from_paths(paths)) if a.name in DRUG_ADAPTERS]
    load_graph(store, adapters, schema)
    return store
