"""One canonical Drug node per active ingredient, whatever a source calls it.

Sources name drugs by RxNorm ingredient (IN/PIN), DrugBank id, UNII or free text.
:class:`DrugResolver` maps each of those to one canonical id: ``RXNORM:<ingredient
rxcui>`` when the ingredient has one, else ``DRUGBANK:<id>``. It is built from four
files, in an order that lets later sources attach to ingredients earlier ones made:

1. RxNorm 2025 ingredients (IN, then PIN; a PIN whose name minus its salt word is a
   known IN, "warfarin sodium", becomes an alias of that IN, not a second drug);
2. RxNorm 2016 product->ingredient map (brings back some ingredients starting with "A",
   which the 2025 extract lacks);
3. DrugCentral identifiers (RxNorm <-> DrugBank <-> UNII crosswalk; recovers the other
   "A" ingredients such as amoxicillin 723);
4. DrugBank open vocabulary (names, synonyms; its own id only when nothing else matched).

Names that point at several ingredients are ambiguous: they resolve to None and are
listed by :meth:`DrugResolver.ambiguous_names`, never guessed.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from graph_loader.config import SourcePaths
from graph_loader.report import UnmappedReference
from graph_loader.rows import NodeRow
from ontology.drug_names import (
    acid_salt_variants,
    french_variants,
    moiety_name,
    normalize_drug_name,
    salt_stripped_candidates,
    without_parentheticals,
)
from ontology.vocab import Label

RXNORM_2025_TAG = "rxnorm_ingredients@2025-10-06"
RXNORM_2016_TAG = "rxnorm_products_2016@2016"
DRUGCENTRAL_TAG = "drugcentral_identifiers@2016"
DRUGBANK_TAG = "drugbank_vocabulary@open"

# Lower rank wins the display name: RxNorm's spelling (US names: acetaminophen, albuterol) first.
_NAME_RANK = {RXNORM_2025_TAG: 0, RXNORM_2016_TAG: 1, DRUGCENTRAL_TAG: 2, DRUGBANK_TAG: 3}


def _rxnorm_case(name: str) -> str:
    """``Acetaminophen`` -> ``acetaminophen`` (the 2016 file capitalises names RxNorm writes in lower case).

    Names with another capital ("Vitamin B 12", "Insulin Lispro") are left alone rather than guessed.
    """
    if len(name) > 1 and name[0].isupper() and not any(ch.isupper() for ch in name[1:]):
        return name[0].lower() + name[1:]
    return name


@dataclass
class _Ingredient:
    id: str
    name: str
    origin: str
    name_rank: int
    synonyms: dict[str, None] = field(default_factory=dict)
    xrefs: dict[str, None] = field(default_factory=dict)
    sources: dict[str, None] = field(default_factory=dict)

    def offer_name(self, name: str, tag: str) -> None:
        rank = _NAME_RANK[tag]
        if rank < self.name_rank:
            self.synonyms[self.name] = None
            self.name, self.name_rank = name, rank
        elif normalize_drug_name(name) != normalize_drug_name(self.name):
            self.synonyms[name] = None
        self.sources[tag] = None


def _read_csv(path: Path, separator: str = ",") -> pl.DataFrame:
    """Every column as text (ids like rxcui must keep their exact spelling), with the file line number."""
    frame = pl.read_csv(path, separator=separator, infer_schema_length=0, quote_char='"')
    return frame.with_row_index("line", offset=2)


def _names_drugbank_entry(reference: tuple[str, str | None] | None, name: str, uniis: tuple[str, ...]) -> bool:
    """Whether a drug is DrugBank's own entry: same normalised name, or same UNII."""
    if reference is None:
        return False
    db_name, db_unii = reference
    return db_name == normalize_drug_name(name) or (db_unii is not None and db_unii in uniis)


