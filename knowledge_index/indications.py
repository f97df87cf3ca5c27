"""What each drug treats (``TREATS`` Drug -> Disease) and the routes it can be given by.

Both serve one purpose: proposing a same-indication alternative that the prescriber could
actually order in place of the draft (an oral tablet is not replaced by an IV-only drug).
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from graph_store.contract import GraphStore
from ontology.vocab import Label, RelType

# RxNorm dose-form words -> route, most specific first ("Oral Inhalation" is inhalation, "Topical Oral" is
# not swallowed). Sublingual and buccal stay apart from oral: they are chosen for speed of onset.
_ROUTE_WORDS: tuple[tuple[str, str], ...] = (
    ("ophthalmic", "ophthalmic"),
    ("otic", "otic"),
    ("nasal", "nasal"),
    ("inhalation|inhalant|inhaler|nebuli[sz]er", "inhalation"),
    ("vaginal", "vaginal"),
    ("rectal|enema|suppository", "rectal"),
    ("transdermal|patch", "transdermal"),
    ("mouthwash|topical|cream|ointment|lotion|shampoo|paste|gel", "topical"),
    ("injection|injectable|prefilled syringe|auto-injector|pen injector|cartridge|infusion", "parenteral"),
    ("implant|intrauterine", "implant"),
    ("sublingual|buccal", "oromucosal"),
    ("oral|chewable|lozenge|troche|tablet|capsule|caplet|elixir|syrup", "oral"),
)
MIN_INDICATION_OVERLAP = 0.2
"""Least Jaccard overlap of indications for a drug to count as an alternative."""

_ROUTE_PATTERNS = tuple((re.compile(rf"\b(?:{words})\b", re.IGNORECASE), route) for words, route in _ROUTE_WORDS)


# Where a product acts on the spot and little of it reaches the blood. Anything swallowed, or absorbed through
# a mucosa or by design (oral gel, mouthwash, vaginal, rectal, nasal, inhaled, transdermal), is not local:
# miconazole oral gel raises the INR as the tablets do. Nor is the eye: drops drain through the nose into the
# blood, and timolol drops slow the heart with verapamil.
_LOCAL_SITE_WORDS: tuple[tuple[str, str], ...] = (
    ("otic", "ear"),
    ("topical|cutaneous|shampoo", "skin"),
)
_LOCAL_SITE_PATTERNS = tuple((re.compile(rf"\b(?:{w})\b", re.IGNORECASE), site) for w, site in _LOCAL_SITE_WORDS)
_ABSORBED = re.compile(
    r"\b(?:oral|mouth\w*|dental|gingival|periodontal|buccal|sublingual|mucosal|mucous|vaginal|rectal|enema"
    r"|suppository|nasal|inhal\w*|transdermal|urethral)\b",
    re.IGNORECASE,
)


def local_site(product_name: str) -> str | None:
    """``skin`` or ``ear`` when a product is applied there and little reaches the blood ("ketoconazole 20 MG/ML
    Topical Cream" -> skin); None otherwise, and for any swallowed, mucosal, inhaled or eye form."""
    text = product_name.split(" [", 1)[0]
    if _ABSORBED.search(text):
        return None
    for pattern, site in _LOCAL_SITE_PATTERNS:
        if pattern.search(text):
            return site
    return None


def route_of(product_name: str) -> str | None:
    """The route an RxNorm clinical/branded drug name implies ("fluconazole 150 MG Oral Tablet" -> oral)."""
    text = product_name.split(" [", 1)[0]  # "[Brand]" names could contain any word
    for pattern, route in _ROUTE_PATTERNS:
        if pattern.search(text):
            return route
    return None


@dataclass(frozen=True, slots=True)
class IndicationIndex:
    indications_of: Mapping[str, frozenset[str]]
    treated_by: Mapping[str, frozenset[str]]
    product_routes: Mapping[str, str] = field(default_factory=dict)
    """DrugProduct id -> route of its dose form."""
    ingredient_routes: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Ingredient -> routes of its single-ingredient products: what it can be ordered as on its own."""
    product_sites: Mapping[str, str] = field(default_factory=dict)
    """DrugProduct id -> the site it is applied to, for products little absorbed (see :func:`local_site`)."""
    absorbed_through_skin: frozenset[str] = frozenset()
    """Ingredients with a transdermal product: on the skin they may be meant for the blood (testosterone gel,
    nitroglycerin ointment), so their skin products are never taken as local."""

    @classmethod
    def empty(cls) -> IndicationIndex:
        return cls({}, {}, {}, {}, {}, frozenset())

    @classmethod
    def from_store(cls, store: GraphStore) -> IndicationIndex:
        by_drug: dict[str, set[str]] = defaultdict(set)
        by_disease: dict[str, set[str]] = defaultdict(set)
        for row in store.edges_frame(RelType.TREATS).iter_rows(named=True):
            by_drug[row["source_id"]].add(row["target_id"])
            by_disease[row["target_id"]].add(row["source_id"])
        products = store.nodes_frame(Label.DRUG_PRODUCT)
        product_routes: dict[str, str] = {}
        product_sites: dict[str, str] = {}
        for product, name in zip(products["id"].to_list(), products["name"].to_list(), strict=True):
            route = route_of(name or "")
            if route is not None:
                product_routes[product] = route
            site = local_site(name or "")
            if site is not None:
                product_sites[product] = site
        ingredients_of: dict[str, set[str]] = defaultdict(set)
        edges = store.edges_frame(RelType.HAS_INGREDIENT)
        for product, ingredient in zip(edges["source_id"].to_list(), edges["target_id"].to_list(), strict=True):
            ingredients_of[product].add(ingredient)
        routes: dict[str, set[str]] = defaultdict(set)
        for product, ingredients in ingredients_of.items():
            if len(ingredients) == 1 and product in product_routes:
                routes[next(iter(ingredients))].add(product_routes[product])
        return cls(
            {k: frozenset(v) for k, v in by_drug.items()},
            {k: frozenset(v) for k, v in by_disease.items()},
            product_routes,
            {k: frozenset(v) for k, v in routes.items()},
            product_sites,
            frozenset(
                ingredient
                for product, ingredients in ingredients_of.items()
                if product_routes.get(product) == "transdermal"
                for ingredient in ingredients
            ),
        )

    def ranked_alternatives(self, drug_id: str, limit: int = 8) -> tuple[str, ...]:
        """Drugs sharing the most indications with ``drug_id``, best first (ties by id, so stable)."""
        ranked = self._ranked(drug_id)
        return tuple(candidate for candidate, _count in ranked[:limit])

    def alternatives_by_route(self, drug_id: str, route: str) -> list[tuple[str, float]]:
        """Drugs orderable alone by ``route`` whose indications overlap ``drug_id``'s, most similar first.

        Similarity is the Jaccard index of the two indication sets, so a drug listed for everything
        (aspirin, caffeine) does not outrank a close match; below :data:`MIN_INDICATION_OVERLAP` a
        drug is not offered at all.
        """
        own = len(self.indications_of.get(drug_id, ()))
        found: list[tuple[str, float]] = []
        for candidate, shared in self._ranked(drug_id):
            if route not in self.ingredient_routes.get(candidate, ()):
                continue
            similarity = shared / (own + len(self.indications_of.get(candidate, ())) - shared)
            if similarity >= MIN_INDICATION_OVERLAP:
                found.append((candidate, similarity))
        found.sort(key=lambda item: -item[1])  # stable: equal similarity keeps the id order
        return found

    def order_route(self, codes: Iterable[str], display: str, ingredient: str) -> str | None:
        """The route of an order: its product code's dose form, else its text's, else the ingredient's only one.

        None when it cannot be told (an ingredient-coded order for a drug given orally and by injection).
        """
        for code in codes:
            found = self.product_routes.get(code)
            if found is not None:
                return found
        found = route_of(display)
        if found is not None:
            return found
        routes = self.ingredient_routes.get(ingredient, frozenset())
        return next(iter(routes)) if len(routes) == 1 else None

    def order_site(self, codes: Iterable[str], display: str, ingredients: Iterable[str]) -> str | None:
        """Where an order is applied when little of it reaches the blood (skin, ear): its product code's dose
        form, else its text's; None for systemic use, for an ingredient that also comes as a transdermal
        product, or when it cannot be told."""
        for code in codes:
            if code in self.product_routes:
                site = self.product_sites.get(code)
                break
        else:
            site = local_site(display)
        if site is None or not self.absorbed_through_skin.isdisjoint(ingredients):
            return None
        return site

    def _ranked(self, drug_id: str) -> list[tuple[str, int]]:
        shared: Counter[str] = Counter()
        for disease in self.indications_of.get(drug_id, ()):
            for other in self.treated_by.get(disease, ()):
                if other != drug_id:
                    shared[other] += 1
        return sorted(shared.items(), key=lambda kv: (-kv[1], kv[0]))
