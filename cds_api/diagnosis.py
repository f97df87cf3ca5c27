"""``POST /diagnosis``: plain JSON findings in, the ranked differential with its explanations out.

The request is decoded by msgspec straight from the raw bytes (unknown fields refused, HPO ids and
bounds checked by the struct, so an error names the field); the work is the compiled
:class:`~ddx_ranker.engine.DdxEngine`, which never touches the store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

import msgspec
from pydantic import BaseModel, ConfigDict, Field

from cds_api.errors import Unprocessable, decode_body
from ddx_ranker.engine import DdxEngine
from ddx_ranker.models import Differential, NextFinding, PatientFindings, RankedDisease

MAX_TERMS = 500
MAX_TOP_K = 50

HpoId = Annotated[str, msgspec.Meta(pattern=r"^HP:[0-9]{7}$", description="an HPO term CURIE, e.g. HP:0001250")]
GeneSymbol = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9\-.@_/]{0,39}$", description="HGNC symbol")]


class DiagnosisRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Findings of one patient. ``observed`` must hold at least one term."""

    observed: Annotated[tuple[HpoId, ...], msgspec.Meta(min_length=1, max_length=MAX_TERMS)]
    excluded: Annotated[tuple[HpoId, ...], msgspec.Meta(max_length=MAX_TERMS)] = ()
    age_years: Annotated[float, msgspec.Meta(ge=0, le=130)] | None = None
    sex: Literal["male", "female"] | None = None
    genes: Annotated[tuple[GeneSymbol, ...], msgspec.Meta(max_length=100)] = ()
    """Known causal or candidate genes; when given, the ranking is gene-aware."""
    top_k: Annotated[int, msgspec.Meta(ge=1, le=MAX_TOP_K)] = 10


class RankerVersion(BaseModel):
    """Which ranker, model file and annotation release produced a differential."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ranker: str = Field(description="lr | resnik | learned")
    model: str | None = Field(description="the learned model's training stamp, if a model is loaded")
    annotations: str | None = Field(description="the HPO release the phenotype index was compiled from")

    @property
    def label(self) -> str:
        parts = [f"{self.ranker} ranker"]
        if self.model:
            parts.append(f"model {self.model}")
        if self.annotations:
            parts.append(f"HPO {self.annotations}")
        return ", ".join(parts)


class DiagnosisResponse(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    results: tuple[RankedDisease, ...] = Field(description="the differential, best first")
    next_findings: tuple[NextFinding, ...] = Field(description="findings that best separate the leading candidates")
    unknown_terms: tuple[str, ...] = Field(description="well-formed HPO ids that are not in the loaded ontology")
    age_range: str | None = Field(description="the age range the age was read as")
    gene_aware: bool
    version: RankerVersion


def age_range(years: float | None) -> str | None:
    """The ranges ``ddx_ranker.models.AGE_RANGES`` names (the HPO onset classes, coarsened)."""
    if years is None:
        return None
    for limit, name in ((28 / 365.25, "neonatal"), (1, "infant"), (12, "child"), (18, "adolescent"), (65, "adult")):
        if years < limit:
            return name
    return "older adult"


@dataclass(slots=True)
class Diagnosis:
    """The compiled engine plus its version stamp: shared by ``/diagnosis`` and the patient-view service."""

    engine: DdxEngine
    version: RankerVersion
    _decoder: msgspec.json.Decoder[DiagnosisRequest] = field(
        default_factory=lambda: msgspec.json.Decoder(DiagnosisRequest)
    )

    @classmethod
    def from_engine(cls, engine: DdxEngine) -> Diagnosis:
        model = engine.model.metadata if engine.model is not None else {}
        stamp = f"{model['trained_at']} (scikit-learn {model.get('sklearn', '?')})" if "trained_at" in model else None
        annotations = engine.index.metadata.get("source.hpo")
        return cls(engine, RankerVersion(ranker=engine.default_ranker, model=stamp, annotations=annotations))

    def differential(self, findings: PatientFindings, top_k: int) -> Differential:
        return self.engine.differential(findings, top_k=top_k, use_genes=bool(findings.genes))

    def diagnose(self, body: bytes) -> bytes:
        request = decode_body(self._decoder, body)
        overlap = sorted(set(request.observed) & set(request.excluded))
        if overlap:
            at = request.excluded.index(overlap[0])
            raise Unprocessable(f"excluded[{at}]: {overlap[0]} is also observed", f"excluded[{at}]")
        known = [t for t in request.observed if t in self.engine.index.term_index]
        if not known:
            raise Unprocessable(
                f"observed: none of {', '.join(request.observed[:5])} is a term of the loaded HPO release", "observed"
            )
        findings = PatientFindings(
            observed=request.observed,
            excluded=request.excluded,
            age_range=age_range(request.age_years),
            sex=request.sex,
            genes=request.genes,
        )
        differential = self.differential(findings, request.top_k)
        response = DiagnosisResponse(
            results=differential.results,
            next_findings=differential.next_findings,
            unknown_terms=differential.unknown_terms,
            age_range=findings.age_range,
            gene_aware=bool(findings.genes),
            version=self.version.model_copy(update={"ranker": differential.ranker}),
        )
        return response.model_dump_json().encode()
