"""Pure text functions for matching drug names across sources and languages.

Sources spell one ingredient many ways: "Warfarin Sodium", "warfarin", "WARFARINE"
(French), "abémaciclib". These functions only rewrite text; deciding whether a
rewritten name is a *known* ingredient is the caller's job (it passes ``is_known``),
so a rule never invents a match on its own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator

SALT_WORDS: frozenset[str] = frozenset(
    {
        "acetate",
        "acetonide",
        "anhydrous",
        "aspartate",
        "axetil",
        "benzathine",
        "benzoate",
        "besilate",
        "besylate",
        "bitartrate",
        "bromide",
        "butyrate",
        "calcium",
        "camsylate",
        "carbonate",
        "chloride",
        "cilexetil",
        "citrate",
        "cypionate",
        "decanoate",
        "diacetate",
        "dihydrate",
        "dihydrochloride",
        "dimeglumine",
        "dimesylate",
        "dipivoxil",
        "dipotassium",
        "dipropionate",
        "disodium",
        "edisylate",
        "embonate",
        "enacarbil",
        "enanthate",
        "epolamine",
        "erbumine",
        "estolate",
        "esylate",
        "ethylsuccinate",
        "fosamil",
        "fumarate",
        "furoate",
        "gluconate",
        "hcl",
        "hemifumarate",
        "hemihydrate",
        "hemisulfate",
        "hexacetonide",
        "hippurate",
        "hyclate",
        "hydrate",
        "hydrobromide",
        "hydrochloride",
        "hydroiodide",
        "iodide",
        "isethionate",
        "lactate",
        "lactobionate",
        "lysine",
        "magnesium",
        "malate",
        "maleate",
        "mandelate",
        "medoxomil",
        "meglumine",
        "mesilate",
        "mesylate",
        "methylbromide",
        "methylsulfate",
        "monohydrate",
        "mononitrate",
        "mucate",
        "napsylate",
        "nitrate",
        "orotate",
        "oxalate",
        "palmitate",
        "pamoate",
        "phosphate",
        "pivoxil",
        "polistirex",
        "potassium",
        "probutate",
        "procaine",
        "propionate",
        "proxetil",
        "saccharate",
        "salicylate",
        "sesquihydrate",
        "sodium",
        "stearate",
        "succinate",
        "sulfate",
        "sulphate",
        "tannate",
        "tartrate",
        "tosilate",
        "tosylate",
        "trifenatate",
        "trihydrate",
        "trisodium",
        "trometamol",
        "tromethamine",
        "undecanoate",
        "valerate",
        "xinafoate",
    }
)
"""Counter-ions, ester/prodrug moieties and hydrate words that may trail an ingredient name.

"metoprolol succinate", "mometasone furoate", "olmesartan medoxomil": RxNorm PINs and DrugBank
salts spell the ingredient plus one of these; stripping is only accepted when the rest is known.
"""

# French -> English spelling rules, tried on each word; a variant only counts when the
# caller knows the resulting name, so over-eager rules cost nothing but a lookup.
_FRENCH_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("ine", "in"),  # warfarine -> warfarin, amoxicilline -> amoxicillin
    ("ique", "ic"),  # acide folique -> folic (acid handled below)
    ("e", ""),  # digoxine -> digoxin; only counts when the result is a known name
)
_FRENCH_WORDS: dict[str, str] = {"acide": "acid", "sodique": "sodium", "potassique": "potassium"}

_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_PARENTHETICAL = re.compile(r"\s*[(\[][^)\]]*[)\]]")


def fold_accents(text: str) -> str:
    """``abémaciclib`` -> ``abemaciclib``: decompose and drop combining marks."""
    if text.isascii():  # nearly every name: skip the per-character pass
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def normalize_drug_name(text: str) -> str:
    """Lower-case, accent-free, punctuation collapsed to single spaces: the key names are matched on."""
    folded = fold_accents(text).lower()
    return _NON_ALNUM.sub(" ", folded).strip()


def without_parentheticals(text: str) -> str:
    """``retinol (vit A)`` -> ``retinol``: qualifiers in brackets dropped (raw text, before normalising)."""
    return _PARENTHETICAL.sub("", text).strip()


def salt_stripped_candidates(normalized: str) -> Iterator[str]:
    """Shorter and shorter names with trailing salt words removed, longest first.

    ``warfarin sodium`` -> ``warfarin``; ``doxycycline hyclate monohydrate`` ->
    ``doxycycline hyclate``, ``doxycycline``. A leading salt word ("sodium valproate")
    is tried last. Yields nothing when no salt word is present.
    """
    words = normalized.split()
    while len(words) > 1 and words[-1] in SALT_WORDS:
        words = words[:-1]
        yield " ".join(words)
    original = normalized.split()
    if len(original) > 1 and original[0] in SALT_WORDS:
        yield " ".join(original[1:])


def strip_salt(normalized: str, is_known: Callable[[str], bool]) -> str | None:
    """The first salt-stripped form of a normalised name that ``is_known``; None when there is none."""
    for candidate in salt_stripped_candidates(normalized):
        if is_known(candidate):
            return candidate
    return None


MOIETY_COUNTER_WORDS: frozenset[str] = (
    SALT_WORDS
    | {"bicarbonate", "bisglycinate", "glycinate", "hydroxide", "mofetil", "oxide", "picolinate", "trisilicate"}
) - {"salicylate"}
"""Words that, trailing a name, leave the part that carries the action: "lithium carbonate" -> lithium.

