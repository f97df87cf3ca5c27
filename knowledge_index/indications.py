"""What each drug treats (``TREATS`` Drug -> Disease), to propose a same-indication alternative."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from graph_store.contract import GraphStore
from ontology.vocab import RelType


@dataclass(frozen=True, slots=True)
class IndicationIndex:
    indications_of: Mapping[str, frozenset[str]]
    treated_by: Mapping[str, frozenset[str]]

    @classmethod
    def empty(cls) -> IndicationIndex:
        return cls({}, {})

    @classmethod
    def from_store(cls, store: GraphStore) -> IndicationIndex:
        by_drug: dict[str, set[str]] = defaultdict(set)
        by_disease: dict[str, set[str]] = defaultdict(set)
        for row in store.edges_frame(RelType.TREATS).iter_rows(named=True):
            by_drug[row["source_id"]].add(row["target_id"])
            by_disease[row["target_id"]].add(row["source_id"])
        return cls(
            {k: frozenset(v) for k, v in by_drug.items()},
            {k: frozenset(v) for k, v in by_disease.items()},
        )

    def ranked_alternatives(self, drug_id: str, limit: int = 8) -> tuple[str, ...]:
        """Drugs sharing the most indications with ``drug_id``, best first (ties by id, so stable)."""
        shared: Counter[str] = Counter()
        for disease in self.indications_of.get(drug_id, ()):
            for other in self.treated_by.get(disease, ()):
                if other != drug_id:
                    shared[other] += 1
        ranked = sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))
        return tuple(candidate for candidate, _count in ranked[:limit])
