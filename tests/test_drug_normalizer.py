"""The drug normaliser on a hand-made lexicon of real RxNorm/DrugBank identifiers.

warfarin        RXNORM:11289  (PIN warfarin sodium 114194, DRUGBANK:DB00682)
    products    RXNORM:855332 warfarin sodium 5 MG Oral Tablet
                RXNORM:855334 warfarin sodium 5 MG Oral Tablet [Coumadin]
amoxicillin     RXNORM:723    (no product: the shipped 2025 file lacks "A" ingredients)
clavulanate     RXNORM:48203
    product     RXNORM:562251 amoxicillin 250 MG / clavulanate 125 MG Oral Tablet -> clavulanate only
metoprolol      RXNORM:6918
simvastatin     RXNORM:36567
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ontology.drug_display_text import parse_display_text
from ontology.drug_normalizer import DrugLexicon, MatchType, normalize_drug

RXNORM_SYSTEM = "http://www.nlm.nih.gov/research/umls/rxnorm"
WARFARIN, AMOXICILLIN, CLAVULANATE, METOPROLOL, SIMVASTATIN = (
    "RXNORM:11289",
    "RXNORM:723",
    "RXNORM:48203",
    "RXNORM:6918",
    "RXNORM:36567",
)


@pytest.fixture(scope="module")
def lexicon() -> DrugLexicon:
    return DrugLexicon(
        ingredient_names={
            WARFARIN: "warfarin",
            AMOXICILLIN: "amoxicillin",
            CLAVULANATE: "clavulanate",
            METOPROLOL: "metoprolol",
            SIMVASTATIN: "simvastatin",
        },
        product_ingredients={
            "RXNORM:855332": (WARFARIN,),
            "RXNORM:855334": (WARFARIN,),
            "RXNORM:562251": (CLAVULANATE,),
        },
        product_names={
            "RXNORM:855332": "warfarin sodium 5 MG Oral Tablet",
            "RXNORM:855334": "warfarin sodium 5 MG Oral Tablet [Coumadin]",
            "RXNORM:562251": "amoxicillin 250 MG / clavulanate 125 MG Oral Tablet",
        },
        names={
            "warfarin": (WARFARIN,),
            "coumadin": (WARFARIN,),
            "amoxicillin": (AMOXICILLIN,),
            "clavulanate": (CLAVULANATE,),
            "metoprolol": (METOPROLOL,),
            "simvastatin": (SIMVASTATIN,),
        },
        code_ingredients={
            WARFARIN: (WARFARIN,),
            "RXNORM:114194": (WARFARIN,),
            "DRUGBANK:DB00682": (WARFARIN,),
            AMOXICILLIN: (AMOXICILLIN,),
        },
        name_kinds={"coumadin": MatchType.BRAND},
    )


def ids(match: object) -> list[str]:
    return [ref.id for ref in match.ingredients]  # type: ignore[attr-defined]


def test_clinical_drug_display_text_strips_strength_form_and_salt(lexicon: DrugLexicon) -> None:
    match = normalize_drug(lexicon, text="Warfarin Sodium 5 MG Oral Tablet")
    assert ids(match) == [WARFARIN]
    assert match.match_type is MatchType.PARSED_NAME
    assert match.confidence == pytest.approx(0.8)
    assert match.ingredients[0].name == "warfarin"


def test_brand_only_string_and_sbd_bracket(lexicon: DrugLexicon) -> None:
    bare = normalize_drug(lexicon, text="COUMADIN")
    assert (ids(bare), bare.match_type) == ([WARFARIN], MatchType.BRAND)
    bracket = normalize_drug(lexicon, text="Unknownium 5 MG Oral Tablet [Coumadin]")
    assert (ids(bracket), bracket.match_type) == ([WARFARIN], MatchType.BRAND)


def test_french_spelling_maps_with_lower_confidence(lexicon: DrugLexicon) -> None:
    match = normalize_drug(lexicon, text="warfarine")
    assert ids(match) == [WARFARIN]
    assert match.confidence < normalize_drug(lexicon, text="warfarin").confidence
    assert "French" in (match.reason or "")


def test_product_code_with_system_bare_and_curie(lexicon: DrugLexicon) -> None:
    for code, system in (("855332", RXNORM_SYSTEM), ("855332", None), ("RXNORM:855332", None), ("rxnorm:855332", None)):
        match = normalize_drug(lexicon, code=code, system=system)
        assert (ids(match), match.match_type, match.confidence) == ([WARFARIN], MatchType.PRODUCT_CODE, 1.0)
        assert match.input_code == "RXNORM:855332"


def test_ingredient_codes_including_pin_and_drugbank_xref(lexicon: DrugLexicon) -> None:
    for code in ("RXNORM:11289", "RXNORM:114194", "DRUGBANK:DB00682", "DB00682"):
        match = normalize_drug(lexicon, code=code)
        assert (ids(match), match.match_type) == ([WARFARIN], MatchType.INGREDIENT_CODE), code


def test_unknown_product_code_resolves_from_display_text(lexicon: DrugLexicon) -> None:
    match = normalize_drug(lexicon, text="Amoxicillin 500 MG Oral Capsule", code="308191", system=RXNORM_SYSTEM)
    assert ids(match) == [AMOXICILLIN]
    assert match.match_type is MatchType.PARSED_NAME
    assert match.confidence < 1.0
    assert "RXNORM:308191" in (match.reason or "")


def test_combination_product_text_gives_both_ingredients(lexicon: DrugLexicon) -> None:
    match = normalize_drug(lexicon, text="amoxicillin 875 MG / clavulanate potassium 125 MG Oral Tablet")
    assert ids(match) == [AMOXICILLIN, CLAVULANATE]
    assert match.match_type is MatchType.PARSED_NAME


def test_product_code_missing_an_ingredient_is_completed_from_its_name(lexicon: DrugLexicon) -> None:
    match = normalize_drug(lexicon, code="RXNORM:562251")
    assert sorted(ids(match)) == sorted([AMOXICILLIN, CLAVULANATE])
    assert match.match_type is MatchType.PRODUCT_CODE
    assert "amoxicillin" in (match.reason or "")


def test_salt_form_and_extended_release_text(lexicon: DrugLexicon) -> None:
    assert ids(normalize_drug(lexicon, text="metoprolol succinate")) == [METOPROLOL]
    er = normalize_drug(lexicon, text="24 HR metoprolol succinate 100 MG Extended Release Oral Tablet")
    assert ids(er) == [METOPROLOL]


def test_code_and_text_disagree_trusts_code_and_says_so(lexicon: DrugLexicon) -> None:
    match = normalize_drug(lexicon, text="Simvastatin 10 MG Oral Tablet", code="855332", system=RXNORM_SYSTEM)
    assert ids(match) == [WARFARIN]
    assert "simvastatin" in (match.reason or "")


def test_nonsense_is_unmapped_with_a_reason(lexicon: DrugLexicon) -> None:
    match = normalize_drug(lexicon, text="flibbertigibbet quux")
    assert not match.mapped
    assert match.match_type is MatchType.UNMAPPED
    assert match.confidence == 0.0
    assert "flibbertigibbet" in (match.reason or "")


def test_partially_known_combination_keeps_what_it_found(lexicon: DrugLexicon) -> None:
    match = normalize_drug(lexicon, text="warfarin 5 MG / zorblatine 10 MG Oral Tablet")
    assert ids(match) == [WARFARIN]
    assert match.confidence == pytest.approx(0.4)
    assert "zorblatine" in (match.reason or "")


def test_unknown_system_and_unreadable_code_are_reasons_not_errors(lexicon: DrugLexicon) -> None:
    assert "not a drug code system" in (normalize_drug(lexicon, code="1", system="http://loinc.org").reason or "")
    assert "neither a CURIE" in (normalize_drug(lexicon, code="abc").reason or "")


def test_both_inputs_none_is_a_programming_error(lexicon: DrugLexicon) -> None:
    with pytest.raises(ValueError, match="text and code"):
        normalize_drug(lexicon)


def test_as_dict_is_the_cli_json_shape(lexicon: DrugLexicon) -> None:
    out = normalize_drug(lexicon, text="COUMADIN").as_dict()
    assert out == {
        "input": {"text": "COUMADIN", "code": None},
        "ingredients": [{"id": WARFARIN, "name": "warfarin"}],
        "match_type": "brand",
        "confidence": 0.9,
        "reason": None,
    }


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80), code=st.one_of(st.none(), st.text(max_size=20)))
def test_never_raises_on_arbitrary_text(lexicon: DrugLexicon, text: str, code: str | None) -> None:
    match = normalize_drug(lexicon, text=text, code=code)
    assert 0.0 <= match.confidence <= 1.0
    assert match.mapped == (match.match_type is not MatchType.UNMAPPED)
    assert match.mapped or match.reason


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("warfarin 5mg tab", [WARFARIN]),
        ("metoprolol ER 25 mg", [METOPROLOL]),
        ("simvastatin 20", [SIMVASTATIN]),
        ("Amoxicillin 500 MG Oral Capsule", [AMOXICILLIN]),
        ("0.4 ML warfarin 5 MG/ML Prefilled Syringe", [WARFARIN]),
    ],
)
def test_free_text_prescriptions(lexicon: DrugLexicon, text: str, expected: list[str]) -> None:
    assert ids(normalize_drug(lexicon, text=text)) == expected


@pytest.mark.parametrize(
    ("text", "components", "brands"),
    [
        ("Warfarin Sodium 5 MG Oral Tablet", ("Warfarin Sodium",), ()),
        (
            "24 HR metoprolol succinate 100 MG Extended Release Oral Tablet [Toprol]",
            ("metoprolol succinate",),
            ("Toprol",),
        ),
        ("NDA020503 200 ACTUAT Albuterol 0.09 MG/ACTUAT Metered Dose Inhaler", ("Albuterol",), ()),
        (
            "Abuse-Deterrent 12 HR Oxycodone Hydrochloride 15 MG Extended Release Oral Tablet",
            ("Oxycodone Hydrochloride",),
            (),
        ),
        ("Vitamin B 12 5 MG/ML Injectable Solution", ("Vitamin B 12",), ()),
        (
            "{24 (drospirenone 3 MG / ethinyl estradiol 0.02 MG Oral Tablet) / 4 (inert ingredients 1 MG Oral Tablet) }"
            " Pack [Yaz 28 Day]",
            ("drospirenone", "ethinyl estradiol", "inert ingredients"),
            ("Yaz 28 Day",),
        ),
        ("Augmentin 875 MG / 125 MG Oral Tablet", ("Augmentin",), ()),
        ("Oral Tablet", (), ()),
    ],
)
def test_display_text_parser(text: str, components: tuple[str, ...], brands: tuple[str, ...]) -> None:
    parsed = parse_display_text(text)
    assert (parsed.components, parsed.brands) == (components, brands)
