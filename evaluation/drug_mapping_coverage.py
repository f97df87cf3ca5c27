"""Share of FHIR MedicationRequest drug codings that map to at least one graph ingredient.

    python -m evaluation.drug_mapping_coverage [--store URI] [--bundles FILE] [--json] [--timing]

Reads FHIR R4 Bundles (one JSON per line, gzip allowed), normalises every coding of every
``MedicationRequest.medicationCodeableConcept`` (code + system + display) with the drug
normaliser, and prints the total, the mapped share, the split by match type and every
unmapped coding with its reason. Goal for the Synthea sample: >= 98 %.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import statistics
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ontology.drug_normalizer import DrugLexicon, DrugMatch, MatchType, normalize_drug
from ontology.vocab import Label

DEFAULT_BUNDLES = Path("fhir/synthea_patients.ndjson.gz")
"""Relative to the data directory."""


@dataclass(frozen=True, slots=True)
class Coding:
    system: str | None
    code: str | None
    display: str | None


@dataclass
class CoverageReport:
    total: int = 0
    mapped: int = 0
    partial: int = 0
    """Mapped, but some ingredient named in the text was not found."""
    by_match_type: Counter[str] = field(default_factory=Counter)
    unmapped: Counter[tuple[str | None, str | None, str]] = field(default_factory=Counter)
    """(code, display, reason) -> how many codings."""

    @property
    def share_mapped(self) -> float:
        return self.mapped / self.total if self.total else 0.0

    def add(self, match: DrugMatch, coding: Coding) -> None:
        self.total += 1
        self.by_match_type[match.match_type.value] += 1
        if match.mapped:
            self.mapped += 1
            if match.reason and "no ingredient found for" in match.reason:
                self.partial += 1
        else:
            self.unmapped[(coding.code, coding.display, match.reason or "")] += 1

    def to_json(self) -> dict[str, Any]:
        return {
            "total_codings": self.total,
            "mapped": self.mapped,
            "share_mapped": round(self.share_mapped, 4),
            "partially_mapped": self.partial,
            "by_match_type": dict(self.by_match_type.most_common()),
            "unmapped": [
                {"code": code, "display": display, "reason": reason, "count": n}
                for (code, display, reason), n in self.unmapped.most_common()
            ],
        }


def _open_text(path: Path) -> Any:
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else path.open(encoding="utf-8")


def medication_codings(bundles: Path) -> Iterator[Coding]:
    """Every drug coding of every MedicationRequest; a concept with only ``text`` yields one text-only coding."""
    with _open_text(bundles) as lines:
        for line_no, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                bundle = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{bundles}:{line_no}: not a JSON bundle: {exc}") from exc
            for entry in bundle.get("entry", ()):
                resource = entry.get("resource", {})
                if resource.get("resourceType") != "MedicationRequest":
                    continue
                concept = resource.get("medicationCodeableConcept") or {}
                codings = concept.get("coding") or []
                for coding in codings:
                    yield Coding(coding.get("system"), coding.get("code"), coding.get("display") or concept.get("text"))
                if not codings and concept.get("text"):
                    yield Coding(None, None, concept["text"])


def measure_coverage(lexicon: DrugLexicon, bundles: Path) -> CoverageReport:
    report = CoverageReport()
    for coding in medication_codings(bundles):
        if coding.code is None and coding.display is None:
            report.add(
                DrugMatch(None, None, (), MatchType.UNMAPPED, 0.0, "coding has neither code nor display"), coding
            )
            continue
        report.add(normalize_drug(lexicon, text=coding.display, code=coding.code, system=coding.system), coding)
    return report


def time_calls(lexicon: DrugLexicon, codings: list[Coding], repeat: int = 20) -> dict[str, float]:
    """Median and p99 microseconds per :func:`normalize_drug` call, code+text and text alone."""
    out: dict[str, float] = {}
    # A long-lived server freezes its compiled index once; without this, collections of the
    # big lexicon dicts land in random calls and dominate the p99.
    gc.collect()
    gc.freeze()
    for label, with_code in (("code_and_text", True), ("text_only", False)):
        samples: list[float] = []
        for _ in range(repeat):
            for c in codings:
                code = c.code if with_code else None
                if code is None and c.display is None:
                    continue
                started = time.perf_counter_ns()
                normalize_drug(lexicon, text=c.display, code=code, system=c.system if with_code else None)
                samples.append((time.perf_counter_ns() - started) / 1000)
        samples.sort()
        out[f"{label}_median_us"] = round(statistics.median(samples), 1)
        out[f"{label}_p99_us"] = round(samples[int(len(samples) * 0.99) - 1], 1)
    return out


def _print(report: CoverageReport, bundles: Path) -> None:
    print(f"MedicationRequest codings in {bundles}: {report.total}")
    print(f"mapped to >= 1 ingredient: {report.mapped} ({report.share_mapped:.2%}); partially: {report.partial}")
    for match_type, n in report.by_match_type.most_common():
        print(f"  {match_type:<16} {n:>6}  {n / report.total:.1%}")
    print(f"unmapped ({sum(report.unmapped.values())}):")
    for (code, display, reason), n in report.unmapped.most_common():
        print(f"  {n:>4} x {code} {display!r}: {reason}")


def main(argv: list[str] | None = None) -> int:
    from kgcds.cli.common import open_store
    from kgcds.settings import Settings
    from knowledge_index.drug_lexicon import load_or_build_drug_lexicon
    from ontology.schema import load_schema

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--store", default=None, help="store URI (default: KGCDS_STORE or the embedded store)")
    parser.add_argument("--bundles", type=Path, default=None, help="FHIR Bundles, one per line (.ndjson[.gz])")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--timing", action="store_true", help="also time normalize_drug per call (median, p99)")
    args = parser.parse_args(argv)
    settings = Settings(**({"store": args.store} if args.store else {}))
    bundles = args.bundles or settings.data_dir / DEFAULT_BUNDLES
    schema = load_schema()
    store = open_store(settings, schema)
    try:
        if not store.node_counts().get(Label.DRUG.value):
            print(f"{store.description} holds no drugs: run `kgcds load` first", file=sys.stderr)
            return 2
        lexicon, _cached = load_or_build_drug_lexicon(store, settings.home / "index-cache", schema)
    finally:
        store.close()
    report = measure_coverage(lexicon, bundles)
    result = report.to_json()
    if args.timing:
        result["timing"] = time_calls(lexicon, list(medication_codings(bundles)))
    if args.json:
        print(json.dumps(result, indent=2, ensure_ascii=False))
    else:
        _print(report, bundles)
        for name, value in result.get("timing", {}).items():
            print(f"  {name:<24} {value:>8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
