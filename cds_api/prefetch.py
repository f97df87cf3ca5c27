"""Prefetch templates, and getting the data they name when the EHR did not send it.

CDS Hooks lets the EHR send the data a service declares in its ``prefetch`` templates. A key the
EHR left out (or sent as ``null``) is fetched from ``fhirServer`` with ``fhirAuthorization``; when
neither works for data the screening cannot do without, the answer is 412, never a silent
screen against an incomplete record.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
import msgspec

from cds_api.errors import PreconditionFailed, Unprocessable, validation_error
from cds_api.fhir_models import FHIR_R4_RESOURCE_TYPES, FhirAuthorization, FhirResource, HookRequest

EGFR_LOINC = ("33914-3", "48642-3", "48643-1", "62238-1", "69405-9", "98979-8", "50044-7", "88293-6", "88294-4")
CREATININE_LOINC = ("2160-0", "38483-4", "14682-9")
POTASSIUM_LOINC = ("2823-3", "6298-4")
PREGNANCY_LOINC = ("82810-3", "2106-3", "2118-8", "19080-1")
LAB_LOINC = (*EGFR_LOINC, *CREATININE_LOINC, *POTASSIUM_LOINC, *PREGNANCY_LOINC)
"""Every lab the ``labs`` prefetch asks for."""
LAB_COUNT = 50
"""The ``labs`` prefetch's ``_count``: the newest results are enough to find the latest of each test."""
GENOMIC_LOINC = ("84413-4", "53040-2", "69548-6")
"""Genotype display name, drug-metabolism phenotype, genetic variant assessment (HL7 Genomics Reporting IG)."""

LOINC_SYSTEM = "http://loinc.org"

# FHIR ids are [A-Za-z0-9\-\.]{1,64}; anything else would let a context value rewrite the query URL.
FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def _loinc_codes(*groups: tuple[str, ...]) -> str:
    return ",".join(f"{LOINC_SYSTEM}|{code}" for group in groups for code in group)


@dataclass(frozen=True, slots=True)
class PrefetchTemplate:
    key: str
    query: str
    resource_type: str
    """Patient for a read; Bundle for a search."""
    entry_type: str | None
    """The resource type a search returns."""
    required: bool
    included_type: str | None = None
    """A resource type the search ``_include``s (kept under :data:`INCLUDED`, see :func:`checked_resources`)."""


INCLUDED = "included"
"""PatientRecord key of the resources searches ``_include``d: Medication resources that orders reference."""


MEDICATION_PREFETCH: tuple[PrefetchTemplate, ...] = (
    PrefetchTemplate("patient", "Patient/{{context.patientId}}", "Patient", None, required=True),
    # US Core lets an order name its drug by reference to a Medication resource; a server that does so
    # must support this _include, so the referenced Medications arrive in the same bundle.
    PrefetchTemplate(
        "medications",
        "MedicationRequest?patient={{context.patientId}}&status=active&_include=MedicationRequest:medication",
        "Bundle",
        "MedicationRequest",
        required=True,
        included_type="Medication",
    ),
    PrefetchTemplate(
        "allergies", "AllergyIntolerance?patient={{context.patientId}}", "Bundle", "AllergyIntolerance", required=True
    ),
    PrefetchTemplate(
        "conditions",
        "Condition?patient={{context.patientId}}&clinical-status=active,recurrence,relapse",
        "Bundle",
        "Condition",
        required=True,
    ),
    PrefetchTemplate(
        "labs",
        "Observation?patient={{context.patientId}}&code="
        + _loinc_codes(LAB_LOINC)
        + f"&_sort=-date&_count={LAB_COUNT}",
        "Bundle",
        "Observation",
        required=False,
    ),
    PrefetchTemplate(
        "genomics",
        "Observation?patient={{context.patientId}}&code=" + _loinc_codes(GENOMIC_LOINC),
        "Bundle",
        "Observation",
        required=False,
    ),
)


def discovery_prefetch(templates: tuple[PrefetchTemplate, ...]) -> dict[str, str]:
    return {t.key: t.query for t in templates}


