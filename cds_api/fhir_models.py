"""msgspec structs for the CDS Hooks request and the few FHIR R4 elements the screening reads.

Request bodies are decoded straight from the raw bytes into these structs (about 3x faster than
pydantic for a 33 KB request). The CDS Hooks envelope refuses unknown fields; FHIR resources do not,
because real resources legitimately carry many elements (narrative, extensions, identifiers) that
screening never reads. One flat :class:`FhirResource` covers every resource type so a Bundle with
an Encounter or Practitioner in it still decodes in one pass; ``resourceType`` is checked afterwards
by the code that expects a particular type.

Every struct is ``gc=False``: values decoded from JSON cannot form reference cycles, so the garbage
collector need not track the few hundred objects a request decodes into (fewer, shorter collections).
"""

from __future__ import annotations

from typing import Any

import msgspec


class Coding(msgspec.Struct, frozen=True, gc=False):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class CodeableConcept(msgspec.Struct, frozen=True, gc=False):
    coding: tuple[Coding, ...] = ()
    text: str | None = None


class Reference(msgspec.Struct, frozen=True, gc=False):
    reference: str | None = None
    display: str | None = None


class Quantity(msgspec.Struct, frozen=True, gc=False):
    value: float | None = None
    unit: str | None = None
    code: str | None = None
    system: str | None = None


class ObservationComponent(msgspec.Struct, frozen=True, gc=False):
    code: CodeableConcept | None = None
    valueQuantity: Quantity | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueString: str | None = None


class BundleLink(msgspec.Struct, frozen=True, gc=False):
    relation: str | None = None
    url: str | None = None


class BundleEntry(msgspec.Struct, frozen=True, gc=False):
    resource: FhirResource | None = None
    fullUrl: str | None = None


class FhirResource(msgspec.Struct, frozen=True, gc=False):
    """The union of the elements read from Patient, MedicationRequest, AllergyIntolerance, Condition,
    Observation and Bundle. Fields a resource type does not have simply stay at their default."""

    resourceType: str
    id: str | None = None
    # Patient
    birthDate: str | None = None
    gender: str | None = None
    # MedicationRequest
    status: str | None = None
    intent: str | None = None
    medicationCodeableConcept: CodeableConcept | None = None
    medicationReference: Reference | None = None
    # AllergyIntolerance / Condition / Observation
    code: CodeableConcept | None = None
    clinicalStatus: CodeableConcept | None = None
    verificationStatus: CodeableConcept | None = None
    criticality: str | None = None
    # AllergyIntolerance.category is a list of codes; Observation/Condition.category are concepts.
    category: tuple[CodeableConcept | str, ...] = ()
    # Observation
    effectiveDateTime: str | None = None
    issued: str | None = None
    valueQuantity: Quantity | None = None
    valueCodeableConcept: CodeableConcept | None = None
    valueString: str | None = None
    valueBoolean: bool | None = None
    interpretation: tuple[CodeableConcept, ...] = ()
    component: tuple[ObservationComponent, ...] = ()
    # Medication (a contained or referenced Medication resource carries the code)
    contained: tuple[FhirResource, ...] = ()
    # Bundle
    type: str | None = None
    entry: tuple[BundleEntry, ...] = ()
    link: tuple[BundleLink, ...] = ()


class FhirAuthorization(msgspec.Struct, frozen=True, gc=False):
    """OAuth 2.0 access token for ``fhirServer``; servers may add fields (e.g. ``id_token``), so extras are ignored."""

    access_token: str
    token_type: str
    expires_in: int
    scope: str
    subject: str
    patient: str | None = None


class HookContext(msgspec.Struct, frozen=True, gc=False):
    """Every context field the medication hooks define; which ones are required depends on the hook
    and is checked in :mod:`cds_api.services` so the error can name the hook and the field."""

    userId: str | None = None
    patientId: str | None = None
    encounterId: str | None = None
    selections: tuple[str, ...] | None = None
    draftOrders: FhirResource | None = None
    # medication-prescribe (deprecated): an array of resources, or a Bundle in later drafts
    medications: tuple[FhirResource, ...] | FhirResource | None = None


class Prefetch(msgspec.Struct, frozen=True, gc=False):
    """The prefetch keys the medication services declare (see :data:`cds_api.prefetch.MEDICATION_PREFETCH`).

    A struct rather than a dict so a decoding error names the key (``prefetch.allergies.entry[0]``).
    Keys the services did not ask for are ignored.
    """

    patient: FhirResource | None = None
    medications: FhirResource | None = None
    allergies: FhirResource | None = None
    conditions: FhirResource | None = None
    labs: FhirResource | None = None
    genomics: FhirResource | None = None
    observations: FhirResource | None = None
    """Phenotype Observations, for the differential-diagnosis patient-view service."""


