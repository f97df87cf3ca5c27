"""The Litestar app factory. Everything is built here from settings read at start-up, never at import.

The handlers live in :mod:`cds_api.controllers`; the one exception mapper in :mod:`cds_api.errors`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, Protocol, cast, runtime_checkable

import httpx
import msgspec
from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.spec import Components, OpenAPIMediaType, Reference, RequestBody, SecurityScheme

from cds_api.asgi_io import MAX_BODY_BYTES
from cds_api.controllers import FEEDBACK_FLUSH_SECONDS, AppResources, build_routes
from cds_api.ddx_service import DDX_SERVICE, PatientViewDiagnosis
from cds_api.diagnosis import DiagnosisRequest
from cds_api.errors import exception_to_response
from cds_api.feedback_store import FeedbackStore
from cds_api.fhir_models import FeedbackRequest, HookRequest
from cds_api.prefetch import FhirFetcher
from cds_api.replay_store import SharedReplayGuard
from cds_api.security import JwtVerifier
from cds_api.services import (
    MEDICATION_SERVICES,
    Screening,
    discovery_document,
)
from cds_api.settings import ApiSettings
from cds_api.store_health import StoreHealth, probe_periodically
from cds_api.terminology import IndexProvider
from ontology.curie import CodeSystemMap
from ontology.schema import load_schema
from rules.engine import Engine

LOG = logging.getLogger("kgcds.api")
STORE_PROBE_SECONDS = 30.0


@runtime_checkable
class ReloadableEngine(Protocol):
    """An engine that can re-read its rule files (``rules.reload.ReloadingEngine``)."""

    def refresh(self, force: bool = False) -> object: ...


def create_app(
    settings: ApiSettings,
    index_provider: IndexProvider,
    engine: Engine,
    *,
    http_client: httpx.AsyncClient | None = None,
    clock: Callable[[], datetime] | None = None,
    store_health: StoreHealth | None = None,
    ddx: PatientViewDiagnosis | None = None,
) -> Litestar:
    """``http_client`` (for JWKS and FHIR server reads) is created here unless given, e.g. by tests.

    ``store_health`` probes the graph store in the background so ``/health`` can say when it is gone.
    ``ddx`` (the compiled differential-diagnosis engine) adds ``POST /diagnosis`` and the patient-view service.
    """
    codes = CodeSystemMap.from_schema(load_schema())
    offered = MEDICATION_SERVICES if ddx is None else (*MEDICATION_SERVICES, DDX_SERVICE)
    client = http_client if http_client is not None else httpx.AsyncClient(follow_redirects=False)
    # On disk, not in memory, so that every worker process refuses a token any of them has seen.
    replay = None if settings.auth == "disabled" else SharedReplayGuard(settings.replay_db_path)
    resources = AppResources(
        settings=settings,
        screening=Screening.wired(codes, engine, index_provider, offered),
        verifier=None if replay is None else JwtVerifier.from_settings(settings, client, replay=replay),
        replay_store=replay,
        fetcher=FhirFetcher(client, settings.fhir_timeout_seconds, settings.fhir_max_pages, settings.fhir_server_allow),
        http_client=client,
        owns_http_client=http_client is None,
        clock=clock or (lambda: datetime.now(UTC)),
        discovery=discovery_document(offered),
        store_health=store_health,
        ddx=ddx,
    )
    app = Litestar(
        route_handlers=build_routes(resources),
        lifespan=[_lifespan(resources)],
        exception_handlers={Exception: exception_to_response},
        cors_config=CORSConfig(
            allow_origins=list(settings.cors_allow_origins),
            allow_methods=["GET", "POST", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type"],
        ),
        openapi_config=OpenAPIConfig(
            title="kgcds CDS Hooks services",
            version="2.0",
            description="CDS Hooks 2.0 medication-safety and differential-diagnosis services over the kgcds "
            "knowledge graph, and POST /diagnosis for plain-JSON differential diagnosis.",
            components=Components(
                security_schemes={"cdsHooksJwt": SecurityScheme(type="http", scheme="bearer", bearer_format="JWT")}
            ),
        ),
        debug=False,
        # The hook call's ASGI route reads its body itself, under the same limit.
        request_max_body_size=MAX_BODY_BYTES,
        # Logging is configured by whoever runs the app (`kgcds serve`), not by the app factory.
        logging_config=None,
    )
    _document_request_bodies(app)
    return app


def _document_request_bodies(app: Litestar) -> None:
    """Add the request schemas to OpenAPI: handlers read raw bytes, so Litestar cannot infer them."""
    (hook_ref, feedback_ref, diagnosis_ref), components = msgspec.json.schema_components(
        [HookRequest, FeedbackRequest, DiagnosisRequest], ref_template="#/components/schemas/{name}"
    )
    schema = app.openapi_schema
    if schema.components.schemas is None:
        schema.components.schemas = {}
    # msgspec's JSON Schema dicts pass through Litestar's serialiser unchanged; the cast only tells mypy.
    schema.components.schemas.update({name: cast(Any, value) for name, value in components.items()})
    bodies = (
        ("/cds-services/{service_id}", hook_ref),
        ("/cds-services/{service_id}/feedback", feedback_ref),
        ("/diagnosis", diagnosis_ref),
    )
    for path, ref in bodies:
        item = schema.paths.get(path) if schema.paths else None
        if item is not None and item.post is not None:
            media = OpenAPIMediaType(schema=Reference(ref=ref["$ref"]))
            item.post.request_body = RequestBody(content={"application/json": media}, required=True)


def _lifespan(resources: AppResources) -> Callable[[Litestar], contextlib.AbstractAsyncContextManager[None]]:
    @contextlib.asynccontextmanager
    async def lifespan(_: Litestar) -> AsyncIterator[None]:
        if resources.verifier is None:
            LOG.warning("KGCDS_AUTH=disabled: CDS service calls are accepted WITHOUT a JWT. Development only.")
        # Opened here, in each worker process after any fork: SQLite connections must not cross a fork.
        resources.feedback_store = await asyncio.to_thread(FeedbackStore.open, resources.settings.feedback_db_path)
        if resources.replay_store is not None:
            await asyncio.to_thread(resources.replay_store.connect)
        tasks = [asyncio.create_task(_flush_periodically(resources.feedback_store))]
        engine = resources.screening.engine
        if isinstance(engine, ReloadableEngine):
            tasks.append(asyncio.create_task(_reload_periodically(engine, resources.settings.rules_reload_seconds)))
        if resources.store_health is not None:
            tasks.append(asyncio.create_task(probe_periodically(resources.store_health, STORE_PROBE_SECONDS)))
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await asyncio.to_thread(resources.feedback_store.close)
            if resources.replay_store is not None:
                await asyncio.to_thread(resources.replay_store.close)
            if resources.owns_http_client:
                await resources.http_client.aclose()

    return lifespan


async def _flush_periodically(store: FeedbackStore) -> None:
    while True:
        await asyncio.sleep(FEEDBACK_FLUSH_SECONDS)
        try:
            await asyncio.to_thread(store.flush)
        except sqlite3.Error:  # a full or locked disk must not stop the service; the rows stay pending
            LOG.exception("could not write rule fire counts to the feedback database; will retry")


async def _reload_periodically(engine: ReloadableEngine, every: float) -> None:
    # Off the request path: the reload stats (and at worst re-parses) YAML files in a worker thread.
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.to_thread(engine.refresh)
        except Exception:  # a reload bug must not kill the server; the engine keeps its last good rules
            LOG.exception("rule reload failed")
