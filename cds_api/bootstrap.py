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
from knowledge_index.frame_cache import FrameCachingStore
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
    # Every part below reads some of the same tables; over Bolt each read streams them again.
    cached = FrameCachingStore(store)
    index = compile_index(cached, schema)
    allergy = AllergyIndex.from_store(cached)
    terminology = LexiconTerminology(index.drug_lexicon, allergy, CodeSystemMap.from_schema(schema), index.conditions)
    engine = build_engine(
        cached,
        classes=index.drug_classes,
        interactions=index.interactions,
        allergy=allergy,
        rules_dir=rules_dir or DEFAULT_LIBRARY,
        overrides=overrides,
    )
    ddx = compile_ddx(cached, index) if with_ddx else None
    cached.close()
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