class _Builder:
    """Mutable state while the four sources are folded in; :class:`DrugResolver` then takes its maps."""

    def __init__(self) -> None:
        self.ingredients: dict[str, _Ingredient] = {}
        self.rxcui: dict[str, str] = {}
        self.drugbank: dict[str, str] = {}
        self.unii: dict[str, str] = {}
        self.drugcentral: dict[str, str] = {}
        self.primary: dict[str, set[str]] = {}
        self.synonym: dict[str, set[str]] = {}
        self.problems: list[UnmappedReference] = []
        # DrugBank's own name and UNII per id, read up front to check DrugCentral's DrugBank links.
        self.drugbank_reference: dict[str, tuple[str, str | None]] = {}

    # -- indexes -------------------------------------------------------------------------
    def _link(self, index: dict[str, str], key: str, canonical: str, what: str, origin: str) -> bool:
        """Point ``key`` at ``canonical``; False (and a reported conflict) when it already points elsewhere."""
        existing = index.setdefault(key, canonical)
        if existing != canonical:
            self.problems.append(
                UnmappedReference(origin, f"{what}:{key}", f"conflict: already {existing}, source says {canonical}")
            )
            return False
        return True

    def _add_primary_name(self, canonical: str, name: str) -> None:
        key = normalize_drug_name(name)
        if key:
            self.primary.setdefault(key, set()).add(canonical)

    def name_lookup(self, name: str) -> str | None:
        """A unique primary-name match, exact, salt-stripped or acid/anion form (used while building)."""
        key = normalize_drug_name(name)
        for candidate in (key, *salt_stripped_candidates(key), *acid_salt_variants(key)):
            hits = self.primary.get(candidate)
            if hits:
                return next(iter(hits)) if len(hits) == 1 else None
        return None

    def new_ingredient(self, canonical: str, name: str, tag: str, origin: str) -> _Ingredient:
        ing = _Ingredient(canonical, name, origin, _NAME_RANK[tag])
        ing.sources[tag] = None
        self.ingredients[canonical] = ing
        self._add_primary_name(canonical, name)
        return ing

    def attach(
        self,
        canonical: str,
        tag: str,
        origin: str,
        *,
        name: str | None = None,
        rxcuis: tuple[str, ...] = (),
        drugbank_ids: tuple[str, ...] = (),
        uniis: tuple[str, ...] = (),
        synonyms: tuple[str, ...] = (),
    ) -> None:
        ing = self.ingredients[canonical]
        if name:
            ing.offer_name(name, tag)
            self._add_primary_name(canonical, name)
        ing.sources[tag] = None
        # An id another ingredient already owns is reported, not copied: xrefs stay one-owner.
        for prefix, index, keys in (
            ("RXNORM", self.rxcui, rxcuis),
            ("DRUGBANK", self.drugbank, drugbank_ids),
            ("UNII", self.unii, uniis),
        ):
            for key in keys:
                if self._link(index, key, canonical, prefix, origin) and f"{prefix}:{key}" != canonical:
                    ing.xrefs[f"{prefix}:{key}"] = None
        own_key = normalize_drug_name(ing.name)
        for syn in synonyms:
            key = normalize_drug_name(syn)
            if key and key != own_key:
                ing.synonyms[syn] = None
                self.synonym.setdefault(key, set()).add(canonical)

    # -- sources -------------------------------------------------------------------------
    def add_rxnorm_ingredients(self, path: Path) -> None:
        frame = _read_csv(path)
        for tty in ("IN", "PIN"):  # PINs second, so they can alias onto their IN
            for row in frame.filter(pl.col("tty") == tty).iter_rows(named=True):
                rxcui, name, unii = row["ingredient_rxcui"], row["name"], row["unii"]
                origin = f"rxnorm_ingredients:{row['line']}"
                canonical = self.name_lookup(name) if tty == "PIN" else None
                if canonical is None:
                    canonical = f"RXNORM:{rxcui}"
                    self.new_ingredient(canonical, name, RXNORM_2025_TAG, origin)
                    self._link(self.rxcui, rxcui, canonical, "RXNORM", origin)
                    self.attach(canonical, RXNORM_2025_TAG, origin, uniis=(unii,) if unii else ())
                else:
                    self.attach(canonical, RXNORM_2025_TAG, origin, rxcuis=(rxcui,), uniis=(unii,) if unii else ())
                    self.ingredients[canonical].synonyms[name] = None
                    self._add_primary_name(canonical, name)

    def add_rxnorm_2016(self, path: Path) -> None:
        frame = _read_csv(path, separator="\t").unique(["ingredient_rxcui"], keep="first", maintain_order=True)
        for row in frame.iter_rows(named=True):
            self._add_rxnorm_ingredient(
                row["ingredient_rxcui"],
                _rxnorm_case(row["ingredient_name"]),
                RXNORM_2016_TAG,
                f"rxnorm_products_2016:{row['line']}",
            )

    def _add_rxnorm_ingredient(self, rxcui: str, name: str, tag: str, origin: str) -> str:
        canonical = self.rxcui.get(rxcui) or self.name_lookup(name)
        if canonical is None:
            canonical = f"RXNORM:{rxcui}"
            self.new_ingredient(canonical, name, tag, origin)
        self.attach(canonical, tag, origin, name=name, rxcuis=(rxcui,))
        return canonical

    def add_drugcentral(self, path: Path) -> None:
        frame = (
            _read_csv(path, separator="\t")
            .filter(pl.col("ID_TYPE").is_in(["RXNORM", "DRUGBANK_ID", "UNII"]))
            .group_by("DRUG_ID", maintain_order=True)
            .agg(
                pl.col("DRUG_NAME").first(),
                pl.col("line").min(),
                pl.col("IDENTIFIER").filter(pl.col("ID_TYPE") == "RXNORM").alias("rxnorm"),
                pl.col("IDENTIFIER").filter(pl.col("ID_TYPE") == "DRUGBANK_ID").alias("drugbank"),
                pl.col("IDENTIFIER").filter(pl.col("ID_TYPE") == "UNII").alias("unii"),
            )
            # Drugs with an RxNorm id first: a later DrugBank-only row sharing their DrugBank id
            # then joins the RxNorm node instead of minting a DRUGBANK: node first.
            .sort(pl.col("rxnorm").list.len() == 0, maintain_order=True)
        )
        claims = frame.select(pl.col("drugbank").explode()).to_series().drop_nulls().value_counts()
        shared_ids = set(claims.filter(pl.col("count") > 1)["drugbank"].to_list())
        for row in frame.iter_rows(named=True):
            origin = f"drugcentral_identifiers:{row['line']}"
            rxnorm, unii = tuple(row["rxnorm"]), tuple(row["unii"])
            drugbank = self._checked_drugbank_links(row["DRUG_NAME"], row["drugbank"], unii, shared_ids, origin)
            canonical = (
                next((self.rxcui[r] for r in rxnorm if r in self.rxcui), None)
                or next((self.drugbank[d] for d in drugbank if d in self.drugbank), None)
                or next((self.unii[u] for u in unii if u in self.unii), None)
                or self.name_lookup(row["DRUG_NAME"])
            )
            if canonical is None:
                if rxnorm:
                    canonical = f"RXNORM:{rxnorm[0]}"
                elif drugbank:
                    canonical = f"DRUGBANK:{drugbank[0]}"
                else:
                    self.problems.append(
                        UnmappedReference(origin, row["DRUG_NAME"], "DrugCentral drug has no RxNorm or DrugBank id")
                    )
                    continue
                self.new_ingredient(canonical, row["DRUG_NAME"], DRUGCENTRAL_TAG, origin)
            self.attach(
                canonical,
                DRUGCENTRAL_TAG,
                origin,
                name=row["DRUG_NAME"],
                rxcuis=rxnorm,
                drugbank_ids=drugbank,
                uniis=unii,
            )
            self._link(self.drugcentral, row["DRUG_ID"], canonical, "DRUGCENTRAL", origin)

    def _checked_drugbank_links(
        self, name: str, drugbank_ids: list[str], uniis: tuple[str, ...], shared_ids: set[str], origin: str
    ) -> tuple[str, ...]:
        """DrugCentral's DrugBank ids for one drug, minus links it shares with other drugs that DrugBank disputes.

        DrugCentral gives one DrugBank id to a drug and its prodrugs, esters and metabolites
        (diamorphine and morphine, every insulin analogue and insulin human). Such a shared id
        is kept only for the drug whose name or UNII is DrugBank's own for that id.
        """
        kept: list[str] = []
        for db in drugbank_ids:
            reference = self.drugbank_reference.get(db)
            disputed = db in shared_ids and reference is not None
            if not disputed or _names_drugbank_entry(reference, name, uniis):
                kept.append(db)
            else:
                reason = "DrugCentral gives this DrugBank id to several drugs; DrugBank's name is another one"
                self.problems.append(UnmappedReference(origin, f"DRUGBANK:{db} for {name}", reason))
        return tuple(kept)

    def read_drugbank(self, path: Path) -> pl.DataFrame:
        frame = _read_csv(path)
        for db, name, unii in frame.select("DrugBank ID", "Common name", "UNII").iter_rows():
            self.drugbank_reference[db] = (normalize_drug_name(name), unii)
        return frame

    def add_drugbank(self, frame: pl.DataFrame) -> None:
        for row in frame.iter_rows(named=True):
            db, name, unii = row["DrugBank ID"], row["Common name"], row["UNII"]
            origin = f"drugbank_vocabulary:{row['line']}"
            canonical = self.drugbank.get(db) or (self.unii.get(unii) if unii else None) or self.name_lookup(name)
            if canonical is None:
                canonical = f"DRUGBANK:{db}"
                self.new_ingredient(canonical, name, DRUGBANK_TAG, origin)
            synonyms = tuple(s.strip() for s in (row["Synonyms"] or "").split(" | ") if s.strip())
            self.attach(
                canonical,
                DRUGBANK_TAG,
                origin,
                name=name,
                drugbank_ids=(db,),
                uniis=(unii,) if unii else (),
                synonyms=synonyms,
            )


