"""Benchmark: rules-engine evaluation for a heavy patient (20 active meds, 5 allergies, 10 conditions,
3 drafts), in process, on the real graph.

Loads the drug vocabulary, interaction and CPIC sources into a temporary embedded store (or
reads an existing one with ``--store-dir``), builds the engine with the shipped rule library,
freezes the long-lived heap, then times ``evaluate``. Usage::

    python -m evaluation.bench_rules_engine [--data-dir DIR] [--store-dir DIR] [--runs 5000]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from graph_store.embedded import EmbeddedGraphStore
from kgcds.settings import default_data_dir
from ontology.schema import load_schema
from ontology.vocab import Label
from rules.factory import build_engine
from rules.patient import AllergyEntry, ConditionEntry, LabResult, MedicationEntry, PatientContext

ACTIVE = [
    "warfarin",
    "simvastatin",
    "lisinopril",
    "metformin",
    "amlodipine",
    "omeprazole",
    "levothyroxine",
    "furosemide",
    "hydrochlorothiazide",
    "metoprolol",
    "digoxin",
    "sertraline",
    "tramadol",
    "prednisone",
    "allopurinol",
    "gabapentin",
    "losartan",
    "clopidogrel",
    "citalopram",
    "spironolactone",
]
DRAFTS = ("fluconazole", "clarithromycin", "ibuprofen")
CONDITIONS = [
    "SNOMEDCT:88805009",
    "ICD10CM:I50.22",
    "ICD10CM:N18.4",
    "SNOMEDCT:44054006",
    "ICD10CM:I10",
    "ICD10CM:K25.4",
    "ICD10CM:G20.A1",
    "SNOMEDCT:49436004",
    "ICD10CM:E78.5",
    "ICD10CM:M17.0",
]
ALLERGY_GROUPS = ("penicillin", "sulfonamide_antibacterial", "opioid", "cephalosporin", "contrast")


def _patient(ids: dict[str, str], now: datetime) -> PatientContext:
    def med(name: str, draft: bool) -> MedicationEntry:
        ingredient = ids[name]
        ref = f"MedicationRequest/{'d' if draft else 'a'}-{name}"
        return MedicationEntry(ref, name, (ingredient,), (ingredient,), draft, None)

    return PatientContext(
        age_years=78,
        sex="female",
        pregnant=None,
        active_medications=tuple(med(n, False) for n in ACTIVE if n in ids),
        drafts=tuple(med(n, True) for n in DRAFTS if n in ids),
        allergies=tuple(
            AllergyEntry(f"AllergyIntolerance/{g}", g, (), (), (f"ALLERGYGROUP:{g}",), "high", "confirmed", "active")
            for g in ALLERGY_GROUPS
        ),
        conditions=tuple(ConditionEntry(f"Condition/{c}", c, (c,), "active") for c in CONDITIONS),
        labs=(LabResult("33914-3", 28.0, "mL/min/1.73m2", now - timedelta(days=3)),),
        genotypes=(),
        unmapped=(),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument("--store-dir", type=Path, default=None, help="reuse (or fill, when empty) this store")
    parser.add_argument("--runs", type=int, default=5000)
    args = parser.parse_args()
    schema = load_schema()
    with tempfile.TemporaryDirectory() as tmp:
        store = EmbeddedGraphStore(args.store_dir or Path(tmp), schema)
        if store.current_generation() is None:
            from evaluation.bench_interactions import _load

            started = time.perf_counter()
            _load(store, args.data_dir)
            print(f"graph loaded in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        engine = build_engine(store)
        print(f"engine built in {time.perf_counter() - started:.1f} s ({len(engine.ruleset.rules)} YAML rules)")
        names = {row["name"].lower(): row["id"] for row in store.nodes_frame(Label.DRUG).iter_rows(named=True)}
    now = datetime.now(UTC)
    patient = _patient(names, now)
    print(
        f"patient: {len(patient.active_medications)} active, {len(patient.drafts)} drafts, "
        f"{len(patient.allergies)} allergies, {len(patient.conditions)} conditions"
    )
    findings = engine.evaluate(patient, now)
    for f in findings:
        print(f"  {f.severity.value:15} {f.kind:17} {f.rule_id:38} {f.summary}")
    typical = PatientContext(
        age_years=patient.age_years,
        sex=patient.sex,
        pregnant=patient.pregnant,
        active_medications=patient.active_medications[:5],
        drafts=patient.drafts[:1],
        allergies=patient.allergies,
        conditions=(),
        labs=patient.labs,
        genotypes=patient.genotypes,
        unmapped=patient.unmapped,
    )
    gc.collect()
    gc.freeze()
    for label, who in (("heavy (20 active, 3 drafts)", patient), ("typical (5 active, 1 draft)", typical)):
        timings, cpu = [], []
        for _ in range(args.runs):
            t0, c0 = time.perf_counter_ns(), time.thread_time_ns()
            engine.evaluate(who, now)
            cpu.append((time.thread_time_ns() - c0) / 1000)
            timings.append((time.perf_counter_ns() - t0) / 1000)
        timings.sort()
        p99 = timings[min(len(timings) - 1, int(0.99 * len(timings)))]
        # CPU time is the fairer figure on a shared machine: wall time includes waiting for a core.
        print(
            f"evaluate {label}: n={len(timings)} wall median {statistics.median(timings):.0f} µs, "
            f"p99 {p99:.0f} µs; CPU median {statistics.median(cpu):.0f} µs"
        )


if __name__ == "__main__":
    main()
