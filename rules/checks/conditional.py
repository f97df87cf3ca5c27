"""Checks 3, 4, 7 and pharmacist pharmacogenomic rules: YAML rules whose conditions read the patient.

Every condition a rule states must hold; the finding says which facts made it hold.
"""

from __future__ import annotations

from typing import Any

from rules.context import EvalContext, fill, fit_summary, noted
from rules.findings import Finding, TemplateKey
from rules.labs import compare, lab_value
from rules.patient import ConditionEntry, GenotypeResult, MedicationEntry
from rules.ruleset import CompiledRule
from rules.schema import GenotypeCondition
from rules.sources import dataset_version

TEST_LABELS = {"egfr": "eGFR", "creatinine": "creatinine", "potassium": "potassium", "sodium": "sodium"}
ACTIVE_CONDITION = frozenset({"active", "recurrence", "relapse"})
NEGATIVE_RESULTS = frozenset({"negative", "absent", "not detected", "non-carrier", "noncarrier"})


def check(ctx: EvalContext) -> list[Finding]:
    out: list[Finding] = []
    for draft in ctx.patient.drafts:
        for ingredient in draft.ingredient_ids:
            for rule, matched in _rules_for(ctx, ingredient):
                result = evaluate_conditions(ctx, rule)
                if result is not None:
                    out.append(_finding(ctx, rule, draft, ingredient, matched, *result))
    return out


def _rules_for(ctx: EvalContext, ingredient: str) -> tuple[tuple[CompiledRule, str], ...]:
    """The rules that name ``ingredient`` or one of its classes, with the id that matched (once per engine)."""
    key = ("conditional rules of", ingredient)
    found = ctx.memo.get(key)
    if isinstance(found, tuple):
        return found
    classes = ctx.classes_of(ingredient)
    pairs = ((rule, rule.match.matches(ingredient, classes)) for rule in ctx.ruleset.candidates(ingredient, classes))
    found = tuple((rule, matched) for rule, matched in pairs if matched is not None)
    ctx.remember(key, found)
    return found


def evaluate_conditions(ctx: EvalContext, rule: CompiledRule) -> tuple[dict[str, Any], list[str], str | None] | None:
    """Values for the texts, the reasons it fired, and the condition's ref; None when a condition fails."""
    patient = ctx.patient
    cond = rule.rule.conditions
    values: dict[str, Any] = {}
    why: list[str] = []
    other_ref: str | None = None
    if cond.age is not None:
        age = patient.age_years
        if age is None:
            return None
        if cond.age.min_years is not None and age < cond.age.min_years:
            return None
        if cond.age.max_years is not None and age > cond.age.max_years:
            return None
        values["age"] = f"{age:.0f}"
        why.append(f"age {age:.0f} years")
    if cond.pregnant is not None:
        if patient.pregnant is not cond.pregnant:
            return None
        why.append("the patient is pregnant" if cond.pregnant else "the patient is not pregnant")
    if cond.lab is not None:
        lab = cond.lab
        found = lab_value(lab.test, patient.labs, ctx.now, lab.max_age_days, patient.age_years, patient.sex)
        if found is None or not compare(found.value, lab.operator, lab.value):
            return None
        date = found.effective.date().isoformat() if found.effective else "undated"
        unit = found.unit or lab.unit or ""
        values.update(
            value=f"{found.value:g}",
            unit=unit,
            threshold=f"{lab.value:g}",
            operator=lab.operator,
            date=date,
            test=lab.test,
        )
        text = f"latest {TEST_LABELS.get(lab.test, lab.test)} {found.value:g} {unit} on {date} (LOINC {found.loinc})"
        if found.derivation:
            text += f", {found.derivation}"
        why.append(f"{text}, which is {lab.operator} {lab.value:g}")
    if cond.any_condition:
        hit = _matching_condition(ctx, rule, patient.conditions)
        if hit is None:
            return None
        values["condition"] = hit.display
        other_ref = hit.ref
        why.append(f"recorded condition {hit.display} ({', '.join(hit.codes[:2])})")
    if cond.genotype is not None:
        result = _matching_genotype(cond.genotype, patient.genotypes)
        if result is None:
            return None
        values.update(gene=result.gene, phenotype=result.phenotype or result.allele or result.display)
        why.append(f"genotype result {result.display}")
    return values, why, other_ref


