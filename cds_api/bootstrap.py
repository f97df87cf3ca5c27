"""Start-up wiring: the store is read once, here, into the in-memory index the hot path uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cds_api.index_terminology import LexiconTerminology
from graph_store.contract import GraphStore
from knowledge_index.allergy import AllergyIndex
from knowledge_index.compiled import KnowledgeIndex, compile_index
from ontology.curie import CodeSystemMap
from ontology.schema import GraphSchema
from rules.factory import build_engine
from rules.reload import ReloadingEngine
from rules.ruleset import DEFAULT_LIBRARY


@dataclass(frozen=True, slots=True)
class CompiledServices:
    index: KnowledgeIndex
    terminology: LexiconTerminology
    engine: ReloadingEngine


def compile_services(
    store: GraphStore,
    schema: GraphSchema,
    rules_dir: Path | None = None,
    overrides: Path | None = None,
) -> CompiledServices:
    """Raises ``EmptyGraphError`` for an empty store and :class:`rules.loader.RuleSetError` for an
    invalid rule set: nothing is served then."""
    index = compile_index(store, schema)
    terminology = LexiconTerminology(
        index.drug_lexicon, AllergyIndex.from_store(store), CodeSystemMap.from_schema(schema), index.conditions
    )
    engine = build_engine(
        store,
        classes=index.drug_classes,
        interactions=index.interactions,
        rules_dir=rules_dir or DEFAULT_LIBRARY,
        overrides=overrides,
    )
    return CompiledServices(index, terminology, engine)
