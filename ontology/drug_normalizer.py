"""Map what an EHR sends for a drug — a code, a display text, a brand — to ingredient concepts.

"Aspirin written twelve ways": an RxNorm clinical or branded drug code, a salt form
("Warfarin Sodium 5 MG Oral Tablet"), a brand ("COUMADIN", "[Jantoven]"), a French
spelling ("warfarine"). Everything resolves to the graph's Drug (ingredient) ids through a
:class:`DrugLexicon` of plain dictionaries, so a call is a handful of dict lookups and one
regex pass. Pure: the lexicon is compiled elsewhere (``knowledge_index.drug_lexicon``).

Order of evidence: an exact code (product -> its ingredients, ingredient code -> itself),
then the text: exact name or synonym, bracketed or bare brand, and last the parsed display
text. Each result says how it matched and with what confidence; unmapped input is a
result with a reason, never an exception.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ontology.drug_display_text import parse_display_text, strip_dose_form, without_parenthetical
from ontology.drug_names import french_variants, normalize_drug_name, salt_stripped_candidates


class MatchType(StrEnum):
    INGREDIENT_CODE = "ingredient_code"
    PRODUCT_CODE = "product_code"
    NAME = "name"
    SYNONYM = "synonym"
    BRAND = "brand"
    PARSED_NAME = "parsed_name"
    UNMAPPED = "unmapped"


CONFIDENCE: Mapping[MatchType, float] = {
    MatchType.INGREDIENT_CODE: 1.0,
    MatchType.PRODUCT_CODE: 1.0,
    MatchType.NAME: 0.95,
    MatchType.SYNONYM: 0.9,
    MatchType.BRAND: 0.9,
    MatchType.PARSED_NAME: 0.8,
    MatchType.UNMAPPED: 0.0,
}
"""Base confidence per match type. A name found only after rewriting it (French spelling,
spacing, parenthetical dropped) costs a further 0.05; a text naming ingredients the lexicon
lacks scales by the share found; a product code whose ingredient list had to be completed
from its name gets 0.9 (the code is certain, the completion is parsed)."""

_VARIANT_PENALTY = 0.05
_COMPLETED_PRODUCT_CONFIDENCE = 0.9
_BRAND_AFTER_DOSE_FORM_CONFIDENCE = 0.85

RXNORM_PREFIX = "RXNORM"


def default_code_systems() -> dict[str, str]:
    """FHIR system URI -> CURIE prefix for RxNorm (URI and HL7 OID); the lexicon builder adds the schema's."""
    return {
        "http://www.nlm.nih.gov/research/umls/rxnorm": RXNORM_PREFIX,
        "urn:oid:2.16.840.1.113883.6.88": RXNORM_PREFIX,
    }


@dataclass(frozen=True, slots=True)
class DrugLexicon:
    """Compiled, read-only lookup tables; keys of ``names`` are :func:`normalize_drug_name` forms."""

    ingredient_names: Mapping[str, str]
    """Ingredient id -> preferred name."""
    product_ingredients: Mapping[str, tuple[str, ...]]
    """Product CURIE (``RXNORM:308191``) -> ingredient ids."""
    product_names: Mapping[str, str]
    names: Mapping[str, tuple[str, ...]]
    """Normalised name / synonym / brand -> ingredient ids (ambiguous single-ingredient names removed)."""
    code_ingredients: Mapping[str, tuple[str, ...]]
    """Any code CURIE (ingredient RXNORM, DRUGBANK:, UNII:) -> ingredient ids."""
    name_kinds: Mapping[str, MatchType] = field(default_factory=dict)
    """Key of ``names`` -> NAME, SYNONYM or BRAND; keys missing here count as NAME when they spell
    the ingredient's preferred name, else SYNONYM."""
    code_systems: Mapping[str, str] = field(default_factory=default_code_systems)
    """FHIR system URI (no trailing slash) -> CURIE prefix."""


