"""Compile the drug normaliser's lookup tables from a graph store.

Reads the Drug and DrugProduct node frames and the HAS_INGREDIENT edge frame once and
folds every name through :func:`ontology.drug_names.normalize_drug_name`, the same key the
normaliser computes at query time.

Names come in three tiers, best first: an ingredient's preferred name, its synonyms (PIN
salt forms, DrugBank synonyms), and brands (a branded product's synonyms and its
``[Brand]`` bracket). A key is answered by its best tier only. Within that tier a key that
points at several ingredients is kept only when one multi-ingredient product accounts for
all of them (a combination brand such as "Augmentin"); otherwise it is dropped and counted
in the :class:`LexiconReport`, because guessing between unrelated drugs is worse than
saying "unmapped".
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from graph_store.contract import GraphStore
from ontology.curie import CodeSystemMap
from ontology.drug_display_text import bracket_brands
from ontology.drug_names import normalize_drug_name
from ontology.drug_normalizer import DrugLexicon, MatchType, default_code_systems
from ontology.schema import GraphSchema, load_schema
from ontology.vocab import Label, RelType

_log = logging.getLogger(__name__)

_TIERS: tuple[MatchType, ...] = (MatchType.NAME, MatchType.SYNONYM, MatchType.BRAND)
_BRANDED_TTYS = frozenset({"SBD", "BPCK"})

# "(-)-Albuterol" names one enantiomer (levalbuterol); normalising away the marker would make it
# collide with the racemate "albuterol", so such synonyms are not indexed at all.
_STEREO_PREFIX = re.compile(r"^\s*\(\s*(?:[+\-±]|\+/-|[RSDL](?:\s*,\s*[RSDL])*|rac)\s*\)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LexiconReport:
    ingredients: int
    products: int
    name_keys: int
    code_keys: int
    ambiguous_names_dropped: int
    ambiguous_codes_dropped: int
    ambiguous_name_examples: tuple[str, ...]
    """Up to 20 dropped names with their candidates, for the load log."""


def build_drug_lexicon(store: GraphStore, schema: GraphSchema | None = None) -> DrugLexicon:
    """The normaliser's lexicon for everything the store holds (see the module docstring)."""
    return build_drug_lexicon_with_report(store, schema)[0]


def build_drug_lexicon_with_report(
    store: GraphStore, schema: GraphSchema | None = None
) -> tuple[DrugLexicon, LexiconReport]:
    drugs = store.nodes_frame(Label.DRUG)
    products = store.nodes_frame(Label.DRUG_PRODUCT)
    edges = store.edges_frame(RelType.HAS_INGREDIENT)

    ingredient_names: dict[str, str] = dict(zip(drugs["id"].to_list(), drugs["name"].to_list(), strict=True))
    product_names: dict[str, str] = dict(zip(products["id"].to_list(), products["name"].to_list(), strict=True))

    linked: dict[str, list[str]] = defaultdict(list)
    for product, ingredient in zip(edges["source_id"].to_list(), edges["target_id"].to_list(), strict=True):
        if ingredient in ingredient_names and ingredient not in linked[product]:
            linked[product].append(ingredient)
    product_ingredients = {
        product: tuple(sorted(ids, key=lambda i: (ingredient_names[i].lower(), i))) for product, ids in linked.items()
    }

    index = _NameIndex()
    codes: dict[str, set[str]] = defaultdict(set)
    for drug_id, name, synonyms, xrefs in drugs.select("id", "name", "synonyms", "xrefs").iter_rows():
        index.offer((name,), MatchType.NAME, (drug_id,))
        index.offer(synonyms or (), MatchType.SYNONYM, (drug_id,))
        codes[drug_id].add(drug_id)
        for xref in xrefs or ():
            codes[xref].add(drug_id)
    for product_id, name, tty, synonyms in products.select("id", "name", "tty", "synonyms").iter_rows():
        group = product_ingredients.get(product_id)
        if group:
            brands = list(synonyms or ())
            if tty in _BRANDED_TTYS:
                brands.extend(bracket_brands(name))
            index.offer(brands, MatchType.BRAND, group)
    names, name_kinds, dropped = index.resolve(lambda i: (ingredient_names[i].lower(), i))

    code_ingredients: dict[str, tuple[str, ...]] = {}
    codes_dropped = 0
    for code, owners in codes.items():
        if len(owners) == 1:
            code_ingredients[code] = (next(iter(owners)),)
        else:
            codes_dropped += 1

    code_systems = default_code_systems()
    code_map = CodeSystemMap.from_schema(schema or load_schema())
    code_systems.update({system: cs.prefix for system, cs in code_map.by_system.items()})

    lexicon = DrugLexicon(
        ingredient_names=ingredient_names,
        product_ingredients=product_ingredients,
        product_names=product_names,
        names=names,
        code_ingredients=code_ingredients,
        name_kinds=name_kinds,
        code_systems=code_systems,
    )
    examples = tuple(f"{key} -> {', '.join(sorted(dropped[key]))}" for key in sorted(dropped)[:20])
    report = LexiconReport(
        ingredients=len(ingredient_names),
        products=len(product_names),
        name_keys=len(names),
        code_keys=len(code_ingredients),
        ambiguous_names_dropped=len(dropped),
        ambiguous_codes_dropped=codes_dropped,
        ambiguous_name_examples=examples,
    )
    _log.info(
        "drug lexicon: %d ingredients, %d products, %d names (%d ambiguous dropped), %d codes (%d ambiguous dropped)",
        report.ingredients,
        report.products,
        report.name_keys,
        report.ambiguous_names_dropped,
        report.code_keys,
        report.ambiguous_codes_dropped,
    )
    return lexicon, report


