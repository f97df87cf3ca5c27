"""Engine findings -> CDS Hooks 2.0 cards.

Cards follow the spec exactly: optional fields are omitted (``omit_defaults``), never ``null``;
``summary`` is at most 140 characters; a card with suggestions carries ``selectionBehavior``.
One card per problem: findings sharing a ``dedupe_key`` (the same pair seen from both drafts, or
the same pair asserted by several sources) collapse into the most severe one.
The card structs themselves are in :mod:`cds_api.card_models`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import msgspec

from cds_api.card_ids import CardIdMinter
from cds_api.card_models import (
    OVERRIDE_REASONS,
    RULE_TOPIC_SYSTEM,
    Action,
    Card,
    CardCoding,
    CardSuggestion,
    IssuedCard,
    Link,
    Source,
    WireCard,
)
from cds_api.memo import remember
from ontology.curie import CodeSystemMap, CurieError
from ontology.vocab import Severity
from rules.findings import SEVERITY_RANK, SUMMARY_MAX, Finding, Suggestion, TemplateKey
from rules.patient import MedicationEntry

UNSCREENED_RULE_ID = "kgcds-order-not-recognised"
UNRECOGNISED_RECORD_RULE_ID = "kgcds-record-not-recognised"
UNRECOGNISED_LISTED = 10
"""At most this many unrecognised record entries are named on the card; the rest are counted."""
PARTS_LIMIT = 10_000

_VARIANT = {c: "89ab"[int(c, 16) & 3] for c in "0123456789abcdef"}


def random_uuid(h: str | None = None) -> str:
    """A version-4 UUID string, formatted straight from random bytes (a card can carry dozens of them).

    ``h``: 32 hex digits of fresh randomness, when the caller drew several UUIDs' worth at once.
    """
    if h is None:
        h = os.urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:32]}"


_OTHER_VARIANT = {"8": "9", "9": "8", "a": "b", "b": "a"}


def suggestion_base(card_uuid: str) -> str:
    """The first 32 characters of the uuids of a card's suggestions, which add a 4-digit number each
    (``0000``, ``0001``, ...).

    Suggestion uuids need only be unique (feedback names the card and then its suggestions), so they are
    derived from the card's own uuid rather than drawn: its first 32 characters, unless the card's uuid
    itself ends in ``000`` and one of its suggestions could then share it; in that case the other variant
    digit of its pair is used. Either way still a version-4 UUID.
    """
    if card_uuid[32:35] == "000":  # a slice: startswith with a start position is a slow method call
        return card_uuid[:19] + _OTHER_VARIANT.get(card_uuid[19], "8") + card_uuid[20:32]
    return card_uuid[:32]


def new_card_uuid(
    card_id: CardIdMinter | None, rule_id: str, rule_version: str, indicator: str, hex_digits: str | None = None
) -> str:
    """A new card's uuid: signed by ``card_id`` when there is one, else random; either way from ``hex_digits``
    (32 fresh hex digits) when given."""
    if card_id is None:
        return random_uuid(hex_digits)
    return card_id.mint(rule_id, rule_version, indicator, hex_digits)


def _draft_name(finding: Finding, draft: MedicationEntry | None) -> str:
    return draft.display if draft else finding.draft_ref


def _order_line(draft_name: str, ref: str) -> str:
    """The first line of every card's detail: which draft order it concerns."""
    return f"**Order:** {draft_name} (`{ref}`)"


def _split_detail(body: str, tail: str) -> tuple[str, str]:
    """``body`` (a stripped detail) as (patient part, shared tail); the tail is empty when ``body`` does not
    end with a non-empty ``tail``, and then the patient part is the whole body."""
    if tail and body.endswith(tail):
        return body[: len(body) - len(tail)], tail
    return body, ""


