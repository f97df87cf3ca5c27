"""Read what an allergy record names from the way clinicians and terminologies phrase it.

Allergy lists are written in phrases rather than substance names: SNOMED CT disorder displays
("Allergy to penicillin", "Sulfonamide allergy"), substance displays with a semantic tag
("Penicillin (substance)"), and the short forms of a ward ("PCN", "Sulfa drugs", "NSAIDs").
Two pure text steps, no lexicon here:

- :func:`allergen_name` takes the phrasing off, leaving the substance or group a lexicon can look up;
- :class:`GroupPhrases` finds the allergy groups a text names, from each group's name and synonyms,
  longest phrase first so "non-antibacterial sulfonamides" is not also read as "sulfonamides".

Words are compared folded: lower case, letters only, a plural "s" dropped ("penicillins" ~
"penicillin"), so a group named "Penicillins" is found in "Allergy to penicillin".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

_WORD = re.compile(r"[a-z0-9]+")
_SEMANTIC_TAG = re.compile(r"\s*\((?:substance|disorder|finding|product|medicinal product|situation)\)\s*$", re.I)
_LEADING = re.compile(
    r"^\s*(?:h/o|history of|known|drug|medication)?\s*"
    r"(?:allergy|allergic reaction|allergic|hypersensitivity|intolerance|sensitivity|anaphylaxis|adverse reaction)"
    r"\s*(?:to|due to|:|-)\s+",
    re.I,
)
_TRAILING = re.compile(
    r"\s*(?:-|\s)\s*(?:induced\s+)?(?:drug\s+)?"
    r"(?:allergy|allergies|hypersensitivity|intolerance|sensitivity|anaphylaxis)\s*$",
    re.I,
)


SNOMEDCT = "SNOMEDCT"
"""The schema's CURIE prefix for SNOMED CT."""
NO_KNOWN_ALLERGY = frozenset(
    f"{SNOMEDCT}:{code}"
    for code in (
        "716186003",  # No known allergy
        "409137002",  # No known drug allergy
        "428607008",  # No known environmental allergy
        "429625007",  # No known food allergy
        "428197003",  # No known insect allergy
        "1003774007",  # No known Hevea brasiliensis latex allergy
    )
)
_NO_KNOWN = re.compile(r"^\s*(?:nkda|nka|nkma|no known (?:drug |medication )?allerg(?:y|ies))\s*$", re.I)


def states_no_allergy(curies: Iterable[str], text: str | None) -> bool:
    """Whether a record says the patient has *no* known allergy ("NKDA", ``SNOMEDCT:409137002``): it
    names no substance, and is neither an allergy to screen against nor one that went unrecognised."""
    return any(curie in NO_KNOWN_ALLERGY for curie in curies) or bool(text and _NO_KNOWN.match(text))


def allergen_name(text: str) -> str:
    """``"Allergy to penicillin"`` -> ``"penicillin"``; ``"Sulfonamide allergy (disorder)"`` -> ``"Sulfonamide"``.

    The text is returned unchanged when it has no allergy phrasing (``"Penicillin V"``), and a
    phrase that is nothing but phrasing (``"Allergy"``) is kept whole rather than emptied.
    """
    name = _SEMANTIC_TAG.sub("", text).strip()
    stripped = _TRAILING.sub("", _LEADING.sub("", name)).strip()
    return stripped or name


def fold_words(text: str) -> tuple[str, ...]:
    """The words of ``text`` as compared: lower case, letters and digits only, a plural ``s`` dropped."""
    return tuple(_fold(word) for word in _WORD.findall(text.lower()))


def _fold(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


class GroupPhrases:
    """Which groups a text names, by each group's phrases (its name and synonyms).

    A tiny example, the groups and the phrases that name them::

        ALLERGYGROUP:penicillin ── "Penicillins", "PCN"
        ALLERGYGROUP:sulfonamide_antibacterial ── "Sulfonamide antibacterials", "sulfa", "sulfonamide"
        ALLERGYGROUP:sulfonamide_nonantibacterial ── "Non-antibacterial sulfonamides"

    "Allergy to penicillin" names the first; "non-antibacterial sulfonamide" only the third (its three
    words are taken by the longest phrase, so "sulfonamide" is not read again inside it).
    A phrase may name several groups ("beta-lactam" can stand for penicillins and cephalosporins).
    """

    def __init__(self, phrases: Mapping[str, Iterable[str]]) -> None:
        by_words: dict[tuple[str, ...], list[str]] = {}
        for group, texts in phrases.items():
            for text in texts:
                words = fold_words(text)
                if words and group not in by_words.setdefault(words, []):
                    by_words[words].append(group)
        self._groups = {words: tuple(groups) for words, groups in by_words.items()}
        self._longest = max((len(words) for words in self._groups), default=0)

    def groups_in(self, text: str) -> tuple[str, ...]:
        """The groups named in ``text``, in the order they appear; empty when none is."""
        words = fold_words(text)
        found: dict[str, None] = {}
        start = 0
        while start < len(words):
            for size in range(min(self._longest, len(words) - start), 0, -1):
                groups = self._groups.get(words[start : start + size])
                if groups is not None:
                    found.update(dict.fromkeys(groups))
                    start += size
                    break
            else:
                start += 1
        return tuple(found)
