"""The medication-safety services: their discovery entries and the screening of one hook call.

:class:`Screening` is the whole hot path without HTTP (decode -> patient context -> engine ->
cards -> encode), so the benchmark can time it in-process and the handlers stay thin.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from cds_api.card_ids import CardIdMinter
from cds_api.card_models import IssuedCard, WireResponse
from cds_api.cards import CardFactory
from cds_api.errors import NotFound, Unprocessable, decode_body
from cds_api.fhir_context import ContextBuilder, draft_medications
from cds_api.fhir_models import HookRequest
from cds_api.prefetch import MEDICATION_PREFETCH, PatientRecord, PrefetchTemplate, discovery_prefetch
from cds_api.terminology import IndexProvider
from ontology.curie import CodeSystemMap
from rules.engine import Engine
from rules.patient import PatientContext


@dataclass(frozen=True, slots=True)
class ServiceDefinition:
    id: str
    hook: str
    title: str
    description: str
    required_context: tuple[str, ...]
    prefetch: tuple[PrefetchTemplate, ...] = MEDICATION_PREFETCH
    usage_requirements: str = (
        "Send a JWT bearer signed by an allow-listed issuer (ES384 or RS384). Prefetch every key, or send "
        "fhirServer with fhirAuthorization so missing data can be read; patient, medications, allergies and "
        "conditions are required."
    )


class ServiceEntry(msgspec.Struct, frozen=True, omit_defaults=True):
    hook: str
    id: str
    description: str
    title: str | None = None
    prefetch: dict[str, str] = msgspec.field(default_factory=dict)
    usageRequirements: str | None = None


class DiscoveryResponse(msgspec.Struct, frozen=True):
    services: tuple[ServiceEntry, ...]


_SCREENING = (
    "Screens draft medication orders against the patient's active medications, the other drafts, "
    "allergies, conditions, renal function, pharmacogenomic results and pregnancy status, using the "
    "kgcds knowledge graph and pharmacist-maintained rules."
)

MEDICATION_SERVICES: tuple[ServiceDefinition, ...] = (
    ServiceDefinition(
        id="medication-safety-order-select",
        hook="order-select",
        title="Medication safety (order-select)",
        description=_SCREENING + " Only the selected orders are screened.",
        required_context=("userId", "patientId", "selections", "draftOrders"),
    ),
    ServiceDefinition(
        id="medication-safety-order-sign",
        hook="order-sign",
        title="Medication safety (order-sign)",
        description=_SCREENING,
        required_context=("userId", "patientId", "draftOrders"),
    ),
    ServiceDefinition(
        id="medication-safety-prescribe",
        hook="medication-prescribe",
        title="Medication safety (medication-prescribe, deprecated hook)",
        description=_SCREENING + " For EHRs still on the deprecated medication-prescribe hook.",
        # CDS Hooks 1.0 carried the user outside the context, so userId is not required here.
        required_context=("patientId", "medications"),
    ),
)


def discovery_document(services: tuple[ServiceDefinition, ...]) -> bytes:
    return msgspec.json.encode(
        DiscoveryResponse(
            services=tuple(
                ServiceEntry(
                    hook=s.hook,
                    id=s.id,
                    title=s.title,
                    description=s.description,
                    prefetch=discovery_prefetch(s.prefetch),
                    usageRequirements=s.usage_requirements,
                )
                for s in services
            )
        )
    )


@dataclass(frozen=True, slots=True)
class ScreeningResult:
    body: bytes
    issued: list[IssuedCard]
    patient: PatientContext


@dataclass(slots=True)
class Screening:
    builder: ContextBuilder
    cards: CardFactory
    engine: Engine
    index_provider: IndexProvider
    services: Mapping[str, ServiceDefinition] = field(default_factory=dict)
    _decoder: msgspec.json.Decoder[HookRequest] = field(default_factory=lambda: msgspec.json.Decoder(HookRequest))
    _encoder: msgspec.json.Encoder = field(default_factory=msgspec.json.Encoder)

    @classmethod
    def wired(
        cls,
        codes: CodeSystemMap,
        engine: Engine,
        index_provider: IndexProvider,
        services: Iterable[ServiceDefinition] = MEDICATION_SERVICES,
    ) -> Screening:
        """The screening the app serves (one context builder and card factory over ``codes``); the benchmarks
        and tests build theirs here too, so they time and test the same pipeline."""
        return cls(ContextBuilder(codes), CardFactory(codes), engine, index_provider, {s.id: s for s in services})

    def service(self, service_id: str) -> ServiceDefinition:
        service = self.services.get(service_id)
        if service is None:
            raise NotFound(f"no CDS service with id {service_id!r}", "id")
        return service

    def decode(self, service: ServiceDefinition, body: bytes) -> HookRequest:
        """Raw bytes -> request; msgspec errors propagate to the one exception mapper (400/422)."""
        request = decode_body(self._decoder, body)
        if request.hook != service.hook:
            raise Unprocessable(f"hook: service {service.id!r} handles {service.hook!r}, not {request.hook!r}", "hook")
        for name in service.required_context:
            if getattr(request.context, name) is None:
                raise Unprocessable(f"context.{name} is required by the {service.hook} hook", f"context.{name}")
        return request

    def screen(
        self, request: HookRequest, record: PatientRecord, now: datetime, card_id: CardIdMinter | None = None
    ) -> ScreeningResult:
        """``card_id``: makes each card's uuid (the feedback store's signed ones); default a random uuid."""
        drafts, context_drafts = draft_medications(request)
        patient = self.builder.build(request, drafts, context_drafts, record, self.index_provider(), now)
        findings = self.engine.evaluate(patient, now) if patient.drafts else []
        by_ref = {d.ref: d for d in patient.drafts}
        cards, issued = self.cards.wire_cards(findings, by_ref, request.context.patientId, card_id)
        for draft in patient.drafts:
            if not draft.ingredient_ids:
                card, issue = self.cards.unscreened(draft, card_id)
                cards.append(card)
                issued.append(issue)
        if patient.unmapped and any(draft.ingredient_ids for draft in patient.drafts):
            card, issue = self.cards.unrecognised_record(patient.unmapped, card_id)
            cards.append(card)
            issued.append(issue)
        return ScreeningResult(self._encoder.encode(WireResponse(cards=tuple(cards))), issued, patient)