class DrugResolver:
    """Read-only maps from any drug reference to its canonical Drug id. Build with :meth:`from_paths`."""

    def __init__(self, builder: _Builder, version: str) -> None:
        self._ingredients = builder.ingredients
        self._rxcui = builder.rxcui
        self._drugbank = builder.drugbank
        self._unii = builder.unii
        self._drugcentral = builder.drugcentral
        self._primary = {k: frozenset(v) for k, v in builder.primary.items()}
        self._synonym = {k: frozenset(v) for k, v in builder.synonym.items()}
        self._problems = tuple(builder.problems)
        self._version = version

    @classmethod
    def from_paths(cls, paths: SourcePaths) -> DrugResolver:
        builder = _Builder()
        parts: list[str] = []
        drugbank_path = paths.resolve("drugbank_vocabulary")
        drugbank = builder.read_drugbank(drugbank_path) if drugbank_path is not None else None
        steps = (
            ("rxnorm_ingredients", builder.add_rxnorm_ingredients, RXNORM_2025_TAG),
            ("rxnorm_products_2016", builder.add_rxnorm_2016, RXNORM_2016_TAG),
            ("drugcentral_identifiers", builder.add_drugcentral, DRUGCENTRAL_TAG),
        )
        for field_name, add, tag in steps:
            path = paths.resolve(field_name)
            if path is not None:
                add(path)
                parts.append(tag)
        if drugbank is not None:
            builder.add_drugbank(drugbank)
            parts.append(DRUGBANK_TAG)
        return cls(builder, "+".join(parts) or "empty")

    @property
    def version(self) -> str:
        return self._version

    def __len__(self) -> int:
        return len(self._ingredients)

    # -- by identifier -------------------------------------------------------------------
    def by_rxcui(self, rxcui: str) -> str | None:
        return self._rxcui.get(rxcui.strip())

    def by_drugbank(self, drugbank_id: str) -> str | None:
        return self._drugbank.get(drugbank_id.strip().upper())

    def by_unii(self, unii: str) -> str | None:
        return self._unii.get(unii.strip().upper())

    def by_drugcentral(self, drug_id: str) -> str | None:
        """DrugCentral's own numeric DRUG_ID (used by its class and indication tables)."""
        return self._drugcentral.get(drug_id.strip())

    # -- by name -------------------------------------------------------------------------
    def _exact(self, key: str) -> frozenset[str]:
        return self._primary.get(key) or self._synonym.get(key) or frozenset()

    def _with_salts(self, key: str) -> frozenset[str]:
        for candidate in (key, *salt_stripped_candidates(key), *acid_salt_variants(key)):
            hits = self._exact(candidate)
            if hits:
                return hits
        return frozenset()

    def name_candidates(self, name: str) -> frozenset[str]:
        """Every canonical id the name could mean at the first matching tier (exact, salt-stripped, French)."""
        key = normalize_drug_name(name)
        if not key:
            return frozenset()
        hits = self._with_salts(key)
        if hits:
            return hits
        for variant in french_variants(key):
            hits = self._with_salts(variant)
            if hits:
                return hits
        bare = without_parentheticals(name)
        return self.name_candidates(bare) if bare and bare != name.strip() else frozenset()

    def by_name(self, name: str) -> str | None:
        """The one ingredient a name or synonym means; None when unknown or ambiguous."""
        hits = self.name_candidates(name)
        return next(iter(hits)) if len(hits) == 1 else None

    def resolve(
        self,
        *,
        name: str | None = None,
        rxcui: str | None = None,
        drugbank_id: str | None = None,
        unii: str | None = None,
    ) -> str | None:
        """Identifiers first (RxNorm, DrugBank, UNII), then the name."""
        for value, lookup in ((rxcui, self.by_rxcui), (drugbank_id, self.by_drugbank), (unii, self.by_unii)):
            if value:
                found = lookup(value)
                if found:
                    return found
        return self.by_name(name) if name else None

    def unresolved_reason(self, name: str) -> str:
        """Why :meth:`by_name` gave None, for an UnmappedReference."""
        hits = self.name_candidates(name)
        if len(hits) > 1:
            return f"ambiguous drug name: {', '.join(sorted(hits))}"
        return "unknown drug name" if not hits else "resolved"

    def ambiguous_names(self) -> dict[str, frozenset[str]]:
        """Normalised names that more than one ingredient claims (by primary name, or by synonym only)."""
        out = {k: v for k, v in self._synonym.items() if len(v) > 1 and k not in self._primary}
        out.update({k: v for k, v in self._primary.items() if len(v) > 1})
        return out

    # -- output --------------------------------------------------------------------------
    def name_of(self, canonical: str) -> str | None:
        ing = self._ingredients.get(canonical)
        return ing.name if ing else None

    def drug_nodes(self) -> Iterator[NodeRow]:
        for ing in self._ingredients.values():
            props = {
                "name": ing.name,
                "synonyms": [s for s in ing.synonyms if s != ing.name],
                "xrefs": list(ing.xrefs),
                "sources": list(ing.sources),
            }
            yield NodeRow(Label.DRUG, ing.id, props, ing.origin)

    def active_moieties(self) -> Iterator[tuple[str, str, str]]:
        """(form id, moiety id, form name) for each ingredient named as a salt of another ingredient.

        RxNorm makes mineral salts ingredients of their own ("lithium carbonate", "potassium chloride"),
        while sources state interactions for the moiety ("LITHIUM", "POTASSIUM"). The moiety must be the
        one ingredient with exactly that primary name; a synonym or a guess never makes a link.
        """
        for ing in self._ingredients.values():
            base = moiety_name(normalize_drug_name(ing.name))
            if base is None:
                continue
            # "mycophenolate" is the anion of "mycophenolic acid", the name the moiety goes by.
            for candidate in (base, *acid_salt_variants(base)):
                hits = self._primary.get(candidate, frozenset())
                if hits:
                    moiety = next(iter(hits))
                    if len(hits) == 1 and moiety != ing.id:
                        yield ing.id, moiety, ing.name
                    break

    def build_problems(self) -> tuple[UnmappedReference, ...]:
        """Crosswalk conflicts and unusable source rows met while building."""
        return self._problems


@functools.lru_cache(maxsize=4)
def shared_resolver(paths: SourcePaths) -> DrugResolver:
    """The resolver for these paths, built once per process and shared by every adapter of a load."""
    return DrugResolver.from_paths(paths)
