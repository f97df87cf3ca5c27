"""The compiled knowledge index: everything the hot path reads, built once from any graph store.

After :func:`compile_index` returns, nothing here touches the store again; serving keeps
answering from this object even if the store goes away.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from graph_store.contract import GraphStore, StoreError
from knowledge_index.drug_classes import DrugClassIndex
from knowledge_index.drug_lexicon import build_drug_lexicon
from knowledge_index.frame_cache import FrameCachingStore
from knowledge_index.hierarchy import Hierarchy
from knowledge_index.interactions import InteractionIndex
from ontology.condition_codes import ConditionCodeMapper
from ontology.curie import CodeSystemMap
from ontology.drug_normalizer import DrugLexicon
from ontology.schema import GraphSchema, load_schema
from ontology.vocab import Label

LOG = logging.getLogger("kgcds.index")


class EmptyGraphError(StoreError):
    """The store holds no graph: there is nothing to compile (run ``kgcds load`` first)."""


@dataclass(frozen=True, slots=True)
class KnowledgeIndex:
    metadata: Mapping[str, str]
    """What the store recorded at load time (source versions, build time)."""
    drug_lexicon: DrugLexicon
    """Codes, names, brands and products -> ingredient ids."""
    drug_classes: DrugClassIndex
    """Ingredient -> classes (with IS_A ancestors) and class -> members."""
    interactions: InteractionIndex
    """Interaction lookup by ingredient and by class."""
    conditions: ConditionCodeMapper
    """FHIR condition codings -> graph condition ids."""
    disease_hierarchy: Hierarchy
    phenotype_hierarchy: Hierarchy
    class_hierarchy: Hierarchy
    compile_seconds: Mapping[str, float]


def _condition_mapper(store: GraphStore, schema: GraphSchema) -> ConditionCodeMapper:
    known: set[str] = set()
    xrefs: dict[str, list[str]] = {}
    for label in (Label.DISEASE, Label.PHENOTYPE):
        frame = store.nodes_frame(label)
        known.update(frame["id"].to_list())
        if "xrefs" in frame.columns:
            pairs = frame.select("id", "xrefs").drop_nulls("xrefs").explode("xrefs")
            for node_id, xref in pairs.iter_rows():
                xrefs.setdefault(xref, []).append(node_id)
    return ConditionCodeMapper(CodeSystemMap.from_schema(schema), frozenset(known), xrefs)


def compile_index(store: GraphStore, schema: GraphSchema | None = None) -> KnowledgeIndex:
    """Read the store once and build every lookup structure the engine and API need."""
    schema = schema or load_schema()
    store = FrameCachingStore(store)
    if not store.node_counts():
        raise EmptyGraphError(f"{store.description} holds no graph: run `kgcds load` first")
    timings: dict[str, float] = {}

    def timed(name: str, started: float) -> None:
        timings[name] = round(time.perf_counter() - started, 3)

    t = time.perf_counter()
    lexicon = build_drug_lexicon(store, schema)
    timed("drug_lexicon", t)
    t = time.perf_counter()
    classes = DrugClassIndex.from_store(store)
    timed("drug_classes", t)
    t = time.perf_counter()
    interactions = InteractionIndex.from_store(store)
    timed("interactions", t)
    t = time.perf_counter()
    conditions = _condition_mapper(store, schema)
    timed("conditions", t)
    t = time.perf_counter()
    disease_h = Hierarchy.from_store(store, Label.DISEASE)
    phenotype_h = Hierarchy.from_store(store, Label.PHENOTYPE)
    class_h = Hierarchy.from_store(store, Label.DRUG_CLASS)
    timed("hierarchies", t)
    LOG.info("compiled knowledge index from %s: %s", store.description, timings)
    metadata = dict(store.metadata())
    store.close()
    return KnowledgeIndex(
        metadata=metadata,
        drug_lexicon=lexicon,
        drug_classes=classes,
        interactions=interactions,
        conditions=conditions,
        disease_hierarchy=disease_h,
        phenotype_hierarchy=phenotype_h,
        class_hierarchy=class_h,
        compile_seconds=timings,
    )
