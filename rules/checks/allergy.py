"""Check 2: allergy by same ingredient, same allergy group, or a cross-reacting group.

A refuted or entered-in-error allergy never alerts; an inactive or resolved one neither.
High criticality raises the severity one tier.
"""

from __future__ import annotations

from dataclasses import dataclass

from knowledge_index.allergy import CrossReaction
from ontology.vocab import Severity
from rules.context import EvalContext, finding
from rules.findings import SEVERITY_RANK, Finding
from rules.patient import AllergyEntry, MedicationEntry
from rules.ruleset import BUILTIN_VERSION
from rules.sources import dataset_version

SILENT_VERIFICATION = frozenset({"refuted", "entered-in-error"})
SILENT_CLINICAL = frozenset({"inactive", "resolved"})
_CROSS_RISK_SEVERITY = {"high": Severity.MAJOR, "moderate": Severity.MODERATE, "low": Severity.MINOR}
ALLERGY_DATASET = "kgcds_allergy_groups@1"


@dataclass(frozen=True, slots=True)
class _Hit:
    rule_id: str
    severity: Severity
    ingredient: str
    why: str
    dataset: str
    cross: CrossReaction | None = None


def _raise(severity: Severity) -> Severity:
    return list(Severity)[max(SEVERITY_RANK[severity] - 1, 0)]


def alerting(allergy: AllergyEntry) -> bool:
    return allergy.verification_status not in SILENT_VERIFICATION and allergy.clinical_status not in SILENT_CLINICAL


def check(ctx: EvalContext) -> list[Finding]:
    out: list[Finding] = []
    allergies = [a for a in ctx.patient.allergies if alerting(a)]
    if not allergies:
        return out
    for draft in ctx.patient.drafts:
        for allergy in allergies:
            hits = [h for ingredient in draft.ingredient_ids for h in _enabled_hits(ctx, ingredient, allergy)]
            if hits:
                out.append(_finding(ctx, draft, allergy, hits))
    return out


def _enabled_hits(ctx: EvalContext, ingredient: str, allergy: AllergyEntry) -> tuple[_Hit, ...]:
    # Depends only on the ingredient and what the allergy names (not on the patient): decided once per engine.
    key = ("allergy", ingredient, allergy.ingredient_ids, allergy.class_ids)
    found = ctx.memo.get(key)
    if isinstance(found, tuple):
        return found
    allergy_groups = set(allergy.class_ids)
    for named in allergy.ingredient_ids:
        allergy_groups |= ctx.knowledge.allergy.groups_of(named)
    hits = tuple(h for h in _hits(ctx, ingredient, allergy, allergy_groups) if ctx.ruleset.builtin(h.rule_id).enabled)
    ctx.remember(key, hits)
    return hits


def _hits(ctx: EvalContext, ingredient: str, allergy: AllergyEntry, allergy_groups: set[str]) -> list[_Hit]:
    index = ctx.knowledge.allergy
    name = ctx.name(ingredient)
    hits: list[_Hit] = []
    if ingredient in allergy.ingredient_ids:
        hits.append(
            _Hit(
                "kgcds.allergy.ingredient",
                Severity.CONTRAINDICATED,
                ingredient,
                f"{name} is the substance recorded in the allergy",
                ALLERGY_DATASET,
            )
        )
    else:
        same = _same_substance(ctx, ingredient, allergy)
        if same is not None:
            hits.append(_Hit("kgcds.allergy.ingredient", Severity.CONTRAINDICATED, ingredient, same, ALLERGY_DATASET))
    draft_groups = index.groups_of(ingredient) | (ctx.classes_of(ingredient) & set(allergy.class_ids))
    for group in sorted(draft_groups & allergy_groups):
        hits.append(
            _Hit(
                "kgcds.allergy.group",
                Severity.MAJOR,
                ingredient,
                f"{name} belongs to the {index.name_of(group)} group, like the recorded allergy",
                index.membership_source.get(group, ALLERGY_DATASET),
            )
        )
    for group in sorted(draft_groups - allergy_groups):
        for cross in index.cross_reactions.get(group, ()):
            if cross.to_group in allergy_groups:
                hits.append(
                    _Hit(
                        "kgcds.allergy.cross-sensitivity",
                        _CROSS_RISK_SEVERITY.get(cross.risk, Severity.MINOR),
                        ingredient,
                        f"{name} is a {index.name_of(group)}; {index.name_of(cross.to_group)} allergy "
                        f"cross-reacts with it ({cross.risk} risk)",
                        cross.source,
                        cross,
                    )
                )
    return hits


