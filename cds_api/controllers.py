"""The HTTP handlers: discovery, the hook calls, feedback and health. Thin: all work is in ``services``.

Handlers take the raw body: decoding bytes straight into msgspec structs is about twice as fast as
letting the framework inject a model, and the hook call is the hot path. For the same reason each
offered service's hook call is a Litestar ASGI route (:func:`hook_call_route`) that reads the body and
writes pre-encoded bytes itself, skipping Litestar's request, keyword resolution and response building
(about 150 k instructions a call); routing, the CORS middleware and the one exception mapper still apply.
The other handlers return an ``ASGIResponse`` of pre-encoded bytes where they are on a hot path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import msgspec
from litestar import Request, Response, asgi, get, post
from litestar.enums import ScopeType
from litestar.exceptions import MethodNotAllowedException
from litestar.handlers import ASGIRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath
from litestar.response.base import ASGIResponse
from litestar.types import ControllerRouterHandler, Receive, Scope, Send

from cds_api.asgi_io import ClientDisconnected, base_url, header, read_body, send_json
from cds_api.card_models import CardsResponse
from cds_api.ddx_service import DDX_SERVICE_ID, PatientViewDiagnosis
from cds_api.diagnosis import DiagnosisResponse
from cds_api.errors import FHIR_JSON, OperationOutcome, Unprocessable, decode_body
from cds_api.feedback_store import FeedbackRecord, FeedbackStore, UnknownCard
from cds_api.fhir_context import parse_fhir_datetime
from cds_api.fhir_models import FeedbackItem, FeedbackRequest
from cds_api.prefetch import FhirFetcher, gather_record
from cds_api.replay_store import SharedReplayGuard
from cds_api.security import JwtVerifier
from cds_api.services import DiscoveryResponse, Screening, ServiceDefinition
from cds_api.settings import ApiSettings
from cds_api.store_health import StoreHealth

JSON = "application/json"
FEEDBACK_FLUSH_SECONDS = 1.0
"""Rule fire counts are added up in memory and written to the feedback database this often."""


@dataclass(slots=True)
class AppResources:
    """What the handlers share. The feedback store opens at start-up (it touches the disk)."""

    settings: ApiSettings
    screening: Screening
    verifier: JwtVerifier | None
    fetcher: FhirFetcher
    http_client: httpx.AsyncClient
    owns_http_client: bool
    clock: Callable[[], datetime]
    feedback_store: FeedbackStore | None = None
    replay_store: SharedReplayGuard | None = None
    """The jti replay guard the verifier uses, opened at start-up; None when auth is disabled."""
    store_health: StoreHealth | None = None
    """Reachability of the graph store the index came from; None when the app was given no store."""
    discovery: bytes = b""
    ddx: PatientViewDiagnosis | None = None
    """The compiled differential-diagnosis engine; None when the store holds no phenotype data."""
    feedback_decoder: msgspec.json.Decoder[FeedbackRequest] = field(
        default_factory=lambda: msgspec.json.Decoder(FeedbackRequest)
    )

    def feedback(self) -> FeedbackStore:
        if self.feedback_store is None:
            raise RuntimeError("the feedback store is opened at application start-up")
        return self.feedback_store

    def endpoint_url(self, scope: Scope, path: str) -> str:
        """The URL the JWT ``aud`` must carry: this endpoint's ``path`` as the client addresses it."""
        base = self.settings.public_base_url.rstrip("/") if self.settings.public_base_url else base_url(scope)
        return f"{base}{path}"

    async def authenticate(self, scope: Scope, path: str) -> None:
        """Verify the bearer JWT for the endpoint at ``path`` (e.g. ``/cds-services/<id>``, ``/diagnosis``)."""
        if self.verifier is not None:
            await self.verifier.verify(header(scope, b"authorization"), self.endpoint_url(scope, path))

    async def answer_hook(self, service: ServiceDefinition, body: bytes) -> bytes:
        """The cards for one authenticated hook call on ``service``, encoded; raises the ``ApiError`` to answer
        instead."""
        screening = self.screening
        hook_request = screening.decode(service, body)
        record = await gather_record(hook_request, service.prefetch, self.fetcher)
        now = self.clock()
        store = self.feedback()
        # Card uuids are signed and name their rule, so feedback can be attributed without a row per card.
        card_ids = store.card_ids(service.id)
        if service.id == DDX_SERVICE_ID and self.ddx is not None:
            # Ranking every disease takes tens of milliseconds: off the event loop, like any CPU-bound step.
            ranked = await asyncio.to_thread(self.ddx.run, record, now, card_ids)
            if ranked.issued:
                store.record_issued(service.id, ranked.issued, now)
            return ranked.body
        result = screening.screen(hook_request, record, now, card_ids)
        if result.issued:
            store.record_issued(service.id, result.issued, now)
        return result.body