Mineral salts are ingredients of their own in RxNorm (potassium chloride, ferrous sulfate), unlike the
salts of organic drugs (a PIN such as "warfarin sodium" aliases onto warfarin). Salicylate is left out:
in "magnesium salicylate" it is the salicylate that acts.
"""

CATION_ADJECTIVES: dict[str, str] = {
    "ferrous": "iron",
    "ferric": "iron",
    "cupric": "copper",
    "cuprous": "copper",
    "stannous": "tin",
}
"""Cations named by adjective in salt names: "ferrous sulfate" is a salt of iron."""


def moiety_name(normalized: str) -> str | None:
    """The name of the part of a salt that acts: ``lithium carbonate`` -> ``lithium``, ``ferrous sulfate``
    -> ``iron``, ``medroxyprogesterone acetate`` -> ``medroxyprogesterone``; None when the name ends in no
    counter-ion word, or too little is left to be a name. Whether it names a known ingredient is the
    caller's question."""
    words = normalized.split()
    stripped = False
    while len(words) > 1 and words[-1] in MOIETY_COUNTER_WORDS:
        words = words[:-1]
        stripped = True
    rest = " ".join(words)
    if not stripped or len(rest) < 3:
        return None
    return CATION_ADJECTIVES.get(rest, rest)


def acid_salt_variants(normalized: str) -> Iterator[str]:
    """The acid/anion spelling of the same ingredient: ``clavulanic acid`` <-> ``clavulanate``.

    RxNorm names many ingredients by the anion ("alendronate", "valproate") where DrugCentral
    and DrugBank use the acid ("alendronic acid"); matching the two avoids a second node.
    """
    words = normalized.split()
    if len(words) >= 2 and words[-1] == "acid" and words[-2].endswith("ic"):
        yield " ".join([*words[:-2], words[-2][:-2] + "ate"])
    elif words and words[-1].endswith("ate") and len(words[-1]) > 5:
        yield " ".join([*words[:-1], words[-1][:-3] + "ic", "acid"])


def french_variants(normalized: str) -> Iterator[str]:
    """English spellings a French drug name may correspond to (``warfarine`` -> ``warfarin``).

    ``acide X`` becomes ``X acid`` (``acide folique`` -> ``folic acid``). Every word is
    rewritten with the first suffix rule that applies; one variant per rule set.
    """
    words = normalized.split()
    if not words:
        return
    seen: set[str] = {normalized}
    if words[0] == "acide" and len(words) > 1:
        words = [*words[1:], "acid"]
    words = [_FRENCH_WORDS.get(w, w) for w in words]
    for old, new in _FRENCH_SUFFIXES:
        rewritten = [w[: -len(old)] + new if w.endswith(old) and len(w) > len(old) + 2 else w for w in words]
        variant = " ".join(rewritten)
        if variant not in seen:
            seen.add(variant)
            yield variant
    plain = " ".join(words)
    if plain not in seen:
        yield plain