def _matching_condition(
    ctx: EvalContext, rule: CompiledRule, conditions: tuple[ConditionEntry, ...]
) -> ConditionEntry | None:
    memo = ctx.memo
    for condition in conditions:
        if condition.clinical_status is not None and condition.clinical_status not in ACTIVE_CONDITION:
            continue
        # Whether a rule covers a set of codes does not depend on the patient: decided once per engine.
        key = ("condition codes", rule.id, condition.codes)
        covered = memo.get(key)
        if covered is None:
            covered = any(rule.condition_matches(code) for code in condition.codes)
            ctx.remember(key, covered)
        if covered:
            return condition
    return None


def _allele_key(text: str, gene: str) -> str:
    text = text.strip().upper().replace(" ", "")
    return text.removeprefix(gene.upper())


def _matching_genotype(cond: GenotypeCondition, results: tuple[GenotypeResult, ...]) -> GenotypeResult | None:
    wanted_phenotypes = {" ".join(p.lower().split()) for p in cond.phenotypes}
    wanted_alleles = {_allele_key(a, cond.gene) for a in cond.alleles}
    for result in results:
        if result.gene.upper() != cond.gene.upper():
            continue
        phenotype = " ".join((result.phenotype or "").lower().split())
        if phenotype in wanted_phenotypes or phenotype.removeprefix(cond.gene.lower() + " ") in wanted_phenotypes:
            return result
        if wanted_alleles and result.allele and phenotype not in NEGATIVE_RESULTS:
            reported = _allele_key(result.allele, cond.gene)
            if any(a in reported for a in wanted_alleles):
                return result
    return None


def _finding(
    ctx: EvalContext,
    rule: CompiledRule,
    draft: MedicationEntry,
    ingredient: str,
    matched: str,
    values: dict[str, Any],
    why: list[str],
    other_ref: str | None,
) -> Finding:
    spec = rule.rule
    values = {"drug": ctx.name(ingredient), **values}
    via = "" if matched == ingredient else f" (covered as {ctx.knowledge.covered_as(matched)})"
    lines = [
        f"**{draft.display}** (draft): {spec.title}.",
        "",
        f"**Why for this patient:** {ctx.name(ingredient)}{via} is ordered; " + "; ".join(why) + ".",
        "",
        fill(spec.detail, values) or "",
    ]
    management = fill(spec.management, values)
    tail, template_key = _tail(ctx, rule, management)
    # Same key as the CPIC index check, so a pharmacist rule and CPIC on one gene give one card.
    key_other = other_ref or (str(values["gene"]).upper() if "gene" in values else spec.id)
    detail = "\n".join(lines) + tail
    if draft.match_note:
        detail, template_key = noted(draft, detail), None
    # Built directly, as drug-drug findings are: ``finding(...)``'s keywords cost more than the struct.
    return Finding(
        rule_id=spec.id,
        rule_version=spec.version,
        kind=spec.kind,
        severity=rule.severity,
        interruptive=rule.interruptive,
        draft_ref=draft.ref,
        other_ref=other_ref,
        summary=fit_summary(fill(spec.summary, values) or spec.title),
        detail_markdown=detail,
        management=management,
        source_label=spec.source.label,
        source_url=spec.source.url,
        source_dataset=spec.source.dataset,
        source_version=dataset_version(spec.source.dataset),
        references=tuple(spec.references),
        suggestions=ctx.cancel_only(draft),
        dedupe_key=(spec.kind, draft.ref, str(key_other)),
        detail_tail="" if template_key is None else tail,
        template_key=template_key,
    )


def _tail(ctx: EvalContext, rule: CompiledRule, management: str | None) -> tuple[str, TemplateKey | None]:
    """The end of the detail (management, evidence) and, when the management text is the rule's own (no
    patient values filled in), the findings' template key; None otherwise. Once per rule and engine."""
    spec = rule.rule
    static = management == spec.management
    memo_key = ("conditional tail", rule.id)
    found = ctx.memo.get(memo_key) if static else None
    if isinstance(found, tuple):
        return found
    lines = ["", f"**Management:** {management}"] if management else []
    lines += ["", f"**Evidence:** {spec.source.label} — rule `{spec.id}` v{spec.version}."]
    if spec.references:
        lines[-1] += " " + "; ".join(spec.references)
    tail = "\n" + "\n".join(lines)
    if not static or tail.rstrip() != tail:
        return tail, None
    key = TemplateKey.of(
        rule_id=spec.id,
        rule_version=spec.version,
        kind=spec.kind,
        severity=rule.severity,
        interruptive=rule.interruptive,
        management=management,
        source_label=spec.source.label,
        source_url=spec.source.url,
        source_dataset=spec.source.dataset,
        references=tuple(spec.references),
        tail=tail,
    )
    found = (tail, key)
    ctx.remember(memo_key, found)
    return found
