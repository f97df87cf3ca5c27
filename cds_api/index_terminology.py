"""The production :class:`~cds_api.terminology.Terminology`: the compiled drug lexicon and allergy groups.

Drug codes and names go through :func:`ontology.drug_normalizer.normalize_drug`; allergy records
naming a whole group ("Penicillins", "PCN", or an ``ALLERGYGROUP:`` code) resolve to the group's
class id from the allergy index, by the group's name and synonyms
(:class:`ontology.allergen_text.GroupPhrases`). Resolutions are memoised per codes when the first
code alone decides the answer (an exact product or ingredient code: the display text cannot change
it), else per (codes, text): display texts differ from patient to patient, codes are shared by
every patient on the drug.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from cds_api.memo import remember
from cds_api.terminology import DrugResolution
from knowledge_index.allergy import AllergyIndex
from ontology.allergen_text import GroupPhrases
from ontology.condition_codes import ConditionCodeMapper
from ontology.curie import CodeSystemMap, CurieError
from ontology.drug_normalizer import DrugLexicon, MatchType, normalize_drug

_TEXT_NEEDED = DrugResolution(())
"""Memo marker: these codes alone do not decide the resolution, the display text may."""

EXACT_MATCHES = frozenset({MatchType.INGREDIENT_CODE, MatchType.PRODUCT_CODE})
MEMO_LIMIT = 50_000


@dataclass(slots=True)
class LexiconTerminology:
    lexicon: DrugLexicon
    allergy_index: AllergyIndex
    codes: CodeSystemMap
    condition_mapper: ConditionCodeMapper | None = None
    _group_phrases: GroupPhrases = field(init=False)
    _memo: dict[tuple[tuple[str, ...], str | None], DrugResolution] = field(default_factory=dict)
    _code_memo: dict[tuple[str, ...], DrugResolution] = field(default_factory=dict)
    _condition_memo: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Whole words only: "penicillin" names the penicillin group, "amoxicillin" does not.
        self._group_phrases = GroupPhrases(self.allergy_index.group_phrases())

    def resolve_drug(self, codes: Sequence[str], text: str | None) -> DrugResolution:
        code_key = tuple(codes)
        by_code = self._code_memo.get(code_key)
        if by_code is None:
            by_code = remember(self._code_memo, code_key, self._resolve_by_code(code_key), MEMO_LIMIT)
        if by_code is not _TEXT_NEEDED:
            return by_code
        key = (code_key, text)
        cached = self._memo.get(key)
        if cached is None:
            cached = remember(self._memo, key, self._resolve(codes, text), MEMO_LIMIT)
        return cached

    def _resolve_by_code(self, codes: tuple[str, ...]) -> DrugResolution:
        """What :meth:`_resolve` answers for any text, or ``_TEXT_NEEDED`` when the text could matter.

        :meth:`_resolve` tries the first non-group code with the text; an exact code match wins over
        the text and carries no note, unless the product is one the lexicon does not name (its
        missing ingredients would then be read from the order's text).
        """
        first = next((c for c in codes if not self.allergy_index.groups_named_by(c)), None)
        if first is None:
            return _TEXT_NEEDED
        match = normalize_drug(self.lexicon, None, first)
        if not match.mapped or match.match_type not in EXACT_MATCHES:
            return _TEXT_NEEDED
        if match.match_type is MatchType.PRODUCT_CODE and match.input_code not in self.lexicon.product_names:
            return _TEXT_NEEDED
        return DrugResolution(tuple(ref.id for ref in match.ingredients), self._groups_coded(codes), None)

    def _resolve(self, codes: Sequence[str], text: str | None) -> DrugResolution:
        class_ids = self._groups_coded(codes)
        reasons: list[str] = []
        for code in codes:
            if self.allergy_index.groups_named_by(code):
                continue
            match = normalize_drug(self.lexicon, text, code)
            if match.mapped:
                note = None if match.match_type in EXACT_MATCHES else f"by {match.match_type.value.replace('_', ' ')}"
                return DrugResolution(tuple(ref.id for ref in match.ingredients), class_ids, note)
            if match.reason:
                reasons.append(match.reason)
        if not codes and text:
            match = normalize_drug(self.lexicon, text)
            if match.mapped:
                return DrugResolution(
                    tuple(ref.id for ref in match.ingredients),
                    class_ids,
                    f"by {match.match_type.value.replace('_', ' ')}",
                )
            if match.reason:
                reasons.append(match.reason)
        if class_ids:
            return DrugResolution((), class_ids, None)  # a group named by its code: exact
        named = self._group_phrases.groups_in(text) if text else ()
        if named:
            return DrugResolution((), named, "by allergy group name")
        return DrugResolution((), (), "; ".join(reasons) or "not recognised")

    def _groups_coded(self, codes: Sequence[str]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(g for c in codes for g in self.allergy_index.groups_named_by(c)))

    def condition_codes(self, codes: Sequence[str]) -> tuple[str, ...]:
        key = tuple(codes)
        cached = self._condition_memo.get(key)
        if cached is None:
            cached = remember(self._condition_memo, key, self._condition_codes(key), MEMO_LIMIT)
        return cached

    def _condition_codes(self, codes: tuple[str, ...]) -> tuple[str, ...]:
        if self.condition_mapper is None:
            return codes
        expanded = list(codes)
        for curie in codes:
            try:
                system, code = self.codes.to_fhir(curie)
            except CurieError:
                continue
            expanded.extend(self.condition_mapper.map_coding(system, code).curies)
        return tuple(dict.fromkeys(expanded))
