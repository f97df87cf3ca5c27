"""Check 6: CPIC level A gene-drug pairs with an actionable genotype/phenotype result."""

from __future__ import annotations

import re

from knowledge_index.pgx import PgxPair
from ontology.vocab import Severity
from rules.context import EvalContext, finding
from rules.findings import Finding
from rules.patient import GenotypeResult, MedicationEntry
from rules.ruleset import BUILTIN_VERSION
from rules.sources import dataset_version

RULE_ID = "kgcds.pgx.cpic"
ACTIONABLE_LEVELS = frozenset({"A"})
_MAJOR = ("poor metabolizer", "poor function", "positive")
_NORMAL = ("normal metabolizer", "normal function", "indeterminate", "negative")
# CPIC's wording when a phenotype changes nothing: "If considering X, use at standard dose".
_NO_CHANGE = re.compile(r"^(if considering [^,]*, )?(use|initiate)[^.]*\b(standard|label[- ]recommended)\b", re.I)


def check(ctx: EvalContext) -> list[Finding]:
    setting = ctx.ruleset.builtin(RULE_ID)
    if not setting.enabled:
        return []
    out: list[Finding] = []
    for draft in ctx.patient.drafts:
        for ingredient in draft.ingredient_ids:
            for pair in ctx.knowledge.pgx.pairs_for(ingredient):
                # Genotypes are read only for a drug with an actionable pair (most drugs have none).
                if pair.cpic_level not in ACTIONABLE_LEVELS:
                    continue
                for result in ctx.patient.genotypes:
                    if result.gene.upper() != pair.gene_symbol.upper() or not result.phenotype:
                        continue
                    phenotype = " ".join(result.phenotype.lower().split()).removeprefix(pair.gene_symbol.lower() + " ")
                    if any(phenotype.startswith(n) for n in _NORMAL):
                        continue
                    advice = pair.recommendation_for(result.phenotype)
                    if advice is None or _NO_CHANGE.match(advice):
                        continue
                    out.append(_finding(ctx, draft, ingredient, pair, result, advice))
    return out


def _finding(
    ctx: EvalContext, draft: MedicationEntry, ingredient: str, pair: PgxPair, result: GenotypeResult, advice: str
) -> Finding:
    setting = ctx.ruleset.builtin(RULE_ID)
    # Shown as CPIC words it ("Poor Metabolizer"), whatever spacing or gene prefix the result carried.
    phenotype = " ".join((result.phenotype or "").split())
    if phenotype.lower().startswith(pair.gene_symbol.lower() + " "):
        phenotype = phenotype[len(pair.gene_symbol) + 1 :]
    default = Severity.MAJOR if any(m in phenotype.lower() for m in _MAJOR) else Severity.MODERATE
    severity = setting.severity or default
    name = ctx.name(ingredient)
    detail = "\n".join(
        [
            f"**{draft.display}** (draft): {pair.gene_symbol} result affects {name} (CPIC level {pair.cpic_level}).",
            "",
            f"**Why for this patient:** genotype/phenotype result {result.display} → {pair.gene_symbol} {phenotype}.",
            "",
            f"**CPIC recommendation for {phenotype}:** {advice}",
            "",
            f"**Evidence:** CPIC guideline ({pair.guideline_url or 'cpicpgx.org'}); dataset {pair.source}.",
        ]
    )
    return finding(
        rule_id=RULE_ID,
        rule_version=BUILTIN_VERSION,
        kind="pharmacogenomic",
        severity=severity,
        interruptive=setting.interruptive if setting.interruptive is not None else True,
        draft=draft,
        other_ref=None,
        summary=f"{name.capitalize()}: {pair.gene_symbol} {phenotype} — {advice}",
        detail=detail,
        management=advice,
        source_label=f"CPIC guideline: {name} and {pair.gene_symbol}",
        source_url=pair.guideline_url,
        source_dataset=pair.source,
        source_version=dataset_version(pair.source),
        references=pair.references,
        suggestions=ctx.cancel_only(draft),
        dedupe_key=("pharmacogenomic", draft.ref, pair.gene_symbol.upper()),
    )
