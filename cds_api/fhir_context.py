"""FHIR R4 resources -> :class:`rules.patient.PatientContext`, the plain facts the engine screens.

Codes become CURIEs through the schema's code-system map; drugs and allergy substances become
ingredient / class ids through the :class:`~cds_api.terminology.Terminology`. Whatever does not map
is listed in ``unmapped`` (by display name, never by patient identifier) instead of vanishing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from cds_api.errors import Unprocessable
from cds_api.fhir_models import FHIR_R4_RESOURCE_TYPES, CodeableConcept, FhirResource, HookRequest
from cds_api.memo import remember
from cds_api.prefetch import GENOMIC_LOINC, INCLUDED, LOINC_SYSTEM, PREGNANCY_LOINC, PatientRecord
from cds_api.terminology import Terminology
from ontology.allergen_text import allergen_name, states_no_allergy
from ontology.curie import CodeSystemMap
from rules.checks.allergy import alerting
from rules.patient import (
    AllergyEntry,
    ConditionEntry,
    GenotypeResult,
    LabResult,
    MedicationEntry,
    PatientContext,
)

ACTIVE_MEDICATION_STATUSES = frozenset({"active", "on-hold"})
IGNORED_VERIFICATION = frozenset({"entered-in-error", "refuted"})
IGNORED_OBSERVATION_STATUSES = frozenset({"entered-in-error", "cancelled", "registered"})
PREGNANT_SNOMED = frozenset({"77386006", "72892002"})
NOT_PREGNANT_SNOMED = frozenset({"60001007"})
POSITIVE_ANSWERS = frozenset({"LA6576-8", "LA9633-4", "10828004", "positive", "present", "detected"})
GENE_STUDIED_LOINC = "48018-6"
CURIE_MEMO_LIMIT = 100_000
SYSTEMS_PER_CODE = 8
"""At most this many code systems are remembered for one code (few codes are shared by two)."""
LOINC_SYSTEMS = frozenset({LOINC_SYSTEM, LOINC_SYSTEM + "/", "urn:oid:2.16.840.1.113883.6.1"})
GENOTYPE_LOINC, PHENOTYPE_LOINC, VARIANT_ASSESSMENT_LOINC = GENOMIC_LOINC
_UNSEEN = object()
_MIDNIGHT = datetime.min.time()


def parse_fhir_datetime(value: str | None) -> datetime | None:
    """FHIR dateTime (year, year-month, date or instant) as an aware UTC datetime; None if unparseable."""
    if not value:
        return None
    text = value.strip()
    try:
        if len(text) == 10:  # a date, the commonest (birth dates): parsed as date, a third of the work
            return datetime.combine(date.fromisoformat(text), _MIDNIGHT, UTC)
        if len(text) == 4:
            return datetime(int(text), 1, 1, tzinfo=UTC)
        if len(text) == 7:
            return datetime(int(text[:4]), int(text[5:7]), 1, tzinfo=UTC)
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def age_in_years(birth_date: str | None, now: datetime) -> float | None:
    born = parse_fhir_datetime(birth_date)
    if born is None:
        return None
    return round((now.date() - date(born.year, born.month, born.day)).days / 365.25, 2)


class ContextBuilder:
    """Builds the engine's view of one patient. Holds no per-request state."""

    def __init__(self, codes: CodeSystemMap) -> None:
        self._codes = codes
        # Codings repeat across calls (the same products, the same LOINC codes): remember their CURIEs, by
        # code and then system. Keyed by the code alone, a lookup hashes a short fresh string rather than a
        # tuple holding the system's URL, and the system is then one string comparison.
        self._curie_memo: dict[str, tuple[tuple[str, str | None], ...]] = {}
        self._allergen_memo: dict[tuple[tuple[str, ...], str], str | None] = {}

    def curie(self, system: str, code: str) -> str | None:
        known = self._curie_memo.get(code)
        if known is not None:
            for known_system, curie in known:
                if known_system == system:
                    return curie
        curie = self._codes.from_fhir(system, code)
        if known is None:
            remember(self._curie_memo, code, ((system, curie),), CURIE_MEMO_LIMIT)
        elif len(known) < SYSTEMS_PER_CODE:  # bounded: a client could send one code under any number of systems
            self._curie_memo[code] = (*known, (system, curie))
        return curie

    def curies(self, concept: CodeableConcept | None) -> tuple[str, ...]:
        if concept is None:
            return ()
        found: list[str] = []
        for coding in concept.coding:
            system, code = coding.system, coding.code
            if system and code:
                curie = self.curie(system, code)
                if curie is not None:
                    found.append(curie)
        return tuple(found)

    def build(
        self,
        request: HookRequest,
        drafts: Sequence[FhirResource],
        context_drafts: Sequence[FhirResource],
        record: PatientRecord,
        terminology: Terminology,
        now: datetime,
    ) -> PatientContext:
        """``drafts`` are screened; ``context_drafts`` (drafts the clinician did not select) are screened
        against, like active medications, because they will be signed together."""
        unmapped: list[str] = []
        patient = next(iter(record.of("patient")), None)
        draft_refs = {ref_of(r, i, "draft") for i, r in enumerate(drafts)}
        # A draft that cannot be recognised gets its own card (it was not screened at all): not listed here.
        referenced = ReferencedMedications(record, request)
        draft_entries = tuple(
            self._medication(r, ref_of(r, i, "draft"), True, terminology, [], referenced) for i, r in enumerate(drafts)
        )
        others = [
            self._medication(r, ref_of(r, i, "context-draft"), True, terminology, unmapped, referenced)
            for i, r in enumerate(context_drafts)
        ]
        for i, resource in enumerate(record.of("medications")):
            # Records list every past prescription too: most are stopped or completed.
            if resource.status not in ACTIVE_MEDICATION_STATUSES:
                continue
            ref = ref_of(resource, i, "active")
            if ref not in draft_refs:
                others.append(self._medication(resource, ref, False, terminology, unmapped, referenced))
        observations = record.of("labs") + record.of("genomics")
        conditions = record.of("conditions")
        # Medications and allergies are read now: what does not map must be reported on every call.
        # Conditions and observations are read when a rule asks (most orders meet none that does).
        return PatientContext(
            age_years=age_in_years(patient.birthDate, now) if patient else None,
            sex=patient.gender if patient else None,
            pregnant=lambda: self._pregnant(observations, conditions),
            active_medications=tuple(others),
            drafts=draft_entries,
            allergies=tuple(self._allergies(record.of("allergies"), terminology, unmapped)),
            conditions=lambda: tuple(self._conditions(conditions, terminology)),
            labs=lambda: tuple(self._labs(observations)),
            genotypes=lambda: tuple(self._genotypes(observations)),
            unmapped=tuple(dict.fromkeys(unmapped)),
        )

    def _medication(
        self,
        resource: FhirResource,
        ref: str,
        is_draft: bool,
        terminology: Terminology,
        unmapped: list[str],
        referenced: ReferencedMedications | None = None,
    ) -> MedicationEntry:
        concept = medication_concept(resource, referenced)
        codes = self.curies(concept)
        display = display_of(concept) or _unnamed_medication(resource)
        resolution = terminology.resolve_drug(codes, display)
        if not resolution.ingredient_ids:
            unmapped.append(f"medication {display!r} ({', '.join(codes) or 'no code'}): not recognised, not screened")
        return MedicationEntry(
            ref=ref,
            display=display,
            codes=codes,
            ingredient_ids=resolution.ingredient_ids,
            is_draft=is_draft,
            match_note=resolution.note,
        )

    def _allergies(
        self, resources: Iterable[FhirResource], terminology: Terminology, unmapped: list[str]
    ) -> Iterable[AllergyEntry]:
        for i, resource in enumerate(resources):
            verification = first_code(resource.verificationStatus)
            if verification == "entered-in-error":
                continue
            codes = self.curies(resource.code)
            display = display_of(resource.code) or "unnamed substance"
            substance = self._allergen(codes, display)
            if substance is None:
                continue
            resolution = terminology.resolve_drug(codes, substance)
            recognised = bool(resolution.ingredient_ids or resolution.class_ids)
            entry = AllergyEntry(
                ref=ref_of(resource, i, "allergy"),
                display=display,
                codes=codes,
                ingredient_ids=resolution.ingredient_ids,
                class_ids=resolution.class_ids,
                criticality=resource.criticality,
                verification_status=verification,
                clinical_status=first_code(resource.clinicalStatus),
                match_note=resolution.note if recognised else None,
            )
            # One that could never alert (refuted, inactive) does not matter to the screen either way.
            if not recognised and alerting(entry) and _is_medication_allergy(resource):
                unmapped.append(f"allergy {display!r} ({', '.join(codes) or 'no code'}): substance not recognised")
            yield entry

    def _allergen(self, codes: tuple[str, ...], display: str) -> str | None:
        """What to look the allergy's substance up by ("Allergy to penicillin" -> "penicillin", the lexicon
        knows substances, not phrases); None for a record saying there is no known allergy."""
        key = (codes, display)
        found = self._allergen_memo.get(key, _UNSEEN)
        if found is _UNSEEN:
            found = None if states_no_allergy(codes, display) else allergen_name(display)
            remember(self._allergen_memo, key, found, CURIE_MEMO_LIMIT)
        return found if isinstance(found, str) else None

    def _conditions(self, resources: Iterable[FhirResource], terminology: Terminology) -> Iterable[ConditionEntry]:
        for i, resource in enumerate(resources):
            if first_code(resource.verificationStatus) in IGNORED_VERIFICATION:
                continue
            yield ConditionEntry(
                ref=ref_of(resource, i, "condition"),
                display=display_of(resource.code) or "unnamed condition",
                codes=terminology.condition_codes(self.curies(resource.code)),
                clinical_status=first_code(resource.clinicalStatus),
            )

    def _labs(self, observations: Iterable[FhirResource]) -> Iterable[LabResult]:
        for obs in observations:
            if obs.status in IGNORED_OBSERVATION_STATUSES or obs.valueQuantity is None:
                continue
            value = obs.valueQuantity.value
            loinc = loinc_of(obs.code)
            if value is None or loinc is None:
                continue
            yield LabResult(
                loinc=loinc,
                value=float(value),
                unit=obs.valueQuantity.unit or obs.valueQuantity.code,
                effective=parse_fhir_datetime(obs.effectiveDateTime or obs.issued),
            )

    def _pregnant(self, observations: Sequence[FhirResource], conditions: Sequence[FhirResource]) -> bool | None:
        latest: tuple[datetime, bool] | None = None
        for obs in observations:
            if obs.status in IGNORED_OBSERVATION_STATUSES or loinc_of(obs.code) not in PREGNANCY_LOINC:
                continue
            answer = _coded_answer(obs)
            if answer is None:
                continue
            when = parse_fhir_datetime(obs.effectiveDateTime or obs.issued) or datetime.min.replace(tzinfo=UTC)
            if latest is None or when >= latest[0]:
                latest = (when, answer)
        if latest is not None:
            return latest[1]
        for condition in conditions:
            codings = condition.code.coding if condition.code else ()
            if any(c.code in PREGNANT_SNOMED for c in codings) and first_code(condition.clinicalStatus) in (
                None,
                "active",
            ):
                return True
        return None

    def _genotypes(self, observations: Iterable[FhirResource]) -> Iterable[GenotypeResult]:
        for obs in observations:
            loinc = loinc_of(obs.code)
            if obs.status in IGNORED_OBSERVATION_STATUSES or loinc not in GENOMIC_LOINC:
                continue
            gene = None
            allele = None
            phenotype = None
            for component in obs.component:
                code = loinc_of(component.code)
                value = display_of(component.valueCodeableConcept) or component.valueString
                if code == GENE_STUDIED_LOINC:
                    gene = value
                elif code == PHENOTYPE_LOINC:
                    phenotype = value
                elif code == GENOTYPE_LOINC:
                    allele = value
            value = display_of(obs.valueCodeableConcept) or obs.valueString
            if loinc == GENOTYPE_LOINC:
                allele = allele or value
            elif loinc == PHENOTYPE_LOINC:
                phenotype = phenotype or value
            elif loinc == VARIANT_ASSESSMENT_LOINC:
                answer = _coded_answer(obs)
                phenotype = phenotype or (None if answer is None else ("positive" if answer else "negative"))
            if gene is None and allele and "*" in allele:
                gene = allele.split("*", 1)[0].strip() or None
            if gene is None:
                continue
            parts = [gene, allele or "", phenotype or ""]
            yield GenotypeResult(
                gene=gene, phenotype=phenotype, allele=allele, display=" ".join(p for p in parts if p).strip()
            )


