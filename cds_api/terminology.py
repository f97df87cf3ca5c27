"""How the API turns coded FHIR data into the ids the rules engine works with.

The only place the API asks the knowledge index about codes. ``index_provider`` (given to
:func:`cds_api.app.create_app`) returns the *current* :class:`Terminology`, so a hot-swapped index
is picked up on the next request without restarting the server.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class DrugResolution:
    ingredient_ids: tuple[str, ...]
    class_ids: tuple[str, ...] = ()
    note: str | None = None
    """How the match was made when not by exact code ("matched by name"), or why it failed."""


class Terminology(Protocol):
    def resolve_drug(self, codes: Sequence[str], text: str | None) -> DrugResolution:
        """Codes are CURIEs (``RXNORM:855332``); a class code (an allergy to "penicillins")
        resolves to ``class_ids``; an ingredient or product to ``ingredient_ids``."""
        ...

    def condition_codes(self, codes: Sequence[str]) -> tuple[str, ...]:
        """The condition's CURIEs plus any equivalents the rules may be written in."""
        ...


IndexProvider = Callable[[], Terminology]


@dataclass(frozen=True, slots=True)
class CodeTableTerminology:
    """A :class:`Terminology` over plain lookup tables.

    Used when no compiled drug lexicon is available, and by the tests. Lookups go by code first,
    then by lower-cased name (the display text), and say so in the note when the name was used.
    """

    ingredients_by_code: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    classes_by_code: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    ingredients_by_name: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    classes_by_name: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    condition_equivalents: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def resolve_drug(self, codes: Sequence[str], text: str | None) -> DrugResolution:
        ingredients: list[str] = []
        classes: list[str] = []
        for code in codes:
            ingredients.extend(self.ingredients_by_code.get(code, ()))
            classes.extend(self.classes_by_code.get(code, ()))
        if ingredients or classes:
            return DrugResolution(_unique(ingredients), _unique(classes))
        name = (text or "").strip().lower()
        by_name = [ids for key, ids in self.ingredients_by_name.items() if key in name]
        class_by_name = [ids for key, ids in self.classes_by_name.items() if key in name]
        if by_name or class_by_name:
            return DrugResolution(
                _unique([i for ids in by_name for i in ids]),
                _unique([c for ids in class_by_name for c in ids]),
                note="matched by name",
            )
        return DrugResolution((), (), note="not recognised")

    def condition_codes(self, codes: Sequence[str]) -> tuple[str, ...]:
        expanded = list(codes)
        for code in codes:
            expanded.extend(self.condition_equivalents.get(code, ()))
        return _unique(expanded)


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