def _outcome(description: str) -> ResponseSpec:
    return ResponseSpec(OperationOutcome, description=description, media_type=FHIR_JSON)


# Handlers return pre-encoded bytes (the fast path), so the response shapes are declared here for OpenAPI.
CALL_RESPONSES: dict[int, ResponseSpec] = {
    200: ResponseSpec(CardsResponse, description="Cards, as CDS Hooks 2.0 defines them"),
    400: _outcome("The body is not JSON"),
    401: _outcome("Missing or invalid JWT bearer"),
    404: _outcome("No such service"),
    412: _outcome("Required data neither prefetched nor fetchable from fhirServer"),
    422: _outcome("A hook, context field or FHIR resource that is not what the service requires"),
}


def build_routes(resources: AppResources) -> list[ControllerRouterHandler]:
    screening = resources.screening

    @get(
        "/cds-services",
        sync_to_thread=False,
        summary="CDS Hooks discovery",
        tags=["CDS Hooks"],
        responses={200: ResponseSpec(DiscoveryResponse, description="The services this server offers")},
    )
    def discovery() -> ASGIResponse:
        return ASGIResponse(body=resources.discovery, media_type=JSON)

    @post(
        "/cds-services/{service_id:str}",
        summary="Call a medication-safety service (order-select, order-sign, medication-prescribe)",
        description="Body: a CDS Hooks request. Answer: {cards: [...]} as CDS Hooks 2.0 defines them.",
        tags=["CDS Hooks"],
        security=[{"cdsHooksJwt": []}],
        status_code=200,
        responses=CALL_RESPONSES,
    )
    async def call_service(request: Request[Any, Any, Any], service_id: FromPath[str]) -> ASGIResponse:
        # Each offered service has its own ASGI route (see hook_call_route), which Litestar matches before this
        # one; this handler answers any other id (404) and documents the call in the OpenAPI schema.
        service = screening.service(service_id)
        await resources.authenticate(request.scope, f"/cds-services/{service_id}")
        answer = await resources.answer_hook(service, await request.body())
        return ASGIResponse(body=answer, media_type=JSON)

    @post(
        "/cds-services/{service_id:str}/feedback",
        summary="Feedback on cards: accepted or overridden, with the reason",
        tags=["CDS Hooks"],
        security=[{"cdsHooksJwt": []}],
        status_code=200,
        responses={code: spec for code, spec in CALL_RESPONSES.items() if code != 200},
    )
    async def feedback(request: Request[Any, Any, Any], service_id: FromPath[str]) -> Response[bytes]:
        service = screening.service(service_id)
        await resources.authenticate(request.scope, f"/cds-services/{service_id}")
        body = decode_body(resources.feedback_decoder, await request.body())
        records = [_feedback_record(service, i, item) for i, item in enumerate(body.feedback)]
        # No wait for another worker's flush: a card's uuid names its rule key, written before the card left.
        try:
            await asyncio.to_thread(resources.feedback().record_feedback, records, resources.clock())
        except UnknownCard as exc:
            index = next(i for i, r in enumerate(records) if r.card_uuid == exc.args[0])
            raise Unprocessable(
                f"feedback[{index}].card: no card {exc.args[0]!r} was issued by {service_id}", f"feedback[{index}].card"
            ) from exc
        return Response(b"", status_code=200, media_type=JSON)

    @get(
        "/health",
        sync_to_thread=False,
        summary="Health: serving status and graph store reachability",
        tags=["Operations"],
    )
    def health() -> ASGIResponse:
        # Always 200 while serving: an unreachable store is a warning, not an outage (the index is in memory).
        if resources.store_health is None:
            return ASGIResponse(body=b'{"status":"pass"}', media_type=JSON)
        return ASGIResponse(body=msgspec.json.encode(resources.store_health.report()), media_type=JSON)

    routes: list[ControllerRouterHandler] = [discovery, call_service, feedback, health]
    routes += [hook_call_route(resources, service) for service in screening.services.values()]
    ddx = resources.ddx
    if ddx is not None:

        @post(
            "/diagnosis",
            summary="Differential diagnosis from HPO findings (plain JSON)",
            description=(
                "Body: observed and excluded HPO ids, optional age, sex and genes, top_k (1-50). Answer: the ranked "
                "diseases with score, probability and explanation, the findings worth checking next, terms not in "
                "the loaded ontology, and the ranker/model version."
            ),
            tags=["Differential diagnosis"],
            # The same bearer JWT as the CDS services, with aud = <base>/diagnosis.
            security=[{"cdsHooksJwt": []}],
            status_code=200,
            responses={
                200: ResponseSpec(DiagnosisResponse, description="The ranked differential"),
                400: _outcome("The body is not JSON"),
                401: _outcome("Missing or invalid JWT bearer"),
                422: _outcome("A field that is missing, unknown, out of range or not an HPO id"),
            },
        )
        async def diagnosis(request: Request[Any, Any, Any]) -> Response[bytes]:
            await resources.authenticate(request.scope, "/diagnosis")
            body = await request.body()
            return Response(await asyncio.to_thread(ddx.diagnosis.diagnose, body), media_type=JSON)

        routes.append(diagnosis)
    return routes