class ReferencedMedications:
    """Medication resources an order may reference by id (``Medication/123``): those the medications search
    ``_include``d, and those sent beside the drafts. Collected only when an order references one: most
    orders carry their code."""

    __slots__ = ("_by_id", "_record", "_request")

    def __init__(self, record: PatientRecord, request: HookRequest) -> None:
        self._record = record
        self._request = request
        self._by_id: dict[str, CodeableConcept] | None = None

    def code_of(self, reference: str) -> CodeableConcept | None:
        if self._by_id is None:
            found = (*self._record.of(INCLUDED), *_sent_with_drafts(self._request))
            self._by_id = {r.id: r.code for r in found if r.resourceType == "Medication" and r.id and r.code}
        resource_id = medication_id(reference)
        return self._by_id.get(resource_id) if resource_id else None


def _unnamed_medication(resource: FhirResource) -> str:
    """What to call an order whose drug could not be read: the reference it makes, when it makes one."""
    reference = resource.medicationReference.reference if resource.medicationReference else None
    return f"medication referenced as {reference}, not sent" if reference else "unnamed medication"


def medication_id(reference: str) -> str | None:
    """``Medication/123``, ``https://ehr/fhir/Medication/123/_history/2`` -> ``123``; None for anything else."""
    parts = reference.split("/")
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == "Medication" and parts[i + 1]:
            return parts[i + 1]
    return None


