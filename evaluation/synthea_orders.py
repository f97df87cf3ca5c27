"""Turn Synthea patient Bundles into CDS Hooks order-sign calls, for screening tests and alert burden.

Each patient's most recent MedicationRequest becomes the draft order; the rest of the record
(active medications, allergies, conditions, the lab results the service asks for) is sent as prefetch,
as an EHR would.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cds_api.prefetch import LAB_COUNT, LAB_LOINC

SERVICE_ID = "medication-safety-order-sign"


def read_bundles(path: Path) -> Iterator[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for line in lines:
            if line.strip():
                yield json.loads(line)


def _searchset(resources: list[dict[str, Any]]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": "searchset", "entry": [{"resource": r} for r in resources]}


def order_sign_request(
    bundle: dict[str, Any], drafts: int = 1, all_observations: bool = False
) -> dict[str, Any] | None:
    """The order-sign call for the patient's ``drafts`` most recent prescriptions; None without any.

    ``labs`` holds what the service's labs query asks for (its LOINC codes, newest first, at most
    :data:`~cds_api.prefetch.LAB_COUNT`), as an EHR answering it would send; ``all_observations``: every numeric
    Observation instead (Synthea records hold thousands), to test robustness to unasked-for data.
    """
    by_type: dict[str, list[dict[str, Any]]] = {}
    for entry in bundle.get("entry", []):
        resource = entry["resource"]
        by_type.setdefault(resource["resourceType"], []).append(resource)
    patients = by_type.get("Patient", [])
    orders = sorted(by_type.get("MedicationRequest", []), key=lambda r: r.get("authoredOn", ""))
    if not patients or not orders:
        return None
    patient_id = patients[0]["id"]
    draft_orders = [{**order, "status": "draft"} for order in orders[-drafts:]]
    observations = [o for o in by_type.get("Observation", []) if "valueQuantity" in o]
    if not all_observations:
        asked = [
            o for o in observations if any(c.get("code") in LAB_LOINC for c in o.get("code", {}).get("coding", []))
        ]
        observations = sorted(asked, key=lambda o: str(o.get("effectiveDateTime", "")), reverse=True)[:LAB_COUNT]
    return {
        "hook": "order-sign",
        "hookInstance": f"synthea-{patient_id}",
        "context": {
            "userId": "Practitioner/synthea",
            "patientId": patient_id,
            "draftOrders": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"resource": d} for d in draft_orders],
            },
        },
        "prefetch": {
            "patient": patients[0],
            "medications": _searchset(orders[:-drafts]),
            "allergies": _searchset(by_type.get("AllergyIntolerance", [])),
            "conditions": _searchset(by_type.get("Condition", [])),
            "labs": _searchset(observations),
            "genomics": _searchset([]),
        },
    }
