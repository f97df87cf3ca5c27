"""Take apart the display text of a prescribed drug into the ingredient names it lists.

EHRs send RxNorm-style names ("24 HR metoprolol succinate 100 MG Extended Release Oral
Tablet", "amoxicillin 500 MG / clavulanate 125 MG Oral Tablet [Augmentin]", packs such as
"{24 (drospirenone 3 MG / ethinyl estradiol 0.02 MG Oral Tablet) / 4 (...) } Pack [Yaz]").
In that grammar an ingredient name always comes right before its strength, so the name is
the text between the previous number-with-unit (a volume, "24 HR", "120 ACTUAT") and the
strength; the dose form follows the last strength. Pure text functions: no lexicon here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Units RxNorm writes after a number; "24 HR", "0.4 ML" and "120 ACTUAT" use the same shape
# as a strength, which is why the name is taken *between* matches, never after the first.
_UNIT = (
    r"(?:MG|MCG|UG|NG|G|GM|KG|ML|L|UNT|UNITS?|IU|MEQ|MMOL|ACTUAT|HR|HOURS?|CELLS|BAU|AU|PNU|"
    r"MCI|MBQ|LFU|TCID50|PFU|CFU|VECTOR-GENOMES|%)"
)
_STRENGTH = re.compile(
    rf"(?<![\w.])\d+(?:[.,]\d+)?\s*{_UNIT}(?:\s*/\s*(?:\d+(?:[.,]\d+)?\s*)?{_UNIT})*(?![\w-])",
    re.IGNORECASE,
)
# "7 DAY" leads some patch names; matched case-sensitively so a brand such as "Yaz 28 Day" survives.
_LEADING_DAYS = re.compile(r"^\s*\d+\s+DAY\b")
_BRACKET = re.compile(r"\[([^\[\]]*)\]")
_PARENTHETICAL = re.compile(r"\([^()]*\)")
_COMPONENT_SPLIT = re.compile(r"\s+/\s+")

_DOSE_FORM_TEXT = """
actuat applicator auto bar buccal capsule capsules cartridge chewable chewing cream delayed
disintegrating dose douche drops drug dry effervescent enema er extended film foam for gas gel
granules gum implant inhalant inhalation inhaler injectable injection injector insert intrauterine
intravesical irrigation jet kit liquefied liquid lotion lozenge medicated membrane metered mouthwash
mucosal mucous nasal ointment oil ophthalmic oral otic pack pad paste patch pellet pen powder
prefilled rectal release shampoo soap solution spray sublingual suppository suspension syringe
system tablet tablets tape toothpaste topical transdermal vaginal wafer
tab tabs cap caps caplet inj soln susp oint crm odt ec er xr xl sr cr dr la po
"""
DOSE_FORM_WORDS: frozenset[str] = frozenset(_DOSE_FORM_TEXT.split())
"""Words of RxNorm dose forms ("Extended Release Oral Tablet") and their usual EHR abbreviations
("tab", "ER"), stripped from the end of a name."""


@dataclass(frozen=True, slots=True)
class DisplayText:
    """What a display text names: ingredient-name candidates per component and any bracketed brands."""

    components: tuple[str, ...]
    brands: tuple[str, ...]


def bracket_brands(text: str) -> tuple[str, ...]:
    """``"warfarin sodium 5 MG Oral Tablet [Coumadin]"`` -> ``("Coumadin",)``."""
    return tuple(b.strip() for b in _BRACKET.findall(text) if b.strip())


def strip_dose_form(name: str) -> str:
    """Drop trailing dose-form words, keeping at least one word: ``"amoxicillin oral capsule"`` -> ``"amoxicillin"``."""
    words = name.split()
    while len(words) > 1 and words[-1].lower().strip(".,") in DOSE_FORM_WORDS:
        words.pop()
    return " ".join(words)


def _name_part(text: str) -> str:
    """``text`` without trailing dose-form words; empty when it is nothing but a dose form ("Oral Tablet")."""
    name = strip_dose_form(text)
    return "" if name.lower().strip(".,") in DOSE_FORM_WORDS else name


def _pack_items(text: str) -> list[str]:
    """The clinical drugs inside a pack's braces: top-level ``(...)`` groups, nested parentheses kept."""
    items: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch == "(":
            if depth == 0:
                start = i + 1
            depth += 1
        elif ch == ")" and depth > 0:
            depth -= 1
            if depth == 0:
                items.append(text[start:i])
    return items


def component_name(part: str) -> str:
    """The ingredient name inside one ``name strength [dose form]`` component; may be empty."""
    part = _LEADING_DAYS.sub(" ", part)
    matches = list(_STRENGTH.finditer(part))
    if not matches:
        return _name_part(part.strip())
    # The name sits just before the last strength; earlier matches are volumes or "24 HR".
    for i in range(len(matches) - 1, -1, -1):
        prev_end = matches[i - 1].end() if i > 0 else 0
        name = part[prev_end : matches[i].start()].strip(" ,;-")
        if name:
            return name
    # "5 mg warfarin": strength first, name after it.
    return _name_part(part[matches[-1].end() :].strip(" ,;-"))


def _clinical_drug_components(text: str) -> list[str]:
    names = []
    for part in _COMPONENT_SPLIT.split(text):
        name = component_name(part)
        if name:
            names.append(name)
    return names


def parse_display_text(text: str) -> DisplayText:
    """Split a clinical/branded drug or pack display text into ingredient-name candidates.

    Components keep their original spelling (salts, case); duplicates across pack items are
    dropped. Text without strengths comes back as one component with its dose form removed.
    """
    brands = bracket_brands(text)
    body = _BRACKET.sub(" ", text)
    raw: list[str] = []
    if "{" in body and "}" in body:
        inner = body[body.index("{") + 1 : body.rindex("}")]
        for item in _pack_items(inner) or [inner]:
            raw.extend(_clinical_drug_components(item))
    else:
        raw.extend(_clinical_drug_components(body))
    seen: set[str] = set()
    components: list[str] = []
    for name in raw:
        key = " ".join(name.lower().split())
        if key not in seen:
            seen.add(key)
            components.append(name)
    return DisplayText(components=tuple(components), brands=brands)


def without_parenthetical(name: str) -> str:
    """``"rubella virus vaccine live (Wistar RA 27-3 strain)"`` -> ``"rubella virus vaccine live"``."""
    return " ".join(_PARENTHETICAL.sub(" ", name).split())