def _sent_with_drafts(request: HookRequest) -> tuple[FhirResource, ...]:
    bundle = request.context.draftOrders
    meds = request.context.medications
    if bundle is None and isinstance(meds, FhirResource) and meds.resourceType == "Bundle":
        bundle = meds
    return tuple(e.resource for e in bundle.entry if e.resource) if bundle is not None else ()


def medication_concept(
    resource: FhirResource, referenced: ReferencedMedications | None = None
) -> CodeableConcept | None:
    if resource.medicationCodeableConcept is not None:
        return resource.medicationCodeableConcept
    reference = resource.medicationReference.reference if resource.medicationReference else None
    if reference and reference.startswith("#"):
        for contained in resource.contained:
            if contained.id == reference[1:] and contained.resourceType == "Medication":
                return contained.code
    elif reference and referenced is not None:
        found = referenced.code_of(reference)
        if found is not None:
            return found
    if resource.medicationReference is not None and resource.medicationReference.display:
        return CodeableConcept(text=resource.medicationReference.display)
    return None


def draft_medications(request: HookRequest) -> tuple[list[FhirResource], list[FhirResource]]:
    """(screened drafts, other drafts) of the request; order-select screens only ``selections``."""
    context = request.context
    resources: list[FhirResource] = []
    field = "context.draftOrders"
    if request.hook == "medication-prescribe":
        field = "context.medications"
        meds = context.medications
        if meds is None:
            raise Unprocessable("context.medications is required by medication-prescribe", field)
        if isinstance(meds, FhirResource):
            resources = [e.resource for e in meds.entry if e.resource] if meds.resourceType == "Bundle" else [meds]
        else:
            resources = list(meds)
    else:
        bundle = context.draftOrders
        if bundle is None:
            raise Unprocessable(f"context.draftOrders is required by {request.hook}", field)
        if bundle.resourceType != "Bundle":
            raise Unprocessable(
                f"context.draftOrders must be a Bundle, got {bundle.resourceType!r}", "context.draftOrders.resourceType"
            )
        resources = [e.resource for e in bundle.entry if e.resource is not None]
    medication_requests: list[FhirResource] = []
    for i, resource in enumerate(resources):
        if resource.resourceType not in FHIR_R4_RESOURCE_TYPES:
            path = f"{field}.entry[{i}].resource.resourceType"
            raise Unprocessable(f"{path}: {resource.resourceType!r} is not a FHIR R4 resource type", path)
        # Other draft orders (ServiceRequest, NutritionOrder...) are legitimate and not ours to screen.
        if resource.resourceType == "MedicationRequest":
            medication_requests.append(resource)
    if request.hook != "order-select" or context.selections is None:
        return medication_requests, []
    selected = set(context.selections)
    chosen = [r for i, r in enumerate(medication_requests) if ref_of(r, i, "draft") in selected]
    rest = [r for i, r in enumerate(medication_requests) if ref_of(r, i, "draft") not in selected]
    return chosen, rest


