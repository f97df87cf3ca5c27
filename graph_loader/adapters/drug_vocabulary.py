"""Drug (ingredient) nodes: one per canonical ingredient the :class:`DrugResolver` knows."""

from __future__ import annotations

from collections.abc import Iterator

from graph_loader.adapter import Row, SourceAdapter
from graph_loader.adapters.active_moieties import ActiveMoietiesAdapter
from graph_loader.adapters.allergy_groups import AllergyGroupsAdapter
from graph_loader.adapters.atc import AtcAdapter
from graph_loader.adapters.drug_indications import DrugCentralIndicationsAdapter, PharmacotherapyDBAdapter
from graph_loader.adapters.drugcentral_classes import DrugCentralClassesAdapter
from graph_loader.adapters.rxnorm import RxNormProductsAdapter
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver
from graph_loader.report import UnmappedReference


class DrugVocabularyAdapter:
    """Yields the resolver's Drug nodes, the crosswalk conflicts met while building it, and ambiguous names.

    An ambiguous name (one spelling, several ingredients) is never resolved; listing each one
    in the load report tells a curator which names need an explicit mapping.
    """

    name = "drug_vocabulary"

    def __init__(self, resolver: DrugResolver) -> None:
        self._resolver = resolver

    @property
    def version(self) -> str:
        return self._resolver.version

    def rows(self) -> Iterator[Row]:
        yield from self._resolver.drug_nodes()
        yield from self._resolver.build_problems()
        for name, ids in sorted(self._resolver.ambiguous_names().items()):
            reason = f"ambiguous drug name: {', '.join(sorted(ids))}"
            yield UnmappedReference(f"{self.name}:names", name, reason)


def drug_adapters(paths: SourcePaths, resolver: DrugResolver) -> list[SourceAdapter]:
    """The drug vocabulary group of a load, in order: ingredients and their moieties, products, classes,
    indications."""
    adapters: list[SourceAdapter] = [DrugVocabularyAdapter(resolver), ActiveMoietiesAdapter(resolver)]
    if paths.rxnorm_products is not None or paths.rxnorm_products_2016 is not None:
        adapters.append(RxNormProductsAdapter(paths, resolver))
    if paths.drugcentral_pharm_class is not None:
        adapters.append(DrugCentralClassesAdapter(paths, resolver))
    if paths.drugcentral_indications is not None:
        adapters.append(DrugCentralIndicationsAdapter(paths, resolver))
    if paths.pharmacotherapydb_indications is not None:
        adapters.append(PharmacotherapyDBAdapter(paths, resolver))
    if paths.allergy_seed is not None:
        adapters.append(AllergyGroupsAdapter.from_paths(paths, resolver))
    atc = AtcAdapter.from_paths(paths, resolver)
    if atc is not None:
        adapters.append(atc)
    return adapters
