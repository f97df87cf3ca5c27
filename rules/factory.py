"""One call for the API's start-up: compiled knowledge + validated rules -> a reloadable engine."""

from __future__ import annotations

from pathlib import Path

from graph_store.contract import GraphStore
from knowledge_index.allergy import AllergyIndex
from knowledge_index.drug_classes import DrugClassIndex
from knowledge_index.interactions import InteractionIndex
from rules.graph_knowledge import knowledge_from_indexes
from rules.reload import ReloadingEngine
from rules.ruleset import DEFAULT_LIBRARY


def build_engine(
    store: GraphStore,
    classes: DrugClassIndex | None = None,
    interactions: InteractionIndex | None = None,
    allergy: AllergyIndex | None = None,
    rules_dir: Path = DEFAULT_LIBRARY,
    overrides: Path | None = None,
) -> ReloadingEngine:
    """Reads the store once; raises :class:`rules.loader.RuleSetError` when the rules are invalid.

    Pass the indexes the caller already compiled (classes, interactions, allergy) so they are not built twice.
    """
    class_index = classes if classes is not None else DrugClassIndex.from_store(store)
    interaction_index = interactions if interactions is not None else InteractionIndex.from_store(store)
    knowledge = knowledge_from_indexes(store, class_index, interaction_index, allergy)
    return ReloadingEngine.load(knowledge, rules_dir, overrides)
