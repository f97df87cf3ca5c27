"""Signed card uuids: they round-trip their rule-key id, keep the UUID v4 layout and cannot be forged."""

from __future__ import annotations

import random
import uuid

import pytest

from cds_api.card_ids import MAX_KEY_ID, RANDOM_MASK, CardIdCodec
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