def _notice(
    rule_id: str, topic: str, summary: str, detail: str, card_id: CardIdMinter | None
) -> tuple[Card, IssuedCard]:
    """An info card about the screen itself (what it could not read), not about a finding."""
    card = Card(
        uuid=new_card_uuid(card_id, rule_id, "1", "info"),
        summary=truncate(summary),
        indicator="info",
        source=Source(
            label="kgcds medication safety",
            topic=CardCoding(code=rule_id, system=RULE_TOPIC_SYSTEM, display=topic),
        ),
        detail=detail,
    )
    return card, IssuedCard(card.uuid, rule_id, "1", card.indicator)


def indicator_for(finding: Finding) -> str:
    if not finding.interruptive or finding.severity is Severity.MINOR:
        return "info"
    if finding.severity in (Severity.CONTRAINDICATED, Severity.MAJOR):
        return "critical"
    return "warning"


def truncate(text: str, limit: int = SUMMARY_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class _RuleParts:
    """What a card takes from its rule and evidence alone, never from the patient: built once per rule
    and source, shared by every card (frozen; the encoder only reads its structs)."""

    indicator: str
    source: Source
    override_reasons: tuple[CardCoding, ...]
    links: tuple[Link, ...]
    management: str | None
    """The stripped management text."""
    source_line: str
    wire_source: msgspec.Raw
    wire_override_reasons: msgspec.Raw | None
    wire_links: msgspec.Raw | None


@dataclass(frozen=True, slots=True)
class _CardTemplate:
    """The card of a finding with a shared detail tail, minus its patient part: everything after the
    patient's lines already JSON-encoded. Shared by every card of one pair of drugs and rule."""

    parts: _RuleParts
    summary: str
    """The finding's summary the template was made for (other findings may have another: see ``summary_json``)."""
    summary_json: bytes
    """That summary, fitted and JSON-encoded."""
    after_summary: bytes
    """The card's JSON from the end of its summary to the opening quote of its detail (indicator, source)."""
    tail_rest: bytes
    """The tail and what follows it (management, evidence, source), as JSON string content plus the closing quote."""
    closing: bytes
    """The card's JSON after its suggestions: override reasons, links, the closing brace."""
    pending: tuple[str, ...]
    """Management text and references the tail lacks: if the patient part holds one, the card is built
    the slow way (it would not repeat it)."""


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    best: dict[tuple[str, ...], tuple[tuple[int, int, str], Finding]] = {}
    for finding in findings:
        key = finding.dedupe_key or (finding.rule_id, finding.draft_ref, finding.other_ref or "")
        # Interruptive before passive, then by severity; rule id keeps the order stable between calls.
        rank = (0 if finding.interruptive else 1, SEVERITY_RANK[finding.severity], finding.rule_id)
        current = best.get(key)
        if current is None or rank < current[0]:
            best[key] = (rank, finding)
    # Stable sort on the rank alone, as before: equal ranks keep the order they were first found in.
    return [finding for _, finding in sorted(best.values(), key=_RANK)]


_RANK = itemgetter(0)
_NOT_BUILT: tuple[bytes, ...] = (b"not built",)
"""Marks a draft's suggestions not yet built in a call (None is a result: no suggestions)."""


def _between_bases(encoder: msgspec.json.Encoder, suggestions: Sequence[CardSuggestion]) -> tuple[bytes, ...] | None:
    """A card's ``suggestions`` and ``selectionBehavior`` members (with their leading commas) cut where each
    uuid's base goes: joined with a base, the array has uuids ``<base>0000``, ``<base>0001``, ... (their own
    numbering, which follows the base); None when there are no suggestions."""
    if not suggestions:
        return None
    encode = encoder.encode
    segments = [b',"suggestions":[']
    for i, suggestion in enumerate(suggestions):
        segments[-1] += encode(suggestion.label).join((b'{"label":', b',"uuid":"'))
        assert suggestion.uuid is not None  # :meth:`CardFactory._suggestions` numbers every suggestion
        number = suggestion.uuid[-4:].encode()
        segments.append(
            number
            + b'","actions":'
            + encode(suggestion.actions)
            + (b"}," if i + 1 < len(suggestions) else b'}],"selectionBehavior":"at-most-one"')
        )
    return tuple(segments)


class CardFactory:
    def __init__(self, codes: CodeSystemMap) -> None:
        self._codes = codes
        self._fhir_codes: dict[str, tuple[str, str] | None] = {}
        # Sources and links depend only on the rule and its references: built once, shared by every card
        # (the structs are frozen). Bounded by the number of rules, sources and reference lists.
        self._sources: dict[tuple[str, str, str, str, str | None], Source] = {}
        self._links: dict[tuple[str, ...], tuple[Link, ...]] = {}
        self._rule_parts: dict[tuple[object, ...], _RuleParts] = {}
        self._tails: dict[str, bytes] = {}
        self._templates: dict[tuple[str, int], _CardTemplate] = {}
        # The same templates by the engine's template key (usually matched by identity): cheaper than
        # splitting the detail and keying the rule parts on ten fields.
        self._keyed_templates: dict[TemplateKey, _CardTemplate] = {}
        self._encoder = msgspec.json.Encoder()

    def cards(
        self,
        findings: Sequence[Finding],
        drafts: Mapping[str, MedicationEntry],
        patient_id: str | None,
        card_id: CardIdMinter | None = None,
    ) -> tuple[list[Card], list[IssuedCard]]:
        cards: list[Card] = []
        issued: list[IssuedCard] = []
        ranked = dedupe(findings)
        # Every card's UUID from one system call; actions are per draft and call.
        randomness = os.urandom(16 * len(ranked)).hex()
        actions: dict[tuple[str | None, ...], Action | None] = {}
        for n, finding in enumerate(ranked):
            card = self.card(
                finding, drafts.get(finding.draft_ref), patient_id, randomness[32 * n : 32 * n + 32], actions, card_id
            )
            cards.append(card)
            issued.append(IssuedCard(card.uuid, finding.rule_id, finding.rule_version, card.indicator))
        return cards, issued

    def wire_cards(
        self,
        findings: Sequence[Finding],
        drafts: Mapping[str, MedicationEntry],
        patient_id: str | None,
        card_id: CardIdMinter | None = None,
    ) -> tuple[list[Card | WireCard | msgspec.Raw], list[IssuedCard]]:
        """What :meth:`cards` returns, as it is sent: the same JSON, with the parts that do not depend on
        the patient (source, override reasons, links, the end of the detail) taken pre-encoded from a cache.
        A card whose finding has a cached template comes as its finished JSON (``msgspec.Raw``)."""
        cards: list[Card | WireCard | msgspec.Raw] = []
        issued: list[IssuedCard] = []
        ranked = dedupe(findings)
        randomness = os.urandom(16 * len(ranked)).hex()
        actions: dict[tuple[str | None, ...], Action | None] = {}
        suggestion_parts: dict[tuple[object, ...], tuple[bytes, ...] | None] = {}
        encode = self._encoder.encode
        for n, finding in enumerate(ranked):
            draft = drafts.get(finding.draft_ref)
            hex_digits = randomness[32 * n : 32 * n + 32]
            fast = self._fast_template(finding, draft)
            if fast is not None:
                # The card's JSON, joined from the template's pieces and the patient's: no struct to encode.
                template, lead = fast
                parts = template.parts
                draft_name = _draft_name(finding, draft)
                card_uuid = new_card_uuid(card_id, finding.rule_id, finding.rule_version, parts.indicator, hex_digits)
                summary = finding.summary
                card_json = (
                    b'{"uuid":"',
                    card_uuid.encode(),
                    b'","summary":',
                    template.summary_json if summary == template.summary else encode(truncate(summary)),
                    template.after_summary,
                    encode(f"{_order_line(draft_name, finding.draft_ref)}\n\n{lead}")[:-1],
                    template.tail_rest,
                    self._wire_suggestions(finding, draft_name, patient_id, card_uuid, actions, suggestion_parts),
                    template.closing,
                )
                cards.append(msgspec.Raw(b"".join(card_json)))
            else:
                card_uuid, parts, head, tail, rest, suggestions = self._pieces(
                    finding, draft, patient_id, hex_digits, actions, card_id
                )
                wire_suggestions = msgspec.Raw(encode(suggestions)) if suggestions else None
                cards.append(
                    WireCard(
                        uuid=card_uuid,
                        summary=truncate(finding.summary),
                        indicator=parts.indicator,
                        source=parts.wire_source,
                        detail=msgspec.Raw(encode(head)[:-1] + self._encoded_tail(tail) + encode(rest)[1:]),
                        suggestions=wire_suggestions,
                        selectionBehavior="at-most-one" if wire_suggestions is not None else None,
                        overrideReasons=parts.wire_override_reasons,
                        links=parts.wire_links,
                    )
                )
            issued.append(IssuedCard(card_uuid, finding.rule_id, finding.rule_version, parts.indicator))
        return cards, issued

    def _fast_template(self, finding: Finding, draft: MedicationEntry | None) -> tuple[_CardTemplate, str] | None:
        """The cached patient-independent card parts of a finding whose detail ends with a shared tail, and
        the patient part of its detail (what precedes the tail); None when the card must be built piece by
        piece (no tail, a draft matched by name, or a text the patient part changes)."""
        tail = finding.detail_tail
        if not tail or (draft is not None and draft.match_note):
            return None
        detail = finding.detail_markdown
        key = finding.template_key
        template = None if key is None else self._keyed_templates.get(key)
        if template is not None:
            # Its first finding showed the detail ends with the tail; the engine vouches for the others.
            lead = detail[: len(detail) - len(tail)]
        else:
            lead, tail = _split_detail(detail.strip(), tail)
            if not tail:
                return None
            template = self._template(finding, tail)
            if key is not None and len(lead) + len(tail) == len(detail):
                remember(self._keyed_templates, key, template, PARTS_LIMIT)
        # A management text or reference the tail lacks may still be in the patient part (or straddle the
        # seam), and then the card would not repeat it: rare, so built the slow way.
        if template.pending and any(text in lead + tail[: len(text) - 1] for text in template.pending):
            return None
        return template, lead

    def _template(self, finding: Finding, tail: str) -> _CardTemplate:
        parts = self._parts(finding)
        # id(parts): a template keeps its parts alive, so the id cannot be reused while the entry exists.
        # Not keyed by the summary: one that fills in the patient's values would leave each template unused.
        key = (tail, id(parts))
        template = self._templates.get(key)
        if template is None:
            rest = self._rest(finding, tail, None, parts)
            pending = tuple(text for text in (parts.management or "", *finding.references) if text and text not in tail)
            encode = self._encoder.encode
            # Members in the order, and omitted when, msgspec omits them encoding the WireCard.
            reasons, links = parts.wire_override_reasons, parts.wire_links
            closing = b"".join(
                (
                    b"" if reasons is None else b',"overrideReasons":' + reasons,
                    b"" if links is None else b',"links":' + links,
                    b"}",
                )
            )
            template = remember(
                self._templates,
                key,
                _CardTemplate(
                    parts=parts,
                    summary=finding.summary,
                    summary_json=encode(truncate(finding.summary)),
                    after_summary=b"".join(
                        (
                            b',"indicator":',
                            encode(parts.indicator),
                            b',"source":',
                            parts.wire_source,
                            b',"detail":',
                        )
                    ),
                    tail_rest=self._encoded_tail(tail) + encode(rest)[1:],
                    closing=closing,
                    pending=pending,
                ),
                PARTS_LIMIT,
            )
        return template

    def _wire_suggestions(
        self,
        finding: Finding,
        draft_name: str,
        patient_id: str | None,
        card_uuid: str,
        actions: dict[tuple[str | None, ...], Action | None],
        made: dict[tuple[object, ...], tuple[bytes, ...] | None],
    ) -> bytes:
        """The card's ``suggestions`` and ``selectionBehavior`` members as JSON (empty without suggestions):
        built once per call (every card about one draft offers the same) as the bytes between the uuids'
        shared bases, so a card's costs one join around its own base."""
        if not finding.suggestions:
            return b""
        # By identity: the engine hands every card of a draft the same tuple, and ``made`` lives for one call
        # while the findings keep their tuples alive, so an id cannot be reused meanwhile.
        key = (id(finding.suggestions), finding.draft_ref, draft_name)
        segments = made.get(key, _NOT_BUILT)
        if segments is _NOT_BUILT:
            built = self._suggestions(finding, draft_name, patient_id, "0" * 36, actions)
            segments = made[key] = _between_bases(self._encoder, built)
        if segments is None:
            return b""
        return suggestion_base(card_uuid).encode().join(segments)

    def card(
        self,
        finding: Finding,
        draft: MedicationEntry | None,
        patient_id: str | None,
        randomness: str | None = None,
        actions: dict[tuple[str | None, ...], Action | None] | None = None,
        card_id: CardIdMinter | None = None,
    ) -> Card:
        """``randomness``: 32 fresh hex digits (the card's UUID, when not signed); ``actions``:
        the delete/create actions already built in this call (they are the same for every card of a draft)."""
        card_uuid, parts, head, tail, rest, suggestions = self._pieces(
            finding,
            draft,
            patient_id,
            os.urandom(16).hex() if randomness is None else randomness,
            {} if actions is None else actions,
            card_id,
        )
        return Card(
            uuid=card_uuid,
            summary=truncate(finding.summary),
            indicator=parts.indicator,
            source=parts.source,
            detail=head + tail + rest,
            suggestions=suggestions,
            selectionBehavior="at-most-one" if suggestions else None,
            overrideReasons=parts.override_reasons,
            links=parts.links,
        )

    def _pieces(
        self,
        finding: Finding,
        draft: MedicationEntry | None,
        patient_id: str | None,
        randomness: str,
        actions: dict[tuple[str | None, ...], Action | None],
        card_id: CardIdMinter | None,
    ) -> tuple[str, _RuleParts, str, str, str, tuple[CardSuggestion, ...]]:
        """A card's UUID, rule parts, detail (as head + patient-independent tail + rest) and suggestions."""
        draft_name = _draft_name(finding, draft)
        parts = self._parts(finding)
        card_uuid = new_card_uuid(card_id, finding.rule_id, finding.rule_version, parts.indicator, randomness)
        suggestions = self._suggestions(finding, draft_name, patient_id, card_uuid, actions)
        head, tail, rest = self._detail(finding, draft_name, draft, parts)
        return card_uuid, parts, head, tail, rest, suggestions

    def _suggestions(
        self,
        finding: Finding,
        draft_name: str,
        patient_id: str | None,
        card_uuid: str,
        actions: dict[tuple[str | None, ...], Action | None],
    ) -> tuple[CardSuggestion, ...]:
        if not finding.suggestions:
            return ()
        remove_key = ("delete", finding.draft_ref, draft_name)
        remove = actions.get(remove_key)
        if remove is None:
            remove = actions[remove_key] = Action(
                type="delete", description=f"Remove the draft order for {draft_name}", resourceId=finding.draft_ref
            )
        base = suggestion_base(card_uuid)
        made: list[CardSuggestion] = []
        for i, suggestion in enumerate(finding.suggestions):
            if suggestion.action == "remove-draft":
                made.append(CardSuggestion(label=suggestion.label, uuid=f"{base}{i:04x}", actions=(remove,)))
                continue
            create = self._create_action(suggestion, patient_id, actions)
            if create is not None:
                made.append(CardSuggestion(label=suggestion.label, uuid=f"{base}{i:04x}", actions=(remove, create)))
        return tuple(made)

    def _encoded_tail(self, tail: str) -> bytes:
        """``tail`` as JSON string content (no quotes); tails are shared by every patient, so cached."""
        found = self._tails.get(tail)
        if found is None:
            found = remember(self._tails, tail, self._encoder.encode(tail)[1:-1], PARTS_LIMIT)
        return found

    def _parts(self, finding: Finding) -> _RuleParts:
        key = (
            finding.rule_id,
            finding.rule_version,
            finding.kind,
            finding.severity,
            finding.interruptive,
            finding.source_label,
            finding.source_url,
            finding.source_dataset,
            finding.management,
            finding.references,
        )
        found = self._rule_parts.get(key)
        if found is None:
            indicator = indicator_for(finding)
            source = self._source(finding)
            override_reasons = OVERRIDE_REASONS if indicator != "info" else ()
            links = self._links_for(finding.references)
            encode = self._encoder.encode
            parts = _RuleParts(
                indicator=indicator,
                source=source,
                override_reasons=override_reasons,
                links=links,
                wire_source=msgspec.Raw(encode(source)),
                wire_override_reasons=msgspec.Raw(encode(override_reasons)) if override_reasons else None,
                wire_links=msgspec.Raw(encode(links)) if links else None,
                management=finding.management.strip() if finding.management else None,
                source_line=(
                    f"**Source:** {finding.source_dataset} (rule `{finding.rule_id}` version {finding.rule_version}, "
                    f"severity {finding.severity.value})"
                ),
            )
            found = remember(self._rule_parts, key, parts, PARTS_LIMIT)
        return found

    def _source(self, finding: Finding) -> Source:
        key = (finding.rule_id, finding.rule_version, finding.kind, finding.source_label, finding.source_url)
        found = self._sources.get(key)
        if found is None:
            found = self._sources[key] = Source(
                label=finding.source_label,
                url=finding.source_url,
                topic=CardCoding(
                    code=finding.rule_id,
                    system=RULE_TOPIC_SYSTEM,
                    display=f"{finding.rule_id} v{finding.rule_version} ({finding.kind})",
                ),
            )
        return found

    def _links_for(self, references: tuple[str, ...]) -> tuple[Link, ...]:
        found = self._links.get(references)
        if found is None:
            found = self._links[references] = tuple(
                Link(label=ref, url=ref) for ref in references if ref.startswith("https://")
            )
        return found

    def unscreened(self, draft: MedicationEntry, card_id: CardIdMinter | None = None) -> tuple[Card, IssuedCard]:
        """An info card for a draft no ingredient could be found for: silence must not read as "safe"."""
        codes = ", ".join(draft.codes) or "no code"
        return _notice(
            UNSCREENED_RULE_ID,
            "Order not recognised",
            f"Not screened: {draft.display} was not recognised",
            (
                f"**Order:** {draft.display} (`{draft.ref}`, {codes})\n\n"
                "No active ingredient could be identified for this order, so it was **not** checked for "
                "interactions, allergies, contraindications, renal dosing or pharmacogenomics. "
                f"{draft.match_note or ''}".rstrip()
            ),
            card_id,
        )

    def unrecognised_record(
        self, entries: Sequence[str], card_id: CardIdMinter | None = None
    ) -> tuple[Card, IssuedCard]:
        """An info card naming the record entries (active medications, other drafts, allergies) that could
        not be recognised: the drafts were screened without them, and a missing alert must not read as "safe"."""
        count = len(entries)
        these, what = ("this", "entry") if count == 1 else ("these", "entries")
        listed = [f"- {entry}" for entry in entries[:UNRECOGNISED_LISTED]]
        if count > UNRECOGNISED_LISTED:
            listed.append(f"- … and {count - UNRECOGNISED_LISTED} more")
        detail = [
            f"The draft orders were **not** checked against {these} {what} of the patient's record, because "
            "no drug, ingredient or allergy group could be identified from their codes or text:",
            "",
            *listed,
            "",
            "Check them by hand; coded (RxNorm for medications and drug allergies) they can be screened.",
        ]
        return _notice(
            UNRECOGNISED_RECORD_RULE_ID,
            "Record not recognised",
            f"Screened without {count} record {what} that could not be recognised",
            "\n".join(detail),
            card_id,
        )

    def _detail(
        self, finding: Finding, draft_name: str, draft: MedicationEntry | None, parts: _RuleParts
    ) -> tuple[str, str, str]:
        """The card's detail as (head, tail, rest): ``tail`` is the finding's patient-independent
        :attr:`~rules.findings.Finding.detail_tail` (or empty), and head + tail + rest the whole text."""
        body = finding.detail_markdown.strip()
        head = _order_line(draft_name, finding.draft_ref)
        lead, tail = _split_detail(body, finding.detail_tail)
        if body:
            head = f"{head}\n\n{lead}"
        return head, tail, self._rest(finding, body, draft, parts)

    @staticmethod
    def _rest(finding: Finding, body: str, draft: MedicationEntry | None, parts: _RuleParts) -> str:
        """What follows the finding's own text: how the order was identified, management and evidence the
        text does not already give, and the source line."""
        rest: list[str] = []
        # The engine's own note on the draft ("... was identified by parsed name") may already say it.
        if draft is not None and draft.match_note and f"identified {draft.match_note}" not in body:
            rest.append(f"_Order identified {draft.match_note}._")
        # Rules may already write management and evidence into their detail; never say it twice.
        if parts.management and parts.management not in body:
            rest.append(f"**Management:** {parts.management}")
        missing_refs = [ref for ref in finding.references if ref not in body]
        if missing_refs:
            # Checks that cite their sources in an evidence paragraph of their own get the rule's
            # literature as a second paragraph, not a second "Evidence" heading.
            heading = "**References:** " if "**Evidence:**" in body else "**Evidence:** "
            rest.append(heading + "; ".join(missing_refs))
        rest.append(parts.source_line)
        return "\n\n" + "\n\n".join(rest)

    def _create_action(
        self, suggestion: Suggestion, patient_id: str | None, actions: dict[tuple[str | None, ...], Action | None]
    ) -> Action | None:
        """The "order this instead" action of a replace suggestion (once per call); None when not codable."""
        key = ("create", suggestion.replacement_ingredient_id, suggestion.replacement_name)
        if key in actions:
            return actions[key]
        replacement = self._replacement(suggestion, patient_id)
        name = suggestion.replacement_name or "the alternative"
        create = actions[key] = (
            None
            if replacement is None
            else Action(type="create", description=f"Order {name} instead", resource=replacement)
        )
        return create

    def _replacement(self, suggestion: Suggestion, patient_id: str | None) -> dict[str, Any] | None:
        ingredient = suggestion.replacement_ingredient_id
        if ingredient is None:
            return None
        if ingredient not in self._fhir_codes:
            try:
                self._fhir_codes[ingredient] = self._codes.to_fhir(ingredient)
            except CurieError:
                self._fhir_codes[ingredient] = None
        found = self._fhir_codes[ingredient]
        if found is None:
            return None
        system, code = found
        name = suggestion.replacement_name or code
        resource: dict[str, Any] = {
            "resourceType": "MedicationRequest",
            "status": "draft",
            "intent": "order",
            "medicationCodeableConcept": {"coding": [{"system": system, "code": code, "display": name}], "text": name},
        }
        if patient_id:
            resource["subject"] = {"reference": f"Patient/{patient_id}"}
        return resource
