"""Start-up wiring: the store is read once, here, into the in-memory index the hot path uses."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from cds_api.ddx_service import PatientViewDiagnosis
from cds_api.diagnosis import Diagnosis
from cds_api.fhir_phenotypes import PhenotypeExtractor
from cds_api.index_terminology import LexiconTerminology
from ddx_ranker.engine import DdxEngine
from ddx_ranker.learned import LearnedRanker, ModelError
from graph_store.contract import GraphStore
from knowledge_index.allergy import AllergyIndex
from knowledge_index.compiled import KnowledgeIndex, compile_index
from knowledge_index.phenotype import PhenotypeIndex, PhenotypeIndexError
from ontology.curie import CodeSystemMap
from ontology.schema import GraphSchema
from rules.factory import build_engine
from rules.reload import ReloadingEngine
from rules.ruleset import DEFAULT_LIBRARY

LOG = logging.getLogger("kgcds.api")


@dataclass(frozen=True, slots=True)
class CompiledServices:
    index: KnowledgeIndex
    terminology: LexiconTerminology
    engine: ReloadingEngine
    ddx: PatientViewDiagnosis | None = None
    """The differential-diagnosis engine; None when the store holds no phenotype annotations."""


def compile_services(
    store: GraphStore,
    schema: GraphSchema,
    rules_dir: Path | None = None,
    overrides: Path | None = None,
    *,
    with_ddx: bool = True,
) -> CompiledServices:
    """Raises ``EmptyGraphError`` for an empty store and :class:`rules.loader.RuleSetError` for an
    invalid rule set: nothing is served then. A store without phenotype data still serves the
    medication services, without differential diagnosis."""
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
    ddx = compile_ddx(store, index) if with_ddx else None
    return CompiledServices(index, terminology, engine, ddx)


def compile_ddx(store: GraphStore, index: KnowledgeIndex) -> PatientViewDiagnosis | None:
    """The phenotype index and the shipped learned ranker (the likelihood-ratio baseline without it)."""
    try:
        phenotypes = PhenotypeIndex.from_store(store)
    except PhenotypeIndexError as exc:
        LOG.warning("differential diagnosis not served: %s", exc)
        return None
    try:
        model = LearnedRanker.shipped()
    except ModelError as exc:
        LOG.warning("differential diagnosis falls back to the likelihood-ratio ranker: %s", exc)
        model = None
    diagnosis = Diagnosis.from_engine(DdxEngine.compile(phenotypes, model))
    return PatientViewDiagnosis(diagnosis, PhenotypeExtractor(index.conditions))