class _NameIndex:
    """Normalised name -> candidate ingredient groups, per tier; space-free forms kept apart so
    "vitamin b 12" can find "vitamin b12" without ever shadowing a name spelt without spaces."""

    def __init__(self) -> None:
        self._exact: dict[MatchType, dict[str, set[tuple[str, ...]]]] = {tier: {} for tier in _TIERS}
        self._compact: dict[MatchType, dict[str, set[tuple[str, ...]]]] = {tier: {} for tier in _TIERS}
        self._keys: dict[str, str] = {}

    def offer(self, raw_names: Iterable[str], tier: MatchType, group: tuple[str, ...]) -> None:
        exact, compact = self._exact[tier], self._compact[tier]
        for raw in raw_names:
            key = self._keys.get(raw)
            if key is None:
                key = self._keys[raw] = "" if _STEREO_PREFIX.match(raw) else normalize_drug_name(raw)
            if not key:
                continue
            exact.setdefault(key, set()).add(group)
            if " " in key:
                compact.setdefault(key.replace(" ", ""), set()).add(group)

    def resolve(
        self, order: Callable[[str], tuple[str, str]]
    ) -> tuple[dict[str, tuple[str, ...]], dict[str, MatchType], dict[str, set[str]]]:
        """Each key answered by its best tier (exact spellings before space-free ones); ambiguous keys dropped."""
        names: dict[str, tuple[str, ...]] = {}
        kinds: dict[str, MatchType] = {}
        dropped: dict[str, set[str]] = {}
        for layer in (self._exact, self._compact):
            for tier in _TIERS:
                for key, groups in layer[tier].items():
                    if key in names or key in dropped:
                        continue
                    chosen = _unambiguous(groups)
                    if chosen is None:
                        dropped[key] = {i for group in groups for i in group}
                    else:
                        names[key] = chosen if len(chosen) == 1 else tuple(sorted(chosen, key=order))
                        kinds[key] = tier
        return names, kinds, dropped


def _unambiguous(groups: set[tuple[str, ...]]) -> tuple[str, ...] | None:
    """All candidate ingredients when one group (a node, or one product's ingredients) covers them; else None."""
    if len(groups) == 1:
        return next(iter(groups))
    union = {i for group in groups for i in group}
    if len(union) == 1:
        return (union.pop(),)
    return next((group for group in groups if len(group) == len(union) and set(group) == union), None)


# ---- on-disk cache -------------------------------------------------------------------------
LEXICON_FORMAT = 1
"""Bump when :class:`DrugLexicon` or the way it is compiled changes, so old caches are ignored."""


def lexicon_cache_key(store: GraphStore) -> str:
    """Changes whenever the store's graph does: its metadata plus, for the embedded store, the generation."""
    generation = getattr(store, "current_generation", None)
    live = generation() if callable(generation) else None
    payload = json.dumps(
        {
            "format": LEXICON_FORMAT,
            "store": store.description,
            "generation": str(live) if live is not None else None,
            "metadata": store.metadata(),
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:24]


def load_or_build_drug_lexicon(
    store: GraphStore, cache_dir: Path, schema: GraphSchema | None = None
) -> tuple[DrugLexicon, bool]:
    """The lexicon from ``cache_dir`` when it was compiled from this very graph, else compiled and cached.

    Returns the lexicon and whether it came from the cache. A cache file that cannot be read
    (truncated, written by an older format) is ignored and replaced, never trusted.
    """
    store_tag = hashlib.sha256(store.description.encode("utf-8")).hexdigest()[:12]
    path = cache_dir / f"drug_lexicon-{store_tag}-{lexicon_cache_key(store)}.pickle"
    if path.is_file():
        try:
            with path.open("rb") as fh:
                cached = pickle.load(fh)
            if isinstance(cached, DrugLexicon):
                return cached, True
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError) as exc:
            _log.warning("ignoring unreadable drug lexicon cache %s: %s", path, exc)
    lexicon = build_drug_lexicon(store, schema)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp-{os.getpid()}")
        with tmp.open("wb") as fh:
            pickle.dump(lexicon, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
        for stale in cache_dir.glob(f"drug_lexicon-{store_tag}-*.pickle"):
            if stale != path:
                stale.unlink(missing_ok=True)
    except OSError as exc:  # a read-only home still gets an answer, just not a cached one
        _log.warning("could not cache the drug lexicon in %s: %s", cache_dir, exc)
    return lexicon, False
