"""``HAS_ACTIVE_MOIETY`` edges: a salt- or ester-named ingredient -> the ingredient that acts.

Interaction sources state lithium, potassium, iron and calcium interactions for the moiety,
but prescriptions name the salt, which RxNorm keeps as an ingredient of its own:

    lithium (RXNORM:6448) <- HAS_ACTIVE_MOIETY - lithium carbonate (RXNORM:42351)
                          <- HAS_ACTIVE_MOIETY - lithium citrate (RXNORM:52105)
    iron (RXNORM:90176)   <- HAS_ACTIVE_MOIETY - ferrous sulfate, ferrous gluconate, ...
    valproate (RXNORM:40254) <- HAS_ACTIVE_MOIETY - divalproex sodium (curated)

Without the edge, lithium carbonate + hydrochlorothiazide would screen clean. The name rule
lives in :func:`ontology.drug_names.moiety_name`; the resolver only links a name to the one
ingredient that has it as its primary name. Forms whose names do not spell their moiety are
listed in ``graph_loader/curated/active_moieties.yaml``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from graph_loader.adapter import Row, source_tag
from graph_loader.curated import read_curated
from graph_loader.drug_identity import DrugResolver
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow
from ontology.vocab import RelType

RULE_VERSION = "salt-names-2"
CURATED_FILE = "active_moieties.yaml"


class CuratedForm(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    form: str = Field(min_length=1)
    moiety: str = Field(min_length=1)
    why: str = Field(min_length=1)


class CuratedMoieties(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: str = Field(min_length=1)
    forms: list[CuratedForm]


def load_curated_moieties(path: Path | None = None) -> CuratedMoieties:
    """Read and validate the curated YAML (the packaged one unless ``path`` is given)."""
    return CuratedMoieties.model_validate(read_curated(CURATED_FILE, path))


class ActiveMoietiesAdapter:
    name = "active_moieties"

    def __init__(self, resolver: DrugResolver, curated: CuratedMoieties | None = None) -> None:
        self._resolver = resolver
        self._curated = curated or load_curated_moieties()

    @property
    def version(self) -> str:
        return f"{RULE_VERSION}+curated-{self._curated.version}+{self._resolver.version}"

    def rows(self) -> Iterator[Row]:
        tag = source_tag(self)
        linked: set[str] = set()
        for form, moiety, form_name in self._resolver.active_moieties():
            moiety_name = self._resolver.name_of(moiety) or moiety
            props = {"source": tag, "evidence": f"{form_name} is a salt or ester of {moiety_name} (by name)"}
            linked.add(form)
            yield EdgeRow(RelType.HAS_ACTIVE_MOIETY, form, moiety, props, f"{self.name}:{form}")
        for i, entry in enumerate(self._curated.forms):
            origin = f"{self.name}:{CURATED_FILE}:forms[{i}]"
            form_id, moiety_id = self._resolver.by_name(entry.form), self._resolver.by_name(entry.moiety)
            if form_id is None or moiety_id is None or form_id == moiety_id:
                missing = entry.form if form_id is None else entry.moiety
                yield UnmappedReference(
                    origin, missing, "curated active moiety: " + self._resolver.unresolved_reason(missing)
                )
                continue
            if form_id not in linked:
                props = {"source": tag, "evidence": f"{entry.form}: {entry.why} (curated)"}
                yield EdgeRow(RelType.HAS_ACTIVE_MOIETY, form_id, moiety_id, props, origin)
