"""Signed card uuids: they round-trip their rule-key id, keep the UUID v4 layout and cannot be forged; a
service's minter names its own rule keys."""

from __future__ import annotations

import os
import random
import uuid

import pytest

from cds_api.card_ids import MAX_KEY_ID, RANDOM_MASK, CardIdCodec, CardIdMinter, RuleKey
from cds_api.card_models import IssuedCard
from cds_api.cards import random_uuid

SECRET = bytes(range(32))


@pytest.fixture
def codec() -> CardIdCodec:
    return CardIdCodec(SECRET)


def test_round_trip_of_key_ids_at_the_edges_and_between(codec: CardIdCodec) -> None:
    rng = random.Random(7)
    for key_id in (0, 1, 2, 4095, 65536, MAX_KEY_ID, *(rng.randrange(MAX_KEY_ID) for _ in range(200))):
        for random_bits in (0, RANDOM_MASK, rng.getrandbits(54)):
            assert codec.key_id(codec.make(key_id, random_bits)) == key_id


def test_uuids_are_version_4_rfc_4122_and_lower_case(codec: CardIdCodec) -> None:
    for key_id in (0, 17, MAX_KEY_ID):
        text = codec.make(key_id, 123456789)
        parsed = uuid.UUID(text)
        assert parsed.version == 4
        assert parsed.variant == uuid.RFC_4122
        assert str(parsed) == text


def test_two_cards_of_one_rule_differ(codec: CardIdCodec) -> None:
    rng = random.Random(1)
    made = {codec.make(42, rng.getrandbits(54)) for _ in range(1000)}
    assert len(made) == 1000


def test_every_single_flipped_bit_is_refused(codec: CardIdCodec) -> None:
    text = codec.make(1234, 987654321)
    value = uuid.UUID(text).int
    refused = 0
    for bit in range(128):
        flipped = str(uuid.UUID(int=value ^ (1 << bit)))
        # Flipping a version or variant bit breaks the layout; any other bit breaks the MAC.
        if codec.key_id(flipped) is None:
            refused += 1
    assert refused == 128


def test_another_secret_refuses_the_uuid(codec: CardIdCodec) -> None:
    text = codec.make(5, 99)
    assert CardIdCodec(bytes(32)).key_id(text) is None
    assert CardIdCodec(SECRET).key_id(text) == 5  # same secret (another worker): accepted


@pytest.mark.parametrize(
    "text",
    [
        "",
        "no-such-card",
        "c1",
        random_uuid(),  # a plain random v4 uuid, as issued before signed ones
        "00000000-0000-4000-8000-000000000000",
    ],
)
def test_strings_that_are_not_signed_uuids_are_refused(codec: CardIdCodec, text: str) -> None:
    assert codec.key_id(text) is None


def test_altered_spelling_of_a_valid_uuid_is_refused(codec: CardIdCodec) -> None:
    text = codec.make(77, 5)
    assert codec.key_id(text.upper()) is None
    assert codec.key_id(text.replace("-", "")) is None
    assert codec.key_id(f" {text}") is None
    assert codec.key_id(f"{{{text}}}") is None


def test_bad_arguments_name_the_field() -> None:
    with pytest.raises(ValueError, match="key_id"):
        CardIdCodec(SECRET).make(MAX_KEY_ID + 1, 0)
    with pytest.raises(ValueError, match="key_id"):
        CardIdCodec(SECRET).make(-1, 0)
    with pytest.raises(ValueError, match="secret"):
        CardIdCodec(b"short")


class _KeyIds:
    """Stands in for the feedback store's rule_key table: numbers keys in order of first use, counts asks."""

    def __init__(self) -> None:
        self.ids: dict[RuleKey, int] = {}
        self.asked = 0

    def __call__(self, key: RuleKey) -> int:
        self.asked += 1
        return self.ids.setdefault(key, len(self.ids) + 1)


def test_minted_uuids_name_the_rule_key_of_their_service(codec: CardIdCodec) -> None:
    table = _KeyIds()
    order_select = CardIdMinter(codec, "order-select", table)
    order_sign = CardIdMinter(codec, "order-sign", table)
    warfarin = order_select.mint("ddi.warfarin-azole", "1.0.0", "critical", os.urandom(16).hex())
    allergy = order_select.mint("allergy.penicillin", "2.1.0", "warning", os.urandom(16).hex())
    signed = order_sign.mint("ddi.warfarin-azole", "1.0.0", "critical", os.urandom(16).hex())
    assert codec.key_id(warfarin) == table.ids["order-select", "ddi.warfarin-azole", "1.0.0", "critical"]
    assert codec.key_id(allergy) == table.ids["order-select", "allergy.penicillin", "2.1.0", "warning"]
    assert codec.key_id(signed) == table.ids["order-sign", "ddi.warfarin-azole", "1.0.0", "critical"]
    assert len({codec.key_id(warfarin), codec.key_id(allergy), codec.key_id(signed)}) == 3


def test_a_rule_key_is_resolved_once_per_minter(codec: CardIdCodec) -> None:
    table = _KeyIds()
    minter = CardIdMinter(codec, "order-select", table)
    made = {minter.mint("ddi.warfarin-azole", "1.0.0", "critical", os.urandom(16).hex()) for _ in range(50)}
    assert len(made) == 50  # fresh randomness each time
    assert table.asked == 1
    minter.mint("ddi.warfarin-azole", "1.0.0", "warning")  # another indicator is another rule key
    assert table.asked == 2


def test_the_randomness_given_decides_the_uuid_and_the_rule_key_its_mac(codec: CardIdCodec) -> None:
    minter = CardIdMinter(codec, "order-select", _KeyIds())
    digits = "0123456789abcdef" * 2
    first = minter.mint("rule-a", "1", "warning", digits)
    assert minter.mint("rule-a", "1", "warning", digits) == first
    other_rule = minter.mint("rule-b", "1", "warning", digits)
    assert other_rule != first and codec.key_id(other_rule) != codec.key_id(first)
    assert uuid.UUID(minter.mint("rule-a", "1", "warning")).version == 4  # drawn when not given


def test_too_little_randomness_is_refused_by_name(codec: CardIdCodec) -> None:
    minter = CardIdMinter(codec, "order-select", _KeyIds())
    with pytest.raises(ValueError, match="randomness"):
        minter.mint("rule-a", "1", "warning", "abc")


def test_fires_are_counted_per_rule_key_of_the_minters_service(codec: CardIdCodec) -> None:
    table = _KeyIds()
    minter = CardIdMinter(codec, "order-select", table)
    warfarin = IssuedCard("u1", "ddi.warfarin-azole", "1.0.0", "critical")
    allergy = IssuedCard("u2", "allergy.penicillin", "2.1.0", "warning")
    allergy_info = IssuedCard("u3", "allergy.penicillin", "2.1.0", "info")  # another indicator: another key
    fired = minter.fires_by_key_id([warfarin, allergy, warfarin, allergy_info, warfarin])
    ids = table.ids
    assert fired == {
        ids["order-select", "ddi.warfarin-azole", "1.0.0", "critical"]: 3,
        ids["order-select", "allergy.penicillin", "2.1.0", "warning"]: 1,
        ids["order-select", "allergy.penicillin", "2.1.0", "info"]: 1,
    }
    assert table.asked == 3
    minter.mint("ddi.warfarin-azole", "1.0.0", "critical")  # counting remembered the key for minting too
    assert table.asked == 3
    assert minter.fires_by_key_id([]) == {}
