"""The interaction and pharmacogenomic group of a load, the twin of ``drug_vocabulary.drug_adapters``."""

from __future__ import annotations

from graph_loader.adapter import SourceAdapter
from graph_loader.adapters.ansm_english_subset import AnsmEnglishSubsetAdapter
from graph_loader.adapters.ansm_thesaurus import AnsmThesaurusAdapter
from graph_loader.adapters.cpic import CpicAdapter
from graph_loader.adapters.onc_ddi import OncClassPairsAdapter, OncPairListAdapter
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver


def interaction_adapters(paths: SourcePaths, resolver: DrugResolver) -> list[SourceAdapter]:
    """ONC, ANSM and CPIC adapters whose source is supplied, sharing one drug resolver."""
    candidates = [
        OncPairListAdapter.high_priority(paths, resolver),
        OncPairListAdapter.non_interruptive(paths, resolver),
        OncClassPairsAdapter.from_paths(paths, resolver),
        AnsmEnglishSubsetAdapter.from_paths(paths, resolver),
        AnsmThesaurusAdapter.from_paths(paths, resolver),
        CpicAdapter.from_paths(paths, resolver),
    ]
    return [a for a in candidates if a is not None]
