"""RxNorm prescribable products (SCD, SBD, GPCK, BPCK) and their HAS_INGREDIENT edges.

The 2025 extract lacks every ingredient whose name starts with "A": a product such as
"amoxicillin 875 MG / clavulanate 125 MG Oral Tablet" lists only clavulanate and is
flagged ``all_ingredients_linked = N`` (packs carry no flag). For those, the missing
ingredients are read back from the product's display name and resolved by name; the
2016 product map adds products (and ingredient links) of its own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import polars as pl

from graph_loader.adapter import Row, source_tag
from graph_loader.config import SourcePaths
from graph_loader.drug_identity import DrugResolver
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow
from ontology.drug_names import normalize_drug_name
from ontology.vocab import Label, RelType

PRODUCT_TTYS = frozenset({"SCD", "SBD", "GPCK", "BPCK"})

_BRAND = re.compile(r"\s*\[(?P<brand>[^\]]+)\]\s*$")
# A strength: a number followed by an upper-case unit (MG, MG/ML, UNT, MEQ, %, ...).
_STRENGTH = re.compile(r"\s+\d+(?:\.\d+)?\s+(?:[A-Z%])")
# A leading bead count, quantity or duration: "3-Bead 24 HR amphetamine ...", "5 ML atropine ...".
_LEADING_QUANTITY = re.compile(r"^(?:\d+-[A-Za-z]+\s+)?(?:\d+(?:\.\d+)?\s+[A-Z]+\s+)?")
_PACK_ITEM_SPLIT = re.compile(r"\)\s*/\s*(?=\d+\s*\()")
# "1 (30 ML) (hydrocortisone 20 MG/ML Topical Lotion)": count, optional amount, then the product.
_PACK_ITEM = re.compile(r"^\s*\d+\s*(?:\(\d+(?:\.\d+)?\s*[A-Z]+\)\s*)?\((?P<item>.*)\)\s*$")


def brand_of(product_name: str) -> str | None:
    """``... Oral Tablet [Coumadin]`` -> ``Coumadin``."""
    match = _BRAND.search(product_name)
    return match.group("brand") if match else None


def ingredient_names_in(product_name: str) -> list[str]:
    """Ingredient names written in an RxNorm product name, in order.

    ``amoxicillin 875 MG / clavulanate 125 MG Oral Tablet [Augmentin]`` ->
    ``["amoxicillin", "clavulanate"]``; packs (``{21 (a 1 MG / b 2 MG Oral Tablet) /
    7 (inert ingredients 1 MG Oral Tablet) } Pack``) give the names of every item.
    """
    text = _BRAND.sub("", product_name).strip()
    if text.startswith("{") and "}" in text:
        inner = text[1 : text.rindex("}")].strip()
        names: list[str] = []
        for piece in _PACK_ITEM_SPLIT.split(inner):
            item = _PACK_ITEM.match(piece if piece.rstrip().endswith(")") else piece + ")")
            if item:
                names.extend(n for n in ingredient_names_in(item.group("item")) if n not in names)
        return names
    names = []
    for component in text.split(" / "):
        component = _LEADING_QUANTITY.sub("", component.strip())
        strength = _STRENGTH.search(component)
        if strength:
            names.append(component[: strength.start()].strip())
    return names


@dataclass
class _Product:
    rxcui: str
    tty: str
    name: str
    origin: str
    complete: bool
    ingredients: dict[str, str] = field(default_factory=dict)  # canonical drug id -> origin
    ingredient_names: set[str] = field(default_factory=set)  # normalised, as the source listed them


class RxNormProductsAdapter:
    name = "rxnorm"

    def __init__(self, paths: SourcePaths, resolver: DrugResolver) -> None:
        self._products_2025 = paths.resolve("rxnorm_products")
        self._products_2016 = paths.resolve("rxnorm_products_2016")
        self._resolver = resolver

    @property
    def version(self) -> str:
        parts = [p for p, path in (("2025-10-06", self._products_2025), ("2016", self._products_2016)) if path]
        return "+".join(parts)

    def _link(self, product: _Product, rxcui: str | None, name: str, origin: str) -> UnmappedReference | None:
        canonical = (self._resolver.by_rxcui(rxcui) if rxcui else None) or self._resolver.by_name(name)
        product.ingredient_names.add(normalize_drug_name(name))
        if canonical is None:
            reason = f"ingredient of RXNORM:{product.rxcui}: " + self._resolver.unresolved_reason(name)
            return UnmappedReference(origin, f"{name} (RXNORM:{rxcui})" if rxcui else name, reason)
        product.ingredients.setdefault(canonical, origin)
        return None

    def _read_2025(self, products: dict[str, _Product]) -> Iterator[UnmappedReference]:
        if self._products_2025 is None:
            return
        frame = pl.read_csv(self._products_2025, infer_schema_length=0, quote_char='"').with_row_index("line", 2)
        for row in frame.iter_rows(named=True):
            origin = f"rxnorm_products:{row['line']}"
            rxcui = row["product_rxcui"]
            product = products.get(rxcui)
            if product is None:
                complete = row["all_ingredients_linked"] == "Y"
                product = _Product(rxcui, row["product_tty"], row["product_name"], origin, complete)
                products[rxcui] = product
            problem = self._link(product, row["ingredient_rxcui"], row["ingredient_name"], origin)
            if problem:
                yield problem

    def _read_2016(self, products: dict[str, _Product]) -> Iterator[UnmappedReference]:
        if self._products_2016 is None:
            return
        frame = (
            pl.read_csv(self._products_2016, separator="\t", infer_schema_length=0)
            .with_row_index("line", 2)
            .filter(pl.col("input_tty").is_in(list(PRODUCT_TTYS)))
        )
        for row in frame.iter_rows(named=True):
            origin = f"rxnorm_products_2016:{row['line']}"
            rxcui = row["input_rxcui"]
            product = products.get(rxcui)
            if product is None:
                product = _Product(rxcui, row["input_tty"], row["input_name"], origin, complete=True)
                products[rxcui] = product
            problem = self._link(product, row["ingredient_rxcui"], row["ingredient_name"], origin)
            if problem:
                yield problem

    def _recover_from_name(self, product: _Product) -> Iterator[UnmappedReference]:
        """Resolve the ingredients written in the product name that the source rows did not link."""
        for name in ingredient_names_in(product.name):
            key = normalize_drug_name(name)
            if key in product.ingredient_names:
                continue
            canonical = self._resolver.by_name(name)
            if canonical is None:
                reason = (
                    f"ingredient of RXNORM:{product.rxcui} read from its name: "
                    + self._resolver.unresolved_reason(name)
                )
                yield UnmappedReference(product.origin, name, reason)
            else:
                product.ingredients.setdefault(canonical, product.origin)
            product.ingredient_names.add(key)

    def rows(self) -> Iterator[Row]:
        tag = source_tag(self)
        products: dict[str, _Product] = {}
        yield from self._read_2025(products)
        yield from self._read_2016(products)
        for product in products.values():
            if not product.complete:
                yield from self._recover_from_name(product)
            brand = brand_of(product.name) if product.tty in ("SBD", "BPCK") else None
            props = {"name": product.name, "tty": product.tty, "sources": [tag], "synonyms": [brand] if brand else []}
            yield NodeRow(Label.DRUG_PRODUCT, f"RXNORM:{product.rxcui}", props, product.origin)
            for canonical, origin in product.ingredients.items():
                yield EdgeRow(RelType.HAS_INGREDIENT, f"RXNORM:{product.rxcui}", canonical, {"source": tag}, origin)
