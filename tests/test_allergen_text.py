"""Reading allergy records' wording: the phrasing taken off, the groups a text names.

The groups, a tiny hand-made set::

    P   penicillins ── "Penicillins", "PCN", "beta-lactam"
    C   cephalosporins ── "Cephalosporins", "beta-lactam"
    SA  sulfonamide antibacterials ── "Sulfonamide antibacterials", "sulfa", "sulfonamide"
    SN  non-antibacterial sulfonamides ── "Non-antibacterial sulfonamides"
"""

from __future__ import annotations

import pytest

from ontology.allergen_text import GroupPhrases, allergen_name, fold_words, states_no_allergy

GROUPS = GroupPhrases(
    {
        "P": ["Penicillins", "PCN", "beta-lactam"],
        "C": ["Cephalosporins", "beta-lactam"],
        "SA": ["Sulfonamide antibacterials", "sulfa", "sulfonamide"],
        "SN": ["Non-antibacterial sulfonamides"],
    }
)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("Allergy to penicillin", "penicillin"),
        ("Allergic reaction to codeine", "codeine"),
        ("History of allergy to morphine", "morphine"),
        ("Hypersensitivity to NSAIDs", "NSAIDs"),
        ("Sulfonamide allergy (disorder)", "Sulfonamide"),
        ("Penicillin (substance)", "Penicillin"),
        ("Penicillin-induced anaphylaxis", "Penicillin"),
        ("Penicillin V", "Penicillin V"),
        ("Allergy", "Allergy"),
    ],
)
def test_allergen_name_takes_the_phrasing_off(text: str, name: str) -> None:
    assert allergen_name(text) == name


def test_plurals_fold_onto_the_singular() -> None:
    assert fold_words("Penicillins, NSAIDs") == ("penicillin", "nsaid")
    assert fold_words("glass") == ("glass",)


@pytest.mark.parametrize(
    ("text", "groups"),
    [
        ("penicillin", ("P",)),
        ("PCN", ("P",)),
        ("Sulfa drugs", ("SA",)),
        ("non-antibacterial sulfonamide", ("SN",)),
        ("penicillins and cephalosporins", ("P", "C")),
        ("Beta-lactam antibiotics", ("P", "C")),
        ("Beta-lactamase inhibitors", ()),
        ("amoxicillin", ()),
        ("", ()),
    ],
)
def test_groups_are_found_by_whole_phrases_longest_first(text: str, groups: tuple[str, ...]) -> None:
    assert GROUPS.groups_in(text) == groups


@pytest.mark.parametrize(
    ("curies", "text", "none_known"),
    [
        (("SNOMEDCT:409137002",), "No known drug allergy", True),
        ((), "NKDA", True),
        ((), "No known allergies", True),
        (("SNOMEDCT:91936005",), "Allergy to penicillin", False),
        ((), "No known cause", False),
    ],
)
def test_a_no_known_allergy_record_is_told_apart(curies: tuple[str, ...], text: str, none_known: bool) -> None:
    assert states_no_allergy(curies, text) is none_known