@dataclass(frozen=True, slots=True)
class IngredientRef:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class DrugMatch:
    input_text: str | None
    input_code: str | None
    """The code as a CURIE when its system was recognised, else as given."""
    ingredients: tuple[IngredientRef, ...]
    match_type: MatchType
    confidence: float
    reason: str | None
    """Why it is unmapped, what was parsed, or where code and text disagreed."""

    @property
    def mapped(self) -> bool:
        return bool(self.ingredients)

    def as_dict(self) -> dict[str, Any]:
        """The JSON shape the CLI and API print."""
        return {
            "input": {"text": self.input_text, "code": self.input_code},
            "ingredients": [{"id": ref.id, "name": ref.name} for ref in self.ingredients],
            "match_type": self.match_type.value,
            "confidence": self.confidence,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class _Found:
    """Ingredient ids found for some input, before they become :class:`IngredientRef`s."""

    ids: tuple[str, ...]
    match_type: MatchType
    confidence: float
    note: str | None = None


@dataclass(frozen=True, slots=True)
class _NameHit:
    ids: tuple[str, ...]
    key: str
    rewrite: str | None
    """How the name had to be rewritten to match (``None`` when it matched as written)."""


_BARE_DRUGBANK = re.compile(r"^DB\d{5}$", re.IGNORECASE)


def normalize_drug(
    lexicon: DrugLexicon, text: str | None = None, code: str | None = None, system: str | None = None
) -> DrugMatch:
    """Resolve a drug code and/or display text to ingredients. See the module docstring for the order.

    ``code`` is a CURIE (``RXNORM:855332``, ``DRUGBANK:DB00682``) or a bare code whose ``system``
    is a FHIR system URI; a bare all-digit code without a system is taken as an RxCUI.
    Raises ValueError only when both ``text`` and ``code`` are None.
    """
    if text is None and code is None:
        raise ValueError("normalize_drug: text and code are both None; pass a display text, a code, or both")
    notes: list[str] = []
    curie: str | None = None
    from_code: _Found | None = None
    if code is not None:
        curie, problem = _code_curie(lexicon, code, system)
        if curie is None:
            notes.append(problem)
        else:
            from_code = _resolve_code(lexicon, curie)
            if from_code is not None and from_code.match_type is MatchType.PRODUCT_CODE:
                from_code = _complete_product(lexicon, curie, from_code, text)
            if from_code is None:
                notes.append(f"code {curie} is not in the drug lexicon")
            elif not from_code.ids:
                notes.append(f"product {curie} has no ingredient the lexicon knows")
                from_code = None
    from_text = _resolve_text(lexicon, text) if text is not None else None

    if from_code is not None:
        if from_code.note:
            notes.append(from_code.note)
        if from_text is not None and from_text.ids and not set(from_text.ids) <= set(from_code.ids):
            named = ", ".join(lexicon.ingredient_names.get(i, i) for i in from_text.ids)
            notes.append(f"text {text!r} suggests {named}, which the code does not contain; the code was trusted")
        return _match(lexicon, text, curie or code, from_code, notes)
    if from_text is not None:
        if from_text.ids and code is not None:
            notes.append("resolved from the text instead")
        if from_text.note:
            notes.append(from_text.note)
        if from_text.ids:
            return _match(lexicon, text, curie or code, from_text, notes)
    else:
        notes.append("no text given")
    return DrugMatch(text, curie or code, (), MatchType.UNMAPPED, 0.0, "; ".join(notes))


def _match(lexicon: DrugLexicon, text: str | None, code: str | None, found: _Found, notes: list[str]) -> DrugMatch:
    refs = tuple(IngredientRef(i, lexicon.ingredient_names.get(i, i)) for i in found.ids)
    return DrugMatch(text, code, refs, found.match_type, round(found.confidence, 3), "; ".join(notes) or None)


# ---- codes -----------------------------------------------------------------------------
def _code_curie(lexicon: DrugLexicon, code: str, system: str | None) -> tuple[str | None, str]:
    """A CURIE for ``code``, or None and the reason it could not be read."""
    local = code.strip()
    if not local:
        return None, "code is empty"
    prefix, sep, rest = local.partition(":")
    if system is not None and system.strip():
        sys_prefix = lexicon.code_systems.get(system.strip().rstrip("/"))
        if sys_prefix is None:
            return None, f"code system {system!r} is not a drug code system the lexicon knows"
        if sep and prefix.upper() == sys_prefix.upper() and rest.strip():
            return f"{sys_prefix}:{rest.strip()}", ""
        return f"{sys_prefix}:{local}", ""
    if sep and rest.strip():
        prefix = prefix.strip()
        known = next((p for p in lexicon.code_systems.values() if p.upper() == prefix.upper()), prefix)
        return f"{known}:{rest.strip()}", ""
    if local.isdigit():
        return f"{RXNORM_PREFIX}:{local}", ""
    if _BARE_DRUGBANK.match(local):
        return f"DRUGBANK:{local.upper()}", ""
    return None, f"code {local!r} has no system and is neither a CURIE nor an RxCUI"


def _resolve_code(lexicon: DrugLexicon, curie: str) -> _Found | None:
    product = lexicon.product_ingredients.get(curie)
    if product is not None:
        return _Found(product, MatchType.PRODUCT_CODE, CONFIDENCE[MatchType.PRODUCT_CODE])
    ids = lexicon.code_ingredients.get(curie)
    if ids is None and curie in lexicon.ingredient_names:
        ids = (curie,)
    if ids:
        return _Found(ids, MatchType.INGREDIENT_CODE, CONFIDENCE[MatchType.INGREDIENT_CODE])
    if curie in lexicon.product_names:
        return _Found((), MatchType.PRODUCT_CODE, CONFIDENCE[MatchType.PRODUCT_CODE])
    return None


def _complete_product(lexicon: DrugLexicon, curie: str, found: _Found, text: str | None) -> _Found:
    """Add ingredients a product's name lists but its ingredient links lack.

    The shipped RxNorm extract drops ingredients starting with "A", so "amoxicillin 250 MG /
    clavulanate 125 MG Oral Tablet" arrives linked to clavulanate only.
    """
    display = lexicon.product_names.get(curie) or text
    if not display or (found.ids and " / " not in display):
        return found  # a single-ingredient name cannot list more than the product already has
    components = parse_display_text(display).components
    if len(components) <= len(found.ids):
        return found
    ids = list(found.ids)
    added: list[str] = []
    for component in components:
        hit = _lookup_name(lexicon, component)
        if hit is None:
            continue
        for ingredient in hit.ids:
            if ingredient not in ids:
                ids.append(ingredient)
                added.append(component)
    if not added:
        return found
    note = (
        f"product {curie} links {len(found.ids)} of {len(components)} ingredients; "
        f"{', '.join(added)} read from its name"
    )
    return _Found(tuple(ids), MatchType.PRODUCT_CODE, _COMPLETED_PRODUCT_CONFIDENCE, note)


# ---- text --------------------------------------------------------------------------------
def _kind(lexicon: DrugLexicon, key: str, ids: tuple[str, ...]) -> MatchType:
    kind = lexicon.name_kinds.get(key)
    if kind is not None:
        return kind
    if len(ids) == 1 and normalize_drug_name(lexicon.ingredient_names.get(ids[0], "")) == key:
        return MatchType.NAME
    return MatchType.SYNONYM


def _name_candidates(raw: str) -> Iterator[tuple[str, str | None]]:
    """Keys to try for one ingredient name, as written first, then rewritten (lazily)."""
    key = normalize_drug_name(raw)
    if not key:
        return
    yield key, None
    for stripped in salt_stripped_candidates(key):
        yield stripped, None
    yield key.replace(" ", ""), "spacing ignored"
    bare = normalize_drug_name(strip_dose_form(raw))
    if bare and bare != key:  # free text: "metformin ER", "warfarin tab"
        yield bare, "dose form dropped"
        for stripped in salt_stripped_candidates(bare):
            yield stripped, "dose form dropped"
    if "(" in raw:
        plain = normalize_drug_name(without_parenthetical(raw))
        if plain and plain != key:
            yield plain, "parenthetical dropped"
    for variant in french_variants(key):
        yield variant, "French spelling"
        for stripped in salt_stripped_candidates(variant):
            yield stripped, "French spelling"
    # "aspirin 81": a strength written without its unit
    words = key.split()
    while len(words) > 1 and words[-1].replace(".", "").isdigit():
        words.pop()
        yield " ".join(words), "trailing number dropped"


def _lookup_name(lexicon: DrugLexicon, raw: str) -> _NameHit | None:
    for key, rewrite in _name_candidates(raw):
        ids = lexicon.names.get(key)
        if ids:
            return _NameHit(ids, key, rewrite)
    return None


def _resolve_text(lexicon: DrugLexicon, text: str) -> _Found:
    key = normalize_drug_name(text)
    if not key:
        return _Found((), MatchType.UNMAPPED, 0.0, "text is empty or has no letters or digits")
    ids = lexicon.names.get(key)
    if ids:
        kind = _kind(lexicon, key, ids)
        return _Found(ids, kind, CONFIDENCE[kind])
    parsed = parse_display_text(text)
    for brand in parsed.brands:
        brand_ids = lexicon.names.get(normalize_drug_name(brand))
        if brand_ids:
            return _Found(brand_ids, MatchType.BRAND, CONFIDENCE[MatchType.BRAND], f"brand [{brand}]")
    hits: list[tuple[str, _NameHit]] = []
    missing: list[str] = []
    for component in parsed.components:
        hit = _lookup_name(lexicon, component)
        if hit is None:
            missing.append(component)
        else:
            hits.append((component, hit))
    if hits:
        return _parsed(lexicon, hits, missing)
    bare = normalize_drug_name(strip_dose_form(text))
    bare_ids = lexicon.names.get(bare) if bare and bare != key else None
    if bare_ids:
        kind = _kind(lexicon, bare, bare_ids)
        confidence = min(CONFIDENCE[kind], _BRAND_AFTER_DOSE_FORM_CONFIDENCE)
        return _Found(bare_ids, kind, confidence, f"matched {bare!r} after removing the dose form")
    tried = ", ".join(repr(c) for c in parsed.components) or repr(text)
    return _Found((), MatchType.UNMAPPED, 0.0, f"no ingredient, synonym or brand matches {tried}")


def _parsed(lexicon: DrugLexicon, hits: list[tuple[str, _NameHit]], missing: list[str]) -> _Found:
    if len(hits) == 1 and not missing:
        component, hit = hits[0]
        kind = _kind(lexicon, hit.key, hit.ids)
        if kind is MatchType.BRAND and hit.rewrite is None:
            return _Found(hit.ids, kind, _BRAND_AFTER_DOSE_FORM_CONFIDENCE, f"brand {component!r} read from the text")
    ids: list[str] = []
    for _component, hit in hits:
        ids.extend(i for i in hit.ids if i not in ids)
    confidence = CONFIDENCE[MatchType.PARSED_NAME]
    rewrites = sorted({hit.rewrite for _c, hit in hits if hit.rewrite})
    if rewrites:
        confidence -= _VARIANT_PENALTY
    confidence *= len(hits) / (len(hits) + len(missing))
    note = "parsed " + ", ".join(repr(c) for c, _h in hits) + " from the text"
    if rewrites:
        note += f" ({'; '.join(rewrites)})"
    if missing:
        note += "; no ingredient found for " + ", ".join(repr(m) for m in missing)
    return _Found(tuple(ids), MatchType.PARSED_NAME, confidence, note)
