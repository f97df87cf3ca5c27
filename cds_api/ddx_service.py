"""The ``patient-view`` differential-diagnosis service: HPO-coded findings in the record -> info cards.

One card per leading disease (summary, the explanation as markdown, a link to OMIM/Orphanet/DECIPHER),
and one more card listing the coded findings that could not be used, so a clinician sees when the
differential rests on part of the record. A record without phenotype findings gets no cards.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import msgspec

from cds_api.card_ids import CardIdMinter
from cds_api.card_models import Card, CardCoding, CardsResponse, IssuedCard, Link, Source
from cds_api.cards import new_card_uuid, truncate
from cds_api.diagnosis import Diagnosis, age_range
from cds_api.fhir_context import age_in_years
from cds_api.fhir_phenotypes import HPO_SYSTEM, PhenotypeExtractor, PhenotypeFindings
from cds_api.prefetch import PatientRecord, PrefetchTemplate
from cds_api.services import ServiceDefinition
from ddx_ranker import render
from ddx_ranker.models import Differential, PatientFindings, RankedDisease

DDX_SERVICE_ID = "differential-diagnosis-patient-view"
DDX_RULE_ID = "kgcds-ddx"
DDX_TOP = 5
RANKER_TOPIC_SYSTEM = "https://w3id.org/kgcds/ddx-ranker"
SOURCE_LABEL = "kgcds differential diagnosis (HPO annotations)"
SOURCE_URL = "https://hpo.jax.org/"
MAX_UNMAPPED_LISTED = 30

DDX_PREFETCH: tuple[PrefetchTemplate, ...] = (
    PrefetchTemplate("patient", "Patient/{{context.patientId}}", "Patient", None, required=True),
    # No clinical-status filter: refuted Conditions are excluded findings, which move the ranking.
    PrefetchTemplate("conditions", "Condition?patient={{context.patientId}}", "Bundle", "Condition", required=True),
    PrefetchTemplate(
        "observations",
        "Observation?patient={{context.patientId}}&code=" + HPO_SYSTEM + "|",
        "Bundle",
        "Observation",
        required=False,
    ),
)

DDX_SERVICE = ServiceDefinition(
    id=DDX_SERVICE_ID,
    hook="patient-view",
    title="Differential diagnosis (rare disease)",
    description=(
        "Ranks rare diseases (OMIM, Orphanet, DECIPHER) against the patient's HPO-coded Conditions and "
        "Observations (SNOMED CT or ICD-10-CM codes where the knowledge graph maps them to HPO); refuted or "
        "negative findings count against. Returns the top differential as info cards with the reasoning."
    ),
    required_context=("userId", "patientId"),
    prefetch=DDX_PREFETCH,
    usage_requirements=(
        "Send a JWT bearer signed by an allow-listed issuer (ES384 or RS384). Prefetch patient and conditions "
        "(observations optional), or send fhirServer with fhirAuthorization so they can be read."
    ),
)

LOG = logging.getLogger("kgcds.api.ddx")


@dataclass(frozen=True, slots=True)
class PatientViewResult:
    body: bytes
    issued: list[IssuedCard]
    findings: PhenotypeFindings


@dataclass(slots=True)
class PatientViewDiagnosis:
    diagnosis: Diagnosis
    extractor: PhenotypeExtractor
    top_k: int = DDX_TOP
    _encoder: msgspec.json.Encoder = field(default_factory=msgspec.json.Encoder)

    def run(self, record: PatientRecord, now: datetime, card_id: CardIdMinter | None = None) -> PatientViewResult:
        """``now``: the app's clock, which the patient's age is read against; ``card_id``: makes each card's
        uuid (the feedback store's signed ones), default a random uuid."""
        found = self.extractor.extract((*record.of("conditions"), *record.of("observations")))
        known = self.diagnosis.engine.index.term_index
        if not any(t in known for t in found.observed):
            # No differential to qualify, so no card: a card about unusable codes on every chart opening
            # would be noise. The count is logged (no identifiers) so unmapped vocabularies stay visible.
            if found.unmapped:
                LOG.info("patient-view: no usable HPO finding; %d code(s) without an HPO mapping", len(found.unmapped))
            return PatientViewResult(self._encoder.encode(CardsResponse(cards=())), [], found)
        patient = next(iter(record.of("patient")), None)
        sex = patient.gender if patient is not None and patient.gender in ("male", "female") else None
        # age against the diseases' onsets: the learned ranker reads it, only as a range
        years = age_in_years(patient.birthDate, now) if patient is not None else None
        findings = PatientFindings(
            observed=found.observed, excluded=found.excluded, age_range=age_range(years), sex=sex
        )
        differential = self.diagnosis.differential(findings, self.top_k)
        version = self.diagnosis.version.model or "baseline"

        def new_uuid() -> str:
            return new_card_uuid(card_id, DDX_RULE_ID, version, "info")

        cards = [
            self._disease_card(r, differential, new_uuid(), first=i == 0) for i, r in enumerate(differential.results)
        ]
        unused = self._unused_card(found, differential.unknown_terms, differential.ranker, new_uuid)
        if unused is not None:
            cards.append(unused)
        issued = [IssuedCard(c.uuid, DDX_RULE_ID, version, "info") for c in cards]
        return PatientViewResult(self._encoder.encode(CardsResponse(cards=tuple(cards))), issued, found)

    def _source(self, ranker: str) -> Source:
        version = self.diagnosis.version.model_copy(update={"ranker": ranker})
        return Source(
            label=SOURCE_LABEL,
            url=SOURCE_URL,
            topic=CardCoding(code=f"{DDX_RULE_ID}-{ranker}", system=RANKER_TOPIC_SYSTEM, display=version.label),
        )

    def _disease_card(self, result: RankedDisease, differential: Differential, card_uuid: str, first: bool) -> Card:
        detail = render.detail_markdown(result)
        if first:
            extra = render.next_findings_markdown(differential)
            detail = f"{detail}\n\n{extra}" if extra else detail
        url = render.disease_url(result.disease_id)
        links = (Link(label=f"{result.disease_id}: {truncate(result.name, 80)}", url=url),) if url else ()
        return Card(
            uuid=card_uuid,
            summary=truncate(render.summary(result)),
            indicator="info",
            source=self._source(differential.ranker),
            detail=detail,
            links=links,
        )

    def _unused_card(
        self, found: PhenotypeFindings, unknown_terms: Sequence[str], ranker: str, new_uuid: Callable[[], str]
    ) -> Card | None:
        lines: list[str] = []
        for u in found.unmapped[:MAX_UNMAPPED_LISTED]:
            code = f"{u.system}|{u.code}" if u.system or u.code else "(no code)"
            name = f" {u.display}" if u.display else ""
            lines.append(f"- {u.resource}: {code}{name}: {u.reason}")
        if len(found.unmapped) > MAX_UNMAPPED_LISTED:
            lines.append(f"- … and {len(found.unmapped) - MAX_UNMAPPED_LISTED} more")
        lines += [f"- {term}: not a term of the loaded HPO release" for term in unknown_terms]
        count = len(found.unmapped) + len(unknown_terms)
        if not count:
            return None
        return Card(
            uuid=new_uuid(),
            summary=truncate(f"Differential diagnosis: {count} recorded finding code(s) could not be used"),
            indicator="info",
            source=self._source(ranker),
            detail="These codes have no HPO mapping in the knowledge graph and were left out of the ranking:\n"
            + "\n".join(lines),
        )