def render(template: str, request: HookRequest) -> str:
    context = request.context
    values = {"patientId": context.patientId, "userId": context.userId, "encounterId": context.encounterId}
    rendered = template
    for name, value in values.items():
        token = "{{context." + name + "}}"
        if token in rendered:
            if value is None:
                raise Unprocessable(f"context.{name} is required to fetch {template}", f"context.{name}")
            rendered = rendered.replace(token, value)
    return rendered


@dataclass(frozen=True, slots=True)
class PatientRecord:
    """The prefetched (or fetched) resources, by prefetch key, flattened out of their Bundles."""

    resources: Mapping[str, tuple[FhirResource, ...]]

    def of(self, key: str) -> tuple[FhirResource, ...]:
        return self.resources.get(key, ())


def _keep(
    resources: dict[str, tuple[FhirResource, ...]], template: PrefetchTemplate, value: FhirResource, where: str
) -> None:
    found, extra = checked_resources(template, value, where)
    resources[template.key] = found
    if extra:
        resources[INCLUDED] = resources.get(INCLUDED, ()) + extra


def checked_resources(
    template: PrefetchTemplate, value: FhirResource, where: str
) -> tuple[tuple[FhirResource, ...], tuple[FhirResource, ...]]:
    """The resources a prefetch value holds, and those of the type its search ``_include``s; anything that is
    not the FHIR it should be is refused."""
    if value.resourceType not in FHIR_R4_RESOURCE_TYPES:
        raise Unprocessable(
            f"{where}.resourceType: {value.resourceType!r} is not a FHIR R4 resource type", f"{where}.resourceType"
        )
    if value.resourceType != template.resource_type:
        raise Unprocessable(
            f"{where}: expected a {template.resource_type}, got a {value.resourceType}", f"{where}.resourceType"
        )
    if template.entry_type is None:
        return (value,), ()
    resources: list[FhirResource] = []
    extra: list[FhirResource] = []
    entry_type, included_type = template.entry_type, template.included_type
    for i, entry in enumerate(value.entry):
        resource = entry.resource
        if resource is None:
            continue
        kind = resource.resourceType
        # The expected type first: it is an R4 type, so the commonest entry needs no lookup in the list.
        if kind == entry_type:
            resources.append(resource)
            continue
        if kind not in FHIR_R4_RESOURCE_TYPES:
            path = f"{where}.entry[{i}].resource.resourceType"
            raise Unprocessable(f"{path}: {kind!r} is not a FHIR R4 resource type", path)
        # Search bundles may carry OperationOutcome entries (search.mode = outcome) or _include-d
        # resources: those are not what the key asks for and are skipped rather than refused.
        if kind == included_type:
            extra.append(resource)
    return tuple(resources), tuple(extra)


class FhirFetcher:
    """Reads from the EHR's FHIR server with the access token the EHR handed over."""

    def __init__(
        self, client: httpx.AsyncClient, timeout_seconds: float, max_pages: int, allowed_prefixes: tuple[str, ...] = ()
    ) -> None:
        self._client = client
        self._timeout = timeout_seconds
        self._max_pages = max_pages
        self._allowed = allowed_prefixes
        self._decoder = msgspec.json.Decoder(FhirResource)

    def check_server(self, base_url: str) -> None:
        if not base_url.startswith(("https://", "http://")):
            raise Unprocessable("fhirServer: must be an http(s) URL", "fhirServer")
        if self._allowed and not base_url.startswith(self._allowed):
            raise Unprocessable("fhirServer: not a FHIR server this service is allowed to read from", "fhirServer")

    async def fetch(
        self, base_url: str, auth: FhirAuthorization | None, template: PrefetchTemplate, query: str
    ) -> FhirResource:
        headers = {"Accept": "application/fhir+json"}
        if auth is not None:
            headers["Authorization"] = f"Bearer {auth.access_token}"
        url = f"{base_url.rstrip('/')}/{query}"
        first = await self._get(url, headers, template)
        if template.entry_type is None:
            return first
        # Follow paging so a long medication list is never screened half-read.
        entries = list(first.entry)
        page = first
        for _ in range(self._max_pages - 1):
            next_url = next((link.url for link in page.link if link.relation == "next" and link.url), None)
            if next_url is None:
                break
            page = await self._get(next_url, headers, template)
            entries.extend(page.entry)
        else:
            if any(link.relation == "next" for link in page.link):
                raise PreconditionFailed(
                    f"prefetch.{template.key}: more than {self._max_pages} pages of results from fhirServer",
                    f"prefetch.{template.key}",
                )
        return msgspec.structs.replace(first, entry=tuple(entries), link=())

    async def _get(self, url: str, headers: dict[str, str], template: PrefetchTemplate) -> FhirResource:
        where = f"prefetch.{template.key}"
        try:
            response = await self._client.get(url, headers=headers, timeout=self._timeout)
        except httpx.HTTPError as exc:
            raise PreconditionFailed(
                f"{where} was not prefetched and fhirServer could not be reached ({type(exc).__name__})", where
            ) from exc
        if response.status_code != 200:
            raise PreconditionFailed(
                f"{where} was not prefetched and fhirServer answered {response.status_code}", where
            )
        try:
            return self._decoder.decode(response.content)
        except msgspec.ValidationError as exc:
            raise validation_error(exc, where) from exc
        except (msgspec.DecodeError, RecursionError) as exc:
            raise PreconditionFailed(f"{where}: fhirServer did not return usable JSON", where) from exc


