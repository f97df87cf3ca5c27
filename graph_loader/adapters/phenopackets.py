"""GA4GH Phenopackets v2 (JSON Lines, optionally gzipped) -> de-identified cases.

De-identification happens while parsing, so nothing identifying ever leaves this module:

* kept: observed and excluded HPO ids, diagnosed disease ids, causal gene symbols, sex, the
  age at last encounter as a coarse range, and the publication (PMID) — the grouping key that
  keeps one paper's cases on one side of a cross-validation split;
* dropped: names, labels and every free-text field, subject ids, all dates and timestamps,
  variants (genomic positions), measurements and the curator's ORCID;
* the case id is ``CASE:`` + a salted hash of the phenopacket id, so it is stable across
  loads but does not carry the paper's own patient label.

The published phenopacket id is kept on :class:`DeidentifiedCase` (not in the graph) because the
evaluation report must name the cases it scored.

A malformed line yields a :class:`PhenopacketError` naming the file, line and field; the
following lines are read as usual. The adapter is deliberately not in the default load: case
data in the graph must not leak into the evaluation of the ranker.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graph_loader.adapter import Row
from graph_loader.report import UnmappedReference
from graph_loader.rows import EdgeRow, NodeRow
from ontology.vocab import Label, RelType

AGE_RANGES = ("antenatal", "neonatal", "infant", "child", "adolescent", "adult", "older adult")
_ID_SALT = "kgcds-case-v1"
_DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T.*)?$")
_ONSET_RANGES = {
    "HP:0003577": "neonatal",  # congenital onset: present at birth
    "HP:0030674": "antenatal",
    "HP:0011460": "antenatal",
    "HP:0011461": "antenatal",
    "HP:0034197": "antenatal",
    "HP:0034198": "antenatal",
    "HP:0034199": "antenatal",
    "HP:0003623": "neonatal",
    "HP:0003593": "infant",
    "HP:0011463": "child",
    "HP:0003621": "adolescent",
    "HP:0003581": "adult",
    "HP:0011462": "adult",
    "HP:0003596": "adult",
    "HP:0003584": "older adult",
}
_SEXES = {"FEMALE": "female", "MALE": "male", "OTHER_SEX": "other", "UNKNOWN_SEX": "unknown"}


class PhenopacketFieldError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True, slots=True)
class PhenopacketError:
    """A line that could not be read as a phenopacket; the rest of the file is still read."""

    file: str
    line: int
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.reason}"


@dataclass(frozen=True, slots=True)
class DeidentifiedCase:
    case_id: str
    phenopacket_id: str
    publication: str
    observed: tuple[str, ...]
    excluded: tuple[str, ...]
    diagnoses: tuple[str, ...]
    genes: tuple[str, ...]
    age_range: str | None
    sex: str | None


def case_id_for(phenopacket_id: str) -> str:
    digest = hashlib.sha256(f"{_ID_SALT}:{phenopacket_id}".encode()).hexdigest()[:20]
    return f"CASE:{digest}"


def age_range_from_duration(duration: str) -> str:
    match = _DURATION.match(duration)
    if match is None or not any(match.groups()[:4]):
        raise ValueError(f"not an ISO 8601 duration: {duration!r}")
    years, months, weeks, days = (int(g) if g else 0 for g in match.groups()[:4])
    total_days = years * 365.25 + months * 30.44 + weeks * 7 + days
    if total_days < 28:
        return "neonatal"
    if total_days < 365.25:
        return "infant"
    age = total_days / 365.25
    if age < 12:
        return "child"
    if age < 18:
        return "adolescent"
    return "adult" if age < 65 else "older adult"


def parse_phenopacket(doc: Any) -> DeidentifiedCase:
    """One phenopacket (already JSON-decoded) -> a de-identified case; raises :class:`PhenopacketFieldError`."""
    if not isinstance(doc, dict):
        raise PhenopacketFieldError("(document)", "expected a JSON object")
    pid = doc.get("id")
    if not isinstance(pid, str) or not pid.strip():
        raise PhenopacketFieldError("id", "missing or not a string")
    observed: list[str] = []
    excluded: list[str] = []
    features = doc.get("phenotypicFeatures", [])
    if not isinstance(features, list):
        raise PhenopacketFieldError("phenotypicFeatures", "expected a list")
    for i, feature in enumerate(features):
        term = _curie(feature, ("type", "id"), f"phenotypicFeatures[{i}].type.id", "HP")
        is_excluded = feature.get("excluded", False)
        if not isinstance(is_excluded, bool):
            raise PhenopacketFieldError(f"phenotypicFeatures[{i}].excluded", "expected true or false")
        (excluded if is_excluded else observed).append(term)
    if not observed:
        raise PhenopacketFieldError("phenotypicFeatures", "no observed HPO term: nothing to rank from")
    diagnoses, genes = _diagnoses(doc)
    return DeidentifiedCase(
        case_id=case_id_for(pid),
        phenopacket_id=pid,
        publication=_publication(doc, pid),
        observed=tuple(dict.fromkeys(observed)),
        excluded=tuple(dict.fromkeys(excluded)),
        diagnoses=tuple(dict.fromkeys(diagnoses)),
        genes=tuple(dict.fromkeys(genes)),
        age_range=_age_range(doc.get("subject")),
        sex=_sex(doc.get("subject")),
    )


def _curie(obj: Any, path: tuple[str, ...], field: str, prefix: str) -> str:
    value = obj
    for key in path:
        if not isinstance(value, dict) or key not in value:
            raise PhenopacketFieldError(field, "missing")
        value = value[key]
    if not isinstance(value, str) or ":" not in value:
        raise PhenopacketFieldError(field, f"not a CURIE: {value!r}")
    if prefix and not value.startswith(f"{prefix}:"):
        raise PhenopacketFieldError(field, f"expected a {prefix}: term, got {value!r}")
    return value.strip()


def _diagnoses(doc: dict[str, Any]) -> tuple[list[str], list[str]]:
    diseases: list[str] = []
    genes: list[str] = []
    interpretations = doc.get("interpretations", [])
    if not isinstance(interpretations, list):
        raise PhenopacketFieldError("interpretations", "expected a list")
    for i, interp in enumerate(interpretations):
        diagnosis = interp.get("diagnosis") if isinstance(interp, dict) else None
        if diagnosis is None:
            continue
        diseases.append(_curie(diagnosis, ("disease", "id"), f"interpretations[{i}].diagnosis.disease.id", ""))
        for j, gi in enumerate(diagnosis.get("genomicInterpretations", [])):
            symbol = _gene_symbol(gi)
            if symbol is None and isinstance(gi, dict) and "gene" not in gi and "variantInterpretation" not in gi:
                raise PhenopacketFieldError(
                    f"interpretations[{i}].diagnosis.genomicInterpretations[{j}]", "neither gene nor variant"
                )
            if symbol:
                genes.append(symbol.upper())
    for i, disease in enumerate(doc.get("diseases", [])):
        if isinstance(disease, dict) and disease.get("excluded") is True:
            continue
        diseases.append(_curie(disease, ("term", "id"), f"diseases[{i}].term.id", ""))
    if not diseases:
        raise PhenopacketFieldError("interpretations[].diagnosis.disease.id", "no diagnosed disease")
    return diseases, genes


def _gene_symbol(gi: Any) -> str | None:
    if not isinstance(gi, dict):
        return None
    gene = gi.get("gene")
    if isinstance(gene, dict) and isinstance(gene.get("symbol"), str):
        return str(gene["symbol"])
    context = gi.get("variantInterpretation", {}).get("variationDescriptor", {}).get("geneContext", {})
    symbol = context.get("symbol") if isinstance(context, dict) else None
    return symbol if isinstance(symbol, str) else None


def _publication(doc: dict[str, Any], pid: str) -> str:
    for ref in doc.get("metaData", {}).get("externalReferences", []) or []:
        ref_id = ref.get("id") if isinstance(ref, dict) else None
        if isinstance(ref_id, str) and ref_id.upper().startswith("PMID:"):
            return "PMID:" + ref_id.split(":", 1)[1].strip()
    match = re.match(r"^PMID_(\d+)", pid)
    if match:
        return f"PMID:{match.group(1)}"
    # No publication named: the case is its own group, so it can never sit on both sides of a split.
    return f"UNPUBLISHED:{case_id_for(pid)}"


def _age_range(subject: Any) -> str | None:
    if not isinstance(subject, dict):
        return None
    when = subject.get("timeAtLastEncounter")
    if not isinstance(when, dict):
        return None
    try:
        if isinstance(when.get("age"), dict):
            return age_range_from_duration(str(when["age"].get("iso8601duration", "")))
    except ValueError as exc:
        raise PhenopacketFieldError("subject.timeAtLastEncounter.age.iso8601duration", str(exc)) from exc
    if isinstance(when.get("gestationalAge"), dict):
        return "antenatal"
    onset = when.get("ontologyClass")
    if isinstance(onset, dict):
        return _ONSET_RANGES.get(str(onset.get("id")))
    return None


def _sex(subject: Any) -> str | None:
    if not isinstance(subject, dict) or "sex" not in subject:
        return None
    return _SEXES.get(str(subject["sex"]), "unknown")


def read_phenopackets(path: Path) -> Iterator[DeidentifiedCase | PhenopacketError]:
    """Every line of a phenopackets JSONL(.gz) file, as a case or an error naming the line and field."""
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                doc = json.loads(line)
            except json.JSONDecodeError as exc:
                yield PhenopacketError(path.name, line_no, "(json)", f"invalid JSON: {exc.msg} at column {exc.colno}")
                continue
            try:
                yield parse_phenopacket(doc)
            except PhenopacketFieldError as exc:
                yield PhenopacketError(path.name, line_no, exc.field, exc.reason)


@dataclass(frozen=True)
class PhenopacketsAdapter:
    """Cases from a phenopackets file as Case nodes with HAS_FINDING and DIAGNOSED_WITH edges."""

    path: Path
    version: str = "v2"
    name: str = "phenopackets"

    def rows(self) -> Iterator[Row]:
        tag = f"{self.name}@{self.version}"
        for item in read_phenopackets(self.path):
            if isinstance(item, PhenopacketError):
                yield UnmappedReference(origin=f"{self.name}:{item.line}", value=item.field, reason=item.reason)
                continue
            origin = f"{self.name}:{item.case_id}"
            props: dict[str, Any] = {"publication": item.publication, "sources": [tag]}
            if item.age_range is not None:
                props["age_range"] = item.age_range
            if item.sex is not None:
                props["sex"] = item.sex
            if item.genes:
                props["genes"] = list(item.genes)
            yield NodeRow(Label.CASE, item.case_id, props, origin)
            for term in item.observed:
                yield EdgeRow(RelType.HAS_FINDING, item.case_id, term, {"source": tag, "excluded": False}, origin)
            for term in item.excluded:
                yield EdgeRow(RelType.HAS_FINDING, item.case_id, term, {"source": tag, "excluded": True}, origin)
            for disease in item.diagnoses:
                yield EdgeRow(RelType.DIAGNOSED_WITH, item.case_id, disease, {"source": tag}, origin)