def hook_call_route(resources: AppResources, service: ServiceDefinition) -> ASGIRouteHandler:
    """The hook call on ``service`` as an ASGI route: the hot path, without Litestar's request and response
    objects (see :mod:`cds_api.asgi_io`). Errors still go to the one exception mapper; CORS still applies."""

    path = f"/cds-services/{service.id}"

    @asgi(path, copy_scope=False, name=f"call-{service.id}")
    async def call(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "POST":
            raise MethodNotAllowedException(headers={"Allow": "POST, OPTIONS"})
        # Before the body is read, as on the other routes: an unauthenticated client's upload is not taken in.
        await resources.authenticate(scope, path)
        try:
            body = await read_body(receive)
        except ClientDisconnected:
            return
        await send_json(send, await resources.answer_hook(service, body))

    return call


def _feedback_record(service: ServiceDefinition, index: int, item: FeedbackItem) -> FeedbackRecord:
    where = f"feedback[{index}]"
    if item.outcome not in ("accepted", "overridden"):
        raise Unprocessable(f"{where}.outcome: must be 'accepted' or 'overridden'", f"{where}.outcome")
    when = parse_fhir_datetime(item.outcomeTimestamp)
    if when is None:
        raise Unprocessable(f"{where}.outcomeTimestamp: not an ISO 8601 instant", f"{where}.outcomeTimestamp")
    reason = item.overrideReason.reason if item.overrideReason is not None else None
    if reason is not None and item.outcome != "overridden":
        raise Unprocessable(f"{where}.overrideReason: only an overridden card has one", f"{where}.overrideReason")
    return FeedbackRecord(
        card_uuid=item.card,
        service_id=service.id,
        outcome=item.outcome,
        outcome_time=when,
        override_reason_system=reason.system if reason else None,
        override_reason_code=reason.code if reason else None,
        override_reason_display=reason.display if reason else None,
        accepted_suggestions=len(item.acceptedSuggestions),
    )
