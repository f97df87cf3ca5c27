"""Shared pieces for the API tests: a small real engine, a code table, FHIR builders and JWT keys.

``TableEngine`` is a genuine implementation of the :class:`rules.engine.Engine` protocol over a
handful of known clinical facts (warfarin + fluconazole interact; amoxicillin is a penicillin;
metformin needs eGFR >= 30; clopidogrel fails in CYP2C19 poor metabolizers), so the API tests do
not depend on the full knowledge graph. RxNorm codes are real (RxNorm prescribable content).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from cds_api.terminology import CodeTableTerminology
from ontology.vocab import Severity
from rules.findings import Finding, Suggestion
from rules.patient import MedicationEntry, PatientContext

WARFARIN, FLUCONAZOLE, AMOXICILLIN, METFORMIN, CLOPIDOGREL, CEPHALEXIN = (
    "RXNORM:11289",
    "RXNORM:4450",
    "RXNORM:723",
    "RXNORM:6809",
    "RXNORM:32968",
    "RXNORM:2231",
)
PENICILLINS = "ALLERGYGROUP:penicillin"
RXNORM_SYSTEM = "http://www.nlm.nih.gov/research/umls/rxnorm"
SNOMED_SYSTEM = "http://snomed.info/sct"

# product code -> (display, ingredient)
PRODUCTS: dict[str, tuple[str, str]] = {
    "855332": ("warfarin sodium 5 MG Oral Tablet", WARFARIN),
    "197699": ("fluconazole 150 MG Oral Tablet", FLUCONAZOLE),
    "308191": ("Amoxicillin 500 MG Oral Capsule", AMOXICILLIN),
    "861007": ("metformin hydrochloride 500 MG Oral Tablet", METFORMIN),
    "309362": ("clopidogrel 75 MG Oral Tablet", CLOPIDOGREL),
    "197454": ("cephalexin 500 MG Oral Tablet", CEPHALEXIN),
    "197805": ("ibuprofen 400 MG Oral Tablet", "RXNORM:5640"),
}


def code_table() -> CodeTableTerminology:
    by_code = {f"RXNORM:{code}": (ingredient,) for code, (_, ingredient) in PRODUCTS.items()}
    by_code.update({i: (i,) for _, i in PRODUCTS.values()})
    return CodeTableTerminology(
        ingredients_by_code=by_code,
        classes_by_code={"RXNORM:7980": (PENICILLINS,)},  # RxNorm 7980 = penicillin G (allergy recorded as it)
        ingredients_by_name={"warfarin": (WARFARIN,), "fluconazole": (FLUCONAZOLE,)},
        classes_by_name={"penicillin": (PENICILLINS,)},
    )


def _finding(
    kind: str,
    rule: str,
    severity: Severity,
    draft: MedicationEntry,
    other: str | None,
    summary: str,
    pair: Iterable[str],
    suggestions: tuple[Suggestion, ...] = (),
    interruptive: bool = True,
) -> Finding:
    return Finding(
        rule_id=rule,
        rule_version="1",
        kind=kind,
        severity=severity,
        interruptive=interruptive,
        draft_ref=draft.ref,
        other_ref=other,
        summary=summary,
        detail_markdown=f"{summary}. Test rule.",
        management="Monitor.",
        source_label="kgcds test rules",
        source_url=None,
        source_dataset="test@1",
        source_version="1",
        references=("PMID:22422854",),
        suggestions=suggestions,
        dedupe_key=(kind, *sorted(pair)),
    )


@dataclass(frozen=True, slots=True)
class TableEngine:
    interactions: dict[frozenset[str], Severity] = field(
        default_factory=lambda: {frozenset({WARFARIN, FLUCONAZOLE}): Severity.MAJOR}
    )
    allergy_classes: dict[str, frozenset[str]] = field(default_factory=lambda: {AMOXICILLIN: frozenset({PENICILLINS})})

    def evaluate(self, patient: PatientContext, now: datetime) -> list[Finding]:
        findings: list[Finding] = []
        egfr = [lab for lab in patient.labs if lab.loinc in {"33914-3", "62238-1", "98979-8"}]
        latest_egfr = max(egfr, key=lambda lab: lab.effective or now).value if egfr else None
        for draft in patient.drafts:
            for other in (*patient.active_medications, *patient.drafts):
                if other.ref == draft.ref:
                    continue
                for a in draft.ingredient_ids:
                    for b in other.ingredient_ids:
                        severity = self.interactions.get(frozenset({a, b}))
                        if severity is not None:
                            findings.append(
                                _finding(
                                    "drug-drug",
                                    "ddi-test",
                                    severity,
                                    draft,
                                    other.ref,
                                    f"{draft.display} interacts with {other.display}",
                                    (a, b),
                                    (Suggestion("Cancel this order", "remove-draft", None, None),),
                                )
                            )
            for allergy in patient.allergies:
                if allergy.verification_status in {"refuted", "entered-in-error"}:
                    continue
                for ingredient in draft.ingredient_ids:
                    if ingredient in allergy.ingredient_ids or self.allergy_classes.get(ingredient, frozenset()) & set(
                        allergy.class_ids
                    ):
                        findings.append(
                            _finding(
                                "allergy",
                                "allergy-test",
                                Severity.CONTRAINDICATED,
                                draft,
                                allergy.ref,
                                f"{draft.display}: patient allergic to {allergy.display}",
                                (ingredient, allergy.ref),
                                (
                                    Suggestion("Cancel this order", "remove-draft", None, None),
                                    Suggestion("Use cephalexin instead", "replace-draft", CEPHALEXIN, "cephalexin"),
                                ),
                            )
                        )
            if METFORMIN in draft.ingredient_ids and latest_egfr is not None and latest_egfr < 30:
                findings.append(
                    _finding(
                        "renal",
                        "renal-metformin",
                        Severity.CONTRAINDICATED,
                        draft,
                        None,
                        f"Metformin with eGFR {latest_egfr:g} (threshold 30)",
                        (draft.ref,),
                    )
                )
            poor = any(
                g.gene == "CYP2C19" and (g.phenotype or "").lower().startswith("poor") for g in patient.genotypes
            )
            if CLOPIDOGREL in draft.ingredient_ids and poor:
                findings.append(
                    _finding(
                        "pharmacogenomic",
                        "pgx-clopidogrel",
                        Severity.MAJOR,
                        draft,
                        None,
                        "Clopidogrel: CYP2C19 poor metabolizer, reduced effect",
                        (draft.ref,),
                    )
                )
        return findings


# ---------------------------------------------------------------- FHIR builders


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def med_request(rid: str, product: str, status: str = "active") -> dict[str, Any]:
    display = PRODUCTS[product][0]
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {"coding": [coding(RXNORM_SYSTEM, product, display)], "text": display},
        "subject": {"reference": "Patient/p1"},
    }


def allergy(rid: str, code: str, display: str, verification: str = "confirmed") -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "id": rid,
        "category": ["medication"],
        "criticality": "high",
        "clinicalStatus": {
            "coding": [coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active")]
        },
        "verificationStatus": {
            "coding": [coding("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", verification)]
        },
        "code": {"coding": [coding(RXNORM_SYSTEM, code, display)], "text": display},
        "patient": {"reference": "Patient/p1"},
    }


def egfr(rid: str, value: float, when: str = "2026-10-01T08:00:00Z") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [coding("http://loinc.org", "33914-3", "eGFR")]},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": "mL/min/{1.73_m2}"},
    }


def cyp2c19_poor(rid: str = "pgx1") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [coding("http://loinc.org", "53040-2", "Genetic variation's effect on drug metabolism")]},
        "component": [
            {
                "code": {"coding": [coding("http://loinc.org", "48018-6", "Gene studied [ID]")]},
                "valueCodeableConcept": {"coding": [coding("http://www.genenames.org", "HGNC:2621", "CYP2C19")]},
            }
        ],
        "valueCodeableConcept": {"coding": [coding("http://loinc.org", "LA10316-0", "Poor metabolizer")]},
    }


def bundle(resources: Iterable[dict[str, Any]], kind: str = "searchset") -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": [{"resource": r} for r in resources]}


def patient(pid: str = "p1", birth: str = "1950-05-01", gender: str = "female") -> dict[str, Any]:
    return {"resourceType": "Patient", "id": pid, "birthDate": birth, "gender": gender}


def hook_request(
    hook: str = "order-select",
    drafts: Iterable[dict[str, Any]] = (),
    meds: Iterable[dict[str, Any]] = (),
    allergies: Iterable[dict[str, Any]] = (),
    conditions: Iterable[dict[str, Any]] = (),
    labs: Iterable[dict[str, Any]] = (),
    genomics: Iterable[dict[str, Any]] = (),
    selections: list[str] | None = None,
    patient_id: str = "p1",
) -> dict[str, Any]:
    draft_list = list(drafts)
    context: dict[str, Any] = {"userId": "Practitioner/u1", "patientId": patient_id, "encounterId": "e1"}
    if hook == "medication-prescribe":
        context["medications"] = draft_list
    else:
        context["draftOrders"] = bundle(draft_list, "collection")
    if hook == "order-select":
        context["selections"] = (
            selections if selections is not None else [f"MedicationRequest/{d['id']}" for d in draft_list]
        )
    return {
        "hook": hook,
        "hookInstance": str(uuid.uuid4()),
        "context": context,
        "prefetch": {
            "patient": patient(patient_id),
            "medications": bundle(meds),
            "allergies": bundle(allergies),
            "conditions": bundle(conditions),
            "labs": bundle(labs),
            "genomics": bundle(genomics),
        },
    }


# ---------------------------------------------------------------- JWT


@dataclass(frozen=True, slots=True)
class Signer:
    """An EHR's signing key and the claims it would put in a CDS Hooks JWT."""

    iss: str
    key: ECKey | RSAKey
    alg: str
    jku: str | None = None

    @classmethod
    def ec(cls, iss: str, kid: str = "ec-1", jku: str | None = None) -> Signer:
        return cls(iss, ECKey.generate_key("P-384", parameters={"kid": kid}), "ES384", jku)

    @classmethod
    def rsa(cls, iss: str, kid: str = "rsa-1", jku: str | None = None) -> Signer:
        return cls(iss, RSAKey.generate_key(2048, parameters={"kid": kid}), "RS384", jku)

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    def token(self, aud: str | list[str], **overrides: Any) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.iss,
            "sub": "ehr-client",
            "aud": aud,
            "iat": now,
            "exp": now + 300,
            "jti": str(uuid.uuid4()),
        }
        claims.update(overrides)
        claims = {k: v for k, v in claims.items() if v is not None}
        header: dict[str, Any] = {"alg": self.alg, "typ": "JWT", "kid": self.key.kid}
        if self.jku:
            header["jku"] = self.jku
        return jwt.encode(header, claims, self.key, algorithms=[self.alg])


