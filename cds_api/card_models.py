"""The CDS Hooks 2.0 card as sent: msgspec structs, and what the feedback store keeps of a card.

Cards follow the spec exactly: optional fields are omitted (``omit_defaults``), never ``null``.
The structs are ``gc=False``: cards hold strings, tuples and plain dicts, never a cycle.

These definitions live apart from :mod:`cds_api.cards` (the factory) because that module is compiled with
mypyc (:mod:`kgcds.native`), and mypyc drops class keywords such as ``frozen=True`` and ``omit_defaults=True``
(python/mypy#21938): a struct defined there would encode its defaults as ``null``.
"""

from __future__ import annotations

from typing import Any

import msgspec

RULE_TOPIC_SYSTEM = "https://w3id.org/kgcds/rule"
OVERRIDE_REASON_SYSTEM = "https://w3id.org/kgcds/override-reason"


class CardCoding(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    code: str
    system: str | None = None
    display: str | None = None


class Source(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    label: str
    url: str | None = None
    topic: CardCoding | None = None


class Action(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    type: str
    description: str
    resource: dict[str, Any] | None = None
    resourceId: str | None = None


class CardSuggestion(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    label: str
    uuid: str | None = None
    isRecommended: bool | None = None
    actions: tuple[Action, ...] = ()


class Link(msgspec.Struct, frozen=True, gc=False):
    """CDS Hooks requires ``type`` on every link, so this struct does not omit its default."""

    label: str
    url: str
    type: str = "absolute"


class Card(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    uuid: str
    summary: str
    indicator: str
    source: Source
    detail: str | None = None
    suggestions: tuple[CardSuggestion, ...] = ()
    selectionBehavior: str | None = None
    overrideReasons: tuple[CardCoding, ...] = ()
    links: tuple[Link, ...] = ()


class CardsResponse(msgspec.Struct, frozen=True, gc=False):
    cards: tuple[Card, ...]


class WireCard(msgspec.Struct, frozen=True, gc=False, omit_defaults=True):
    """A :class:`Card` as sent, with the parts shared between patients already JSON-encoded.

    Same fields in the same order, each omitted when the Card would omit it, so encoding one gives
    the bytes encoding the Card gives: the response schema stays :class:`CardsResponse`.
    """

    uuid: str
    summary: str
    indicator: str
    source: msgspec.Raw
    detail: msgspec.Raw | None = None
    suggestions: msgspec.Raw | None = None
    selectionBehavior: str | None = None
    overrideReasons: msgspec.Raw | None = None
    links: msgspec.Raw | None = None


class WireResponse(msgspec.Struct, frozen=True, gc=False):
    """What the order services encode; documented (OpenAPI) as :class:`CardsResponse`.

    A card is a :class:`Card`, a :class:`WireCard`, or the JSON of one as bytes (the commonest cards are
    joined from cached pieces: see :meth:`CardFactory.wire_cards`)."""

    cards: tuple[Card | WireCard | msgspec.Raw, ...]


class IssuedCard(msgspec.Struct, frozen=True, gc=False):
    """What the feedback store remembers about a card: no patient data, only which rule fired."""

    card_uuid: str
    rule_id: str
    rule_version: str
    indicator: str


OVERRIDE_REASONS: tuple[CardCoding, ...] = (
    CardCoding("benefit-outweighs-risk", OVERRIDE_REASON_SYSTEM, "Benefit outweighs risk for this patient"),
    CardCoding("will-monitor", OVERRIDE_REASON_SYSTEM, "Will monitor or adjust dose"),
    CardCoding("tolerated-before", OVERRIDE_REASON_SYSTEM, "Patient has tolerated this before"),
    CardCoding("not-applicable", OVERRIDE_REASON_SYSTEM, "Alert does not apply to this patient"),
)
