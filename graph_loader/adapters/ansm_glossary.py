"""English renderings of the ANSM thesaurus's French text, from a curated glossary.

The thesaurus states mechanisms in French. We never machine-translate: a curated list of
the frequent mechanism phrases (``curated/ansm_glossary.yaml``) gives English for what it
covers, and anything it does not cover is shown as the French source, labelled as such.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from ontology.drug_names import fold_accents

DEFAULT_GLOSSARY = Path(__file__).resolve().parent.parent / "curated" / "ansm_glossary.yaml"

_SPACES = re.compile(r"\s+")


def fold_text(text: str) -> str:
    """Accent-free, lower-case, single-spaced; typographic apostrophes and ligatures made plain.

    Also joins words the PDF extraction split at a hyphen ("bêta- bloquants").
    """
    plain = text.replace("\u2019", "'").replace("œ", "oe").replace("Œ", "OE")
    folded = _SPACES.sub(" ", fold_accents(plain).lower()).strip()
    return folded.replace("- ", "-")


def tidy_text(text: str) -> str:
    """The source text with its PDF line breaks collapsed, accents kept."""
    return _SPACES.sub(" ", text.replace("\u2019", "'")).strip()


class _Phrase(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    fr: str
    en: str


class _GlossaryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    mechanism_phrases: list[_Phrase]
    class_names: dict[str, str]
    substance_names: dict[str, str]


class AnsmGlossary:
    """Mechanism phrases (folded French -> English), English names of ANSM classes and substances."""

    def __init__(
        self, phrases: list[tuple[str, str]], class_names: dict[str, str], substance_names: dict[str, str]
    ) -> None:
        self._phrases = phrases
        self._class_names = class_names
        self._substance_names = substance_names

    @classmethod
    def load(cls, path: Path = DEFAULT_GLOSSARY) -> AnsmGlossary:
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
            parsed = _GlossaryFile.model_validate(raw)
        except (yaml.YAMLError, ValidationError) as exc:
            raise ValueError(f"ANSM glossary {path}: {exc}") from exc
        phrases = [(fold_text(p.fr), p.en) for p in parsed.mechanism_phrases]
        classes = {fold_text(k): v for k, v in parsed.class_names.items()}
        substances = {fold_text(k): v for k, v in parsed.substance_names.items()}
        return cls(phrases, classes, substances)

    @property
    def phrase_count(self) -> int:
        return len(self._phrases)

    def class_name_en(self, french_name: str) -> str | None:
        return self._class_names.get(fold_text(french_name))

    def substance_name_en(self, french_name: str) -> str | None:
        """The English name to resolve a substance by when its French name fails."""
        return self._substance_names.get(fold_text(french_name))

    def matches(self, french_text: str) -> list[str]:
        """English phrases found in the text, in the order they occur.

        Glossary order is priority order: a phrase inside a span a longer phrase already
        matched is not counted again.
        """
        folded = fold_text(french_text)
        taken: list[tuple[int, int, str]] = []
        for fr, en in self._phrases:
            start = folded.find(fr)
            if start < 0:
                continue
            end = start + len(fr)
            if any(start < t_end and t_start < end for t_start, t_end, _ in taken):
                continue
            taken.append((start, end, en))
        ordered = sorted(taken)
        return list(dict.fromkeys(en for _, _, en in ordered))

    def mechanism_en(self, french_text: str) -> str:
        """An English rendering of a French mechanism, or the French text labelled as such."""
        found = self.matches(french_text)
        if not found:
            return f"mechanism (French source): {tidy_text(french_text)}"
        sentence = "; ".join(found)
        return sentence[0].upper() + sentence[1:] + " (summarised from the French source)."
