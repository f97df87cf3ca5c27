"""Allergy / cross-sensitivity groups: ALLERGYGROUP DrugClass nodes, their members, and group cross-reactions.

Members come from the seed file (derived from DrugCentral; incomplete by design) plus the
``extra_members`` of the project's curated YAML; cross-reactions between groups come only
from that YAML, which is validated strictly (unknown keys, groups or risk values refused).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, model_validator

from graph_loader.adapter import Row, source_tag
from graph_loader.config import SourcePaths
from graph_loader.curated import read_curated
from graph_loader.drug_identity import DrugResolver
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow
from ontology.vocab import ClassType, Label, RelType

CURATED_FILE = "allergy_cross_reactivity.yaml"
_SEED_CLASS_PREFIX = {"MeSH": "MESH", "FDA": "NDFRT"}


class AllergyGroupSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    note: str | None = None
    extra_members: list[str] = Field(default_factory=list)
    synonyms: list[str] = Field(default_factory=list)
    """Other phrases allergy records name the group by (``PCN``, ``sulfa``): see :mod:`ontology.allergen_text`."""


class CrossReaction(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    from_group: str = Field(alias="from")
    to_group: str = Field(alias="to")
    risk: Literal["high", "moderate", "low"]
    description: str = Field(min_length=1)
    references: list[str] = Field(min_length=1)


class AllergyCurations(BaseModel):
    """The curated YAML as a whole."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str
    groups: dict[str, AllergyGroupSpec]
    cross_reactions: list[CrossReaction]

    @model_validator(mode="after")
    def _groups_exist(self) -> AllergyCurations:
        for i, reaction in enumerate(self.cross_reactions):
            for end in (reaction.from_group, reaction.to_group):
                if end not in self.groups:
                    raise ValueError(f"cross_reactions[{i}]: group {end!r} is not listed under groups")
            if reaction.from_group == reaction.to_group:
                raise ValueError(
                    f"cross_reactions[{i}]: {reaction.from_group!r} -> itself; same-group risk is membership"
                )
        return self


def load_allergy_curations(path: Path | None = None) -> AllergyCurations:
    """Read and validate the curated YAML (the packaged one unless ``path`` is given)."""
    return AllergyCurations.model_validate(read_curated(CURATED_FILE, path))


def group_id(group: str) -> str:
    return f"ALLERGYGROUP:{group}"


class AllergyGroupsAdapter:
    name = "allergy_groups"

    def __init__(self, paths: SourcePaths, resolver: DrugResolver, curated: AllergyCurations) -> None:
        seed = paths.resolve("allergy_seed")
        if seed is None:
            raise ValueError("allergy_seed: path not supplied")
        self._seed = seed
        self._resolver = resolver
        self._curated = curated

    @classmethod
    def from_paths(cls, paths: SourcePaths, resolver: DrugResolver) -> AllergyGroupsAdapter:
        return cls(paths, resolver, load_allergy_curations())

    @property
    def version(self) -> str:
        return f"seed+curated-{self._curated.version}"

    def _resolve_seed_row(self, row: dict[str, str | None]) -> str | None:
        drug = self._resolver.by_drugcentral(row["drugcentral_id"] or "")
        if drug:
            return drug
        for drugbank_id in (row["drugbank_id"] or "").split(";"):
            drug = self._resolver.resolve(rxcui=row["rxnorm_ingredient_rxcui"], drugbank_id=drugbank_id.strip())
            if drug:
                return drug
        return self._resolver.resolve(unii=row["unii"], name=row["ingredient_name"])

    def rows(self) -> Iterator[Row]:
        tag = source_tag(self)
        seed = pl.read_csv(self._seed, infer_schema_length=0, quote_char='"').with_row_index("line", 2)
        xrefs: dict[str, dict[str, None]] = {}
        members: dict[tuple[str, str], str] = {}  # (drug, group) -> origin
        for row in seed.iter_rows(named=True):
            group, origin = row["allergy_group"], f"{self.name}:{row['line']}"
            prefix = _SEED_CLASS_PREFIX.get(row["class_source"] or "")
            group_xrefs = xrefs.setdefault(group, {})
            if prefix and row["class_id"]:
                group_xrefs[f"{prefix}:{row['class_id']}"] = None
            drug = self._resolve_seed_row(row)
            if drug is None:
                reason = f"member of {group_id(group)}: " + self._resolver.unresolved_reason(row["ingredient_name"])
                yield UnmappedReference(origin, row["ingredient_name"], reason)
                continue
            members.setdefault((drug, group), origin)
        for group, spec in self._curated.groups.items():
            xrefs.setdefault(group, {})
            for name in spec.extra_members:
                origin = f"{self.name}:{CURATED_FILE}:{group}"
                drug = self._resolver.by_name(name)
                if drug is None:
                    reason = f"curated member of {group_id(group)}: " + self._resolver.unresolved_reason(name)
                    yield UnmappedReference(origin, name, reason)
                    continue
                members.setdefault((drug, group), origin)
        for group, group_xrefs in xrefs.items():
            curated = self._curated.groups.get(group)
            props = {
                "name": curated.name if curated else group.replace("_", " ").capitalize(),
                "class_type": ClassType.ALLERGY_GROUP.value,
                "xrefs": list(group_xrefs),
                "sources": [tag],
            }
            if curated and curated.synonyms:
                props["synonyms"] = list(curated.synonyms)
            yield NodeRow(Label.DRUG_CLASS, group_id(group), props, f"{self.name}:{group}")
        for (drug, group), origin in members.items():
            yield EdgeRow(RelType.MEMBER_OF_CLASS, drug, group_id(group), {"source": tag}, origin)
        for reaction in self._curated.cross_reactions:
            props = {
                "source": tag,
                "risk": reaction.risk,
                "description": " ".join(reaction.description.split()),
                "references": reaction.references,
            }
            origin = f"{self.name}:{CURATED_FILE}:{reaction.from_group}->{reaction.to_group}"
            yield EdgeRow(
                RelType.CROSS_REACTS_WITH, group_id(reaction.from_group), group_id(reaction.to_group), props, origin
            )
