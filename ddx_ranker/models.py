"""The engine's boundary types: what a caller sends and what each ranked disease carries back."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

AGE_RANGES = ("antenatal", "neonatal", "infant", "child", "adolescent", "adult", "older adult")


class PatientFindings(BaseModel):
    """Observed and excluded HPO terms, optionally age range, sex and known (causal or candidate) genes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    observed: tuple[str, ...] = Field(description="HPO CURIEs the patient shows, e.g. HP:0001250")
    excluded: tuple[str, ...] = Field(default=(), description="HPO CURIEs explicitly looked for and absent")
    age_range: str | None = Field(default=None, description=f"one of {', '.join(AGE_RANGES)}")
    sex: str | None = None
    genes: tuple[str, ...] = Field(default=(), description="gene symbols; used only when the caller asks for it")


class TermMatch(BaseModel):
    """One patient finding and the disease annotation it was matched to."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    finding: str
    finding_name: str
    annotation: str | None = Field(description="the disease's annotated term that explains the finding, if any")
    annotation_name: str | None = None
    match: str = Field(description="exact | more specific | related | none")
    log_lr: float


class ExpectedFinding(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str
    name: str
    frequency: float


class Explanation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    matched: tuple[TermMatch, ...]
    unexplained: tuple[TermMatch, ...] = Field(description="findings the disease does not account for")
    expected_absent: tuple[ExpectedFinding, ...] = Field(description="frequent features of the disease not reported")
    excluded_against: tuple[ExpectedFinding, ...] = Field(description="excluded findings the disease would predict")


class RankedDisease(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rank: int
    disease_id: str
    name: str
    score: float = Field(description="the ranker's score; higher is better")
    log_lr: float = Field(description="the likelihood-ratio baseline's log score")
    resnik: float = Field(description="average best-match Resnik similarity of the findings")
    probability: float | None = Field(default=None, description="calibrated post-test probability, if available")
    explanation: Explanation | None = None


class NextFinding(BaseModel):
    """A finding whose presence or absence best separates the leading candidates."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    term: str
    name: str
    frequencies: dict[str, float] = Field(description="disease id -> frequency of the finding in that disease")


class Differential(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    results: tuple[RankedDisease, ...]
    next_findings: tuple[NextFinding, ...] = ()
    unknown_terms: tuple[str, ...] = Field(default=(), description="input terms not in the ontology, ignored")
    ranker: str