def ref_of(resource: FhirResource, index: int, role: str) -> str:
    if resource.id:
        return f"{resource.resourceType}/{resource.id}"
    return f"{resource.resourceType}/{role}-{index}"


def first_code(concept: CodeableConcept | None) -> str | None:
    if concept is None:
        return None
    # Loops, not next(generator): these run dozens of times per call, and a generator costs more than the scan.
    for coding in concept.coding:
        if coding.code:
            return coding.code
    return None


def display_of(concept: CodeableConcept | None) -> str | None:
    if concept is None:
        return None
    if concept.text:
        return concept.text
    for coding in concept.coding:
        if coding.display:
            return coding.display
    return None


def loinc_of(concept: CodeableConcept | None) -> str | None:
    if concept is None:
        return None
    for coding in concept.coding:
        if coding.system in LOINC_SYSTEMS and coding.code:
            return coding.code
    return None


def _coded_answer(obs: FhirResource) -> bool | None:
    concept = obs.valueCodeableConcept
    if concept is None:
        return None
    for coding in concept.coding:
        if coding.code in PREGNANT_SNOMED or coding.code in POSITIVE_ANSWERS:
            return True
        if coding.code in NOT_PREGNANT_SNOMED or coding.code in {"LA6577-6", "LA9634-2", "260385009", "negative"}:
            return False
    text = (concept.text or "").strip().lower()
    if text in POSITIVE_ANSWERS or text == "pregnant":
        return True
    if text in {"negative", "absent", "not detected", "not pregnant"}:
        return False
    return None


def _is_medication_allergy(resource: FhirResource) -> bool:
    categories = {c for c in resource.category if isinstance(c, str)}
    return not categories or "medication" in categories
