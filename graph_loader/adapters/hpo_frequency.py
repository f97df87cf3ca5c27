"""HPO annotation frequencies as a share of patients (0..1).

phenotype.hpoa states frequency three ways: an HPO frequency term, ``n/m`` patients,
or ``x%``. Terms stand for a range, so each maps to a representative value inside it
(the midpoint, except the open-ended obligate/excluded ends).
"""

from __future__ import annotations

import re

OBLIGATE = "HP:0040280"
EXCLUDED = "HP:0040285"

FREQUENCY_TERMS: dict[str, float] = {
    OBLIGATE: 1.0,  # Obligate: 100%
    "HP:0040281": 0.9,  # Very frequent: 80-99%
    "HP:0040282": 0.55,  # Frequent: 30-79%
    "HP:0040283": 0.17,  # Occasional: 5-29%
    "HP:0040284": 0.025,  # Very rare: 1-4%
    EXCLUDED: 0.0,  # Excluded: 0%
}

_FRACTION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


class FrequencyError(ValueError):
    """A frequency text that is none of the three forms phenotype.hpoa uses."""


def parse_frequency(text: str) -> float | None:
    """``HP:0040281`` -> 0.9, ``3/4`` -> 0.75, ``25%`` -> 0.25; empty -> None.

    Raises :class:`FrequencyError` naming the text when it cannot be read (including
    ``n/m`` with m = 0 or n > m), so a bad value is reported rather than guessed.
    """
    text = text.strip()
    if not text:
        return None
    if text in FREQUENCY_TERMS:
        return FREQUENCY_TERMS[text]
    fraction = _FRACTION.match(text)
    if fraction:
        n, m = int(fraction.group(1)), int(fraction.group(2))
        if m == 0 or n > m:
            raise FrequencyError(f"frequency {text!r}: n/m needs 0 <= n <= m and m > 0")
        return n / m
    percent = _PERCENT.match(text)
    if percent:
        value = float(percent.group(1)) / 100
        if value > 1:
            raise FrequencyError(f"frequency {text!r}: a percentage above 100")
        return value
    raise FrequencyError(f"frequency {text!r} is not an HPO frequency term, n/m or x%")