def prefetched(
    request: HookRequest, templates: tuple[PrefetchTemplate, ...]
) -> tuple[dict[str, tuple[FhirResource, ...]], list[PrefetchTemplate]]:
    """The prefetched resources by key, and the templates the EHR did not fill."""
    resources: dict[str, tuple[FhirResource, ...]] = {}
    missing: list[PrefetchTemplate] = []
    for template in templates:
        value: FhirResource | None = getattr(request.prefetch, template.key, None)
        if value is not None:
            _keep(resources, template, value, f"prefetch.{template.key}")
        else:
            missing.append(template)
    return resources, missing


def complete_record(request: HookRequest, templates: tuple[PrefetchTemplate, ...]) -> PatientRecord:
    """The record when everything needed was prefetched (no I/O); 412 when required data is missing."""
    resources, missing = prefetched(request, templates)
    required = [t.key for t in missing if t.required]
    if required:
        raise PreconditionFailed(f"prefetch {', '.join(required)} missing", f"prefetch.{required[0]}")
    _check_same_patient(request, resources.get("patient", ()))
    return PatientRecord(resources)


async def gather_record(
    request: HookRequest, templates: tuple[PrefetchTemplate, ...], fetcher: FhirFetcher
) -> PatientRecord:
    """Prefetched values as sent, plus whatever was missing fetched concurrently from ``fhirServer``."""
    resources, missing = prefetched(request, templates)
    if missing:
        if request.fhirServer is None:
            required = [t.key for t in missing if t.required]
            if required:
                raise PreconditionFailed(
                    f"prefetch {', '.join(required)} missing and no fhirServer to fetch it from",
                    f"prefetch.{required[0]}",
                )
        else:
            _check_patient_id(request)
            base_url = request.fhirServer
            fetcher.check_server(base_url)
            queries = [render(t.query, request) for t in missing]
            fetched = await asyncio.gather(
                *(
                    fetcher.fetch(base_url, request.fhirAuthorization, t, q)
                    for t, q in zip(missing, queries, strict=True)
                ),
                return_exceptions=True,
            )
            for template, outcome in zip(missing, fetched, strict=True):
                if isinstance(outcome, BaseException):
                    if template.required or not isinstance(outcome, PreconditionFailed):
                        raise outcome
                    continue
                _keep(resources, template, outcome, f"prefetch.{template.key}")
    _check_same_patient(request, resources.get("patient", ()))
    return PatientRecord(resources)


def _check_patient_id(request: HookRequest) -> None:
    patient_id = request.context.patientId
    if patient_id is not None and not FHIR_ID.match(patient_id):
        raise Unprocessable("context.patientId: not a FHIR resource id ([A-Za-z0-9-.]{1,64})", "context.patientId")


def _check_same_patient(request: HookRequest, patients: tuple[FhirResource, ...]) -> None:
    # Screening one patient's orders against another patient's record would be worse than no screening.
    for patient in patients:
        if patient.id is not None and request.context.patientId is not None and patient.id != request.context.patientId:
            raise Unprocessable("prefetch.patient.id does not match context.patientId", "prefetch.patient.id")