def _same_substance(ctx: EvalContext, ingredient: str, allergy: AllergyEntry) -> str | None:
    """Why ``ingredient`` is the allergy's substance in another form (lithium citrate for an allergy to
    lithium carbonate), or None: allergy screening works on the substance that acts, not on the salt."""
    name = ctx.name(ingredient)
    for named in allergy.ingredient_ids:
        moiety = ctx.knowledge.shared_moiety(ingredient, named)
        if moiety is None:
            continue
        if moiety == named:
            return f"{name} is a form of {ctx.name(moiety)}, the substance recorded in the allergy"
        if moiety == ingredient:
            return f"{name} is what acts in {ctx.name(named)}, the substance recorded in the allergy"
        return f"{name} and {ctx.name(named)} (recorded in the allergy) are both forms of {ctx.name(moiety)}"
    return None


def _finding(ctx: EvalContext, draft: MedicationEntry, allergy: AllergyEntry, hits: list[_Hit]) -> Finding:
    worst = min(hits, key=lambda h: SEVERITY_RANK[h.severity])
    setting = ctx.ruleset.builtin(worst.rule_id)
    severity = setting.severity or worst.severity
    raised = allergy.criticality == "high" and setting.severity is None
    if raised:
        severity = _raise(severity)
    status = allergy.verification_status or "unverified"
    # State the tier the card carries, after the criticality raise or a site override, never the raw one.
    lines = [
        f"**{draft.display}** (draft) and the recorded allergy **{allergy.display}** "
        f"(criticality {allergy.criticality or 'not stated'}, {status}): **{severity.value}**"
        + (
            f" (raised from {worst.severity.value} for high criticality)."
            if raised and severity != worst.severity
            else "."
        ),
        "",
        "**Why for this patient:** " + "; ".join(dict.fromkeys(h.why for h in hits)) + ".",
    ]
    if allergy.match_note:
        # Read from the record's wording, not an exact code: say so, the clinician can judge the reading.
        lines += ["", f"_Note: the allergy {allergy.display} was identified {allergy.match_note}._"]
    cross = worst.cross
    if cross and cross.description:
        lines += ["", f"**Cross-sensitivity:** {cross.description}"]
    management = (
        "Avoid unless the allergy history is clarified; if needed, give under supervision with a graded challenge."
        if worst.rule_id == "kgcds.allergy.cross-sensitivity"
        else "Do not give; choose an agent from an unrelated class."
    )
    lines += ["", f"**Management:** {management}", "", f"**Evidence:** allergy groups ({worst.dataset})."]
    kind_word = {"kgcds.allergy.ingredient": "allergy", "kgcds.allergy.group": "allergy group"}.get(
        worst.rule_id, "possible cross-sensitivity"
    )
    return finding(
        rule_id=worst.rule_id,
        rule_version=BUILTIN_VERSION,
        kind="allergy",
        severity=severity,
        interruptive=setting.interruptive if setting.interruptive is not None else True,
        draft=draft,
        other_ref=allergy.ref,
        summary=f"{ctx.name(worst.ingredient).capitalize()}: {kind_word} — patient has {allergy.display}",
        detail="\n".join(lines),
        management=management,
        source_label="kgcds allergy and cross-sensitivity groups",
        source_url=None,
        source_dataset=worst.dataset,
        source_version=dataset_version(worst.dataset),
        references=cross.references if cross else (),
        suggestions=ctx.suggestions(draft, worst.ingredient),
        dedupe_key=("allergy", draft.ref, allergy.ref),
    )
