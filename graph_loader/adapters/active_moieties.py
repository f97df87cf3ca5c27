"""``HAS_ACTIVE_MOIETY`` edges: a salt-named ingredient -> the ingredient that acts.

Interaction sources state lithium, potassium, iron and calcium interactions for the moiety,
but prescriptions name the salt, which RxNorm keeps as an ingredient of its own:

    lithium (RXNORM:6448) <- HAS_ACTIVE_MOIETY - lithium carbonate (RXNORM:42351)
                          <- HAS_ACTIVE_MOIETY - lithium citrate (RXNORM:52105)
    iron (RXNORM:90176)   <- HAS_ACTIVE_MOIETY - ferrous sulfate, ferrous gluconate, ...

Without the edge, lithium carbonate + hydrochlorothiazide would screen clean. The name rule
lives in :func:`ontology.drug_names.moiety_name`; the resolver only links a name to the one
ingredient that has it as its primary name.
"""

from __future__ import annotations

from collections.abc import Iterator

from graph_loader.adapter import Row, source_tag
from graph_loader.drug_identity import DrugResolver
from graph_loader.rows import EdgeRow
from ontology.vocab import RelType

RULE_VERSION = "salt-names-1"


class ActiveMoietiesAdapter:
    name = "active_moieties"

    def __init__(self, resolver: DrugResolver) -> None:
        self._resolver = resolver

    @property
    def version(self) -> str:
        return f"{RULE_VERSION}+{self._resolver.version}"

    def rows(self) -> Iterator[Row]:
        tag = source_tag(self)
        for form, moiety, form_name in self._resolver.active_moieties():
            moiety_name = self._resolver.name_of(moiety) or moiety
            props = {"source": tag, "evidence": f"{form_name} is a salt of {moiety_name} (by name)"}
            yield EdgeRow(RelType.HAS_ACTIVE_MOIETY, form, moiety, props, f"{self.name}:{form}")
