"""Signed, self-describing card uuids: the card itself says which rule issued it, so no row per card is kept.

A card uuid keeps the UUID version-4 layout (version nibble 4, variant ``10``); its 122 free bits hold

* the rule-key id (20 bits): a row of the feedback database's ``rule_key`` table (service, rule, version,
  indicator),
* random bits (54 bits), so two cards of one rule differ,
* a MAC (48 bits): keyed BLAKE2b over key id and random bits, so feedback can tell a card we issued from a
  made-up or altered uuid without remembering the card.

No I/O here: the caller supplies the secret, and :class:`CardIdMinter` asks its caller for the id of a rule
key it has not seen (the feedback store writes it).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
from collections.abc import Callable, Sequence
from typing import Final, Protocol

# Final: compiled (mypyc), a Final constant is inlined; any other module global is a dict lookup per use.
KEY_ID_BITS: Final = 20
RANDOM_BITS: Final = 54
MAC_BITS: Final = 48
MAX_KEY_ID: Final = (1 << KEY_ID_BITS) - 1
RANDOM_MASK: Final = (1 << RANDOM_BITS) - 1
SECRET_BYTES: Final = 32
RANDOM_HEX_DIGITS: Final = 14
"""Hex digits of randomness a minted uuid takes (56 bits, of which the low 54 are used)."""

_MAC_BYTES: Final = MAC_BITS // 8
_BODY_BYTES: Final = (KEY_ID_BITS + RANDOM_BITS + 7) // 8
_HEX_BODY_BYTES: Final = (KEY_ID_BITS + RANDOM_BITS - 2) // 8
"""The body less its last 2 bits (those go in the variant digit): 72 bits, 18 hex digits."""
# Layout: the 74-bit body (key id, random bits) as 18 hex digits around the version nibble, its last 2 bits in
# the variant digit; then the MAC, the last 12 hex digits, so its hex digest goes in as it is.
_SHAPE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
"""Lower-case hex only: a uuid is compared as the string it was issued as."""


class CardIdCodec:
    """Builds and verifies signed card uuids with one secret (the same in every worker sharing a database)."""

    __slots__ = ("_keyed",)

    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError(f"secret: at least 16 bytes are needed, got {len(secret)}")
        # Keying BLAKE2b costs more than hashing ten bytes: key once, copy the keyed state per card.
        self._keyed = hashlib.blake2b(key=secret, digest_size=_MAC_BYTES)

    def make(self, key_id: int, random_bits: int) -> str:
        """The uuid of a card of rule key ``key_id``; ``random_bits``: fresh randomness (the low 54 bits are used)."""
        if not 0 <= key_id <= MAX_KEY_ID:
            raise ValueError(f"key_id: must be in 0..{MAX_KEY_ID}, got {key_id}")
        body = (key_id << RANDOM_BITS) | (random_bits & RANDOM_MASK)
        # Formatted by bytes.hex: a format spec costs more, once per card served.
        h = (body >> 2).to_bytes(_HEX_BODY_BYTES, "big").hex()
        return f"{h[:8]}-{h[8:12]}-4{h[12:15]}-{'89ab'[body & 3]}{h[15:]}-{self._mac(body)}"

    def key_id(self, card_uuid: str) -> int | None:
        """The rule-key id a uuid made by :meth:`make` with this secret carries; None for any other string."""
        if _SHAPE.fullmatch(card_uuid) is None:
            return None
        body = (int(card_uuid[:8] + card_uuid[9:13] + card_uuid[15:18] + card_uuid[20:23], 16) << 2) | (
            int(card_uuid[19], 16) & 3
        )
        if not hmac.compare_digest(self._mac(body), card_uuid[24:]):
            return None
        return body >> RANDOM_BITS

    def _mac(self, body: int) -> str:
        """The 48-bit MAC of ``body`` as 12 hex digits."""
        digest = self._keyed.copy()
        digest.update(body.to_bytes(_BODY_BYTES, "big"))
        return digest.hexdigest()


RuleKey = tuple[str, str, str, str]
"""(service id, rule id, rule version, indicator): what a card's uuid names."""


class CardIdMinter:
    """Mints the signed uuids of the cards one service issues.

    The rule-key ids are remembered here; a key not seen before is resolved once by ``key_id_of`` (the
    feedback store, which writes its row). Compiled with the card factory, so minting a card's uuid is a
    native call, not a Python closure's.
    """

    def __init__(self, codec: CardIdCodec, service_id: str, key_id_of: Callable[[RuleKey], int]) -> None:
        self._codec = codec
        self._service_id = service_id
        self._key_id_of = key_id_of
        self._key_ids: dict[tuple[str, str, str], int] = {}

    def mint(self, rule_id: str, rule_version: str, indicator: str, randomness: str | None = None) -> str:
        """A new signed uuid for a card of this rule. ``randomness``: at least 14 fresh hex digits, such as a
        slice of the request's one ``os.urandom`` draw; drawn here when not given."""
        key_id = self._key_ids.get((rule_id, rule_version, indicator))
        if key_id is None:
            key_id = self._resolve(rule_id, rule_version, indicator)
        if randomness is None:
            return self._codec.make(key_id, int.from_bytes(os.urandom(8), "big"))
        if len(randomness) < RANDOM_HEX_DIGITS:
            raise ValueError(f"randomness: at least {RANDOM_HEX_DIGITS} hex digits are needed, got {len(randomness)}")
        return self._codec.make(key_id, int(randomness[:RANDOM_HEX_DIGITS], 16))

    def _resolve(self, rule_id: str, rule_version: str, indicator: str) -> int:
        """The id of a rule key not seen before, from ``key_id_of``; remembered."""
        key_id = self._key_id_of((self._service_id, rule_id, rule_version, indicator))
        self._key_ids[rule_id, rule_version, indicator] = key_id
        return key_id

    def fires_by_key_id(self, cards: Sequence[IssuedRuleKey]) -> dict[int, int]:
        """How many of ``cards`` each rule key of this service issued, by rule-key id (resolved as :meth:`mint`
        does). Compiled: counting a call's 20-odd cards interpreted cost several microseconds."""
        fired: dict[int, int] = {}
        key_ids = self._key_ids
        for card in cards:
            key_id = key_ids.get((card.rule_id, card.rule_version, card.indicator))
            if key_id is None:
                key_id = self._resolve(card.rule_id, card.rule_version, card.indicator)
            fired[key_id] = fired.get(key_id, 0) + 1
        return fired


class IssuedRuleKey(Protocol):
    """What :meth:`CardIdMinter.fires_by_key_id` reads of an issued card (``cds_api.card_models.IssuedCard``)."""

    @property
    def rule_id(self) -> str: ...

    @property
    def rule_version(self) -> str: ...

    @property
    def indicator(self) -> str: ...