def make_app(tmp_path: Any, http_client: Any = None, store_health: Any = None, **settings: Any) -> Any:
    """The real app with the table engine and a feedback database under ``tmp_path``."""
    from cds_api.app import create_app
    from cds_api.settings import ApiSettings

    values: dict[str, Any] = {"home": tmp_path, "auth": "disabled"}
    values.update(settings)
    terminology = code_table()
    return create_app(
        ApiSettings(**values), lambda: terminology, TableEngine(), http_client=http_client, store_health=store_health
    )


def med_by_text(rid: str, code: str, display: str, status: str = "draft") -> dict[str, Any]:
    """A MedicationRequest for a product the code table may not know: the display text must carry it."""
    return {
        "resourceType": "MedicationRequest",
        "id": rid,
        "status": status,
        "intent": "order",
        "medicationCodeableConcept": {"coding": [coding(RXNORM_SYSTEM, code, display)], "text": display},
    }


def hla_b5701(present: bool, rid: str = "hla1") -> dict[str, Any]:
    answer = (
        coding("http://loinc.org", "LA9633-4", "Present")
        if present
        else coding("http://loinc.org", "LA9634-2", "Absent")
    )
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [coding("http://loinc.org", "69548-6", "Genetic variant assessment")]},
        "component": [
            {
                "code": {"coding": [coding("http://loinc.org", "48018-6", "Gene studied [ID]")]},
                "valueCodeableConcept": {"coding": [coding("http://www.genenames.org", "HGNC:4932", "HLA-B")]},
            },
            {
                "code": {"coding": [coding("http://loinc.org", "84413-4", "Genotype display name")]},
                "valueCodeableConcept": {"text": "HLA-B*57:01"},
            },
        ],
        "valueCodeableConcept": {"coding": [answer]},
    }


def pregnancy_status(pregnant: bool, rid: str = "preg1") -> dict[str, Any]:
    answer = (
        coding(SNOMED_SYSTEM, "77386006", "Pregnant") if pregnant else coding(SNOMED_SYSTEM, "60001007", "Not pregnant")
    )
    return {
        "resourceType": "Observation",
        "id": rid,
        "status": "final",
        "code": {"coding": [coding("http://loinc.org", "82810-3", "Pregnancy status")]},
        "effectiveDateTime": "2026-11-01T09:00:00Z",
        "valueCodeableConcept": {"coding": [answer]},
    }


def condition(rid: str, snomed: str, display: str, status: str = "active") -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": rid,
        "clinicalStatus": {"coding": [coding("http://terminology.hl7.org/CodeSystem/condition-clinical", status)]},
        "code": {"coding": [coding(SNOMED_SYSTEM, snomed, display)], "text": display},
    }