class HookRequest(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    hook: str
    hookInstance: str
    context: HookContext
    fhirServer: str | None = None
    fhirAuthorization: FhirAuthorization | None = None
    prefetch: Prefetch | None = None
    extension: dict[str, Any] | None = None
    user: str | None = None
    """CDS Hooks 1.0 put the user at the top level; EHRs still on ``medication-prescribe`` may send it."""


class FeedbackOverrideReason(msgspec.Struct, frozen=True, gc=False):
    reason: Coding | None = None
    userComment: str | None = None


class FeedbackItem(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    card: str
    outcome: str
    outcomeTimestamp: str
    acceptedSuggestions: tuple[dict[str, Any], ...] = ()
    overrideReason: FeedbackOverrideReason | None = None


class FeedbackRequest(msgspec.Struct, frozen=True, gc=False, forbid_unknown_fields=True):
    feedback: tuple[FeedbackItem, ...]


# FHIR R4 (4.0.1) resource types: a resourceType outside this set is not a FHIR resource.
FHIR_R4_RESOURCE_TYPES: frozenset[str] = frozenset(
    [
        "Account",
        "ActivityDefinition",
        "AdverseEvent",
        "AllergyIntolerance",
        "Appointment",
        "AppointmentResponse",
        "AuditEvent",
        "Basic",
        "Binary",
        "BiologicallyDerivedProduct",
        "BodyStructure",
        "Bundle",
        "CapabilityStatement",
        "CarePlan",
        "CareTeam",
        "CatalogEntry",
        "ChargeItem",
        "ChargeItemDefinition",
        "Claim",
        "ClaimResponse",
        "ClinicalImpression",
        "CodeSystem",
        "Communication",
        "CommunicationRequest",
        "CompartmentDefinition",
        "Composition",
        "ConceptMap",
        "Condition",
        "Consent",
        "Contract",
        "Coverage",
        "CoverageEligibilityRequest",
        "CoverageEligibilityResponse",
        "DetectedIssue",
        "Device",
        "DeviceDefinition",
        "DeviceMetric",
        "DeviceRequest",
        "DeviceUseStatement",
        "DiagnosticReport",
        "DocumentManifest",
        "DocumentReference",
        "EffectEvidenceSynthesis",
        "Encounter",
        "Endpoint",
        "EnrollmentRequest",
        "EnrollmentResponse",
        "EpisodeOfCare",
        "EventDefinition",
        "Evidence",
        "EvidenceVariable",
        "ExampleScenario",
        "ExplanationOfBenefit",
        "FamilyMemberHistory",
        "Flag",
        "Goal",
        "GraphDefinition",
        "Group",
        "GuidanceResponse",
        "HealthcareService",
        "ImagingStudy",
        "Immunization",
        "ImmunizationEvaluation",
        "ImmunizationRecommendation",
        "ImplementationGuide",
        "InsurancePlan",
        "Invoice",
        "Library",
        "Linkage",
        "List",
        "Location",
        "Measure",
        "MeasureReport",
        "Media",
        "Medication",
        "MedicationAdministration",
        "MedicationDispense",
        "MedicationKnowledge",
        "MedicationRequest",
        "MedicationStatement",
        "MedicinalProduct",
        "MedicinalProductAuthorization",
        "MedicinalProductContraindication",
        "MedicinalProductIndication",
        "MedicinalProductIngredient",
        "MedicinalProductInteraction",
        "MedicinalProductManufactured",
        "MedicinalProductPackaged",
        "MedicinalProductPharmaceutical",
        "MedicinalProductUndesirableEffect",
        "MessageDefinition",
        "MessageHeader",
        "MolecularSequence",
        "NamingSystem",
        "NutritionOrder",
        "Observation",
        "ObservationDefinition",
        "OperationDefinition",
        "OperationOutcome",
        "Organization",
        "OrganizationAffiliation",
        "Parameters",
        "Patient",
        "PaymentNotice",
        "PaymentReconciliation",
        "Person",
        "PlanDefinition",
        "Practitioner",
        "PractitionerRole",
        "Procedure",
        "Provenance",
        "Questionnaire",
        "QuestionnaireResponse",
        "RelatedPerson",
        "RequestGroup",
        "ResearchDefinition",
        "ResearchElementDefinition",
        "ResearchStudy",
        "ResearchSubject",
        "RiskAssessment",
        "RiskEvidenceSynthesis",
        "Schedule",
        "SearchParameter",
        "ServiceRequest",
        "Slot",
        "Specimen",
        "SpecimenDefinition",
        "StructureDefinition",
        "StructureMap",
        "Subscription",
        "Substance",
        "SubstanceNucleicAcid",
        "SubstancePolymer",
        "SubstanceProtein",
        "SubstanceReferenceInformation",
        "SubstanceSourceMaterial",
        "SubstanceSpecification",
        "SupplyDelivery",
        "SupplyRequest",
        "Task",
        "TerminologyCapabilities",
        "TestReport",
        "TestScript",
        "ValueSet",
        "VerificationResult",
        "VisionPrescription",
    ]
)
