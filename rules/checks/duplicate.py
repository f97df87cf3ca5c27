"""Check 5: duplicate therapy — the same ingredient, or two drugs of one therapeutic class.

Only classes that mean "does the same job" count: FDA Established Pharmacologic Classes
and ATC level 4 (chemical/therapeutic subgroup, e.g. C09AA ACE inhibitors). Mechanism,
physiologic-effect and chemical-structure classes are left out: they pair drugs that
merely share a CYP enzyme or a ring system, which would be noise.
"""

from __future__ import annotations

from dataclasses import dataclass

from ontology.vocab import Severity
from rules.context import EvalContext, finding, pair_key
from rules.findings import Finding
from rules.patient import MedicationEntry
from rules.ruleset import BUILTIN_VERSION

SAME_INGREDIENT = "kgcds.duplicate.ingredient"
SAME_CLASS = "kgcds.duplicate.class"
STOPP_V2 = "O'Mahony D, et al. STOPP/START criteria version 2. Age Ageing 2015;44:213-8."


def therapeutic_classes(ctx: EvalContext, ingredient: str) -> frozenset[str]:
    return ctx.knowledge.therapeutic_classes.get(ingredient, frozenset())


def check(ctx: EvalContext) -> list[Finding]:
    out: list[Finding] = []
    for index, draft in enumerate(ctx.patient.drafts):
        # Depends only on the two ingredient sets and the rule settings: decided once per engine.
        pairs = ctx.pair_memo(SAME_CLASS, draft.ingredient_ids)
        for other, role in ctx.others_for(index):
            found = pairs.get(other.ingredient_ids, _UNSEEN)
            if found is None:  # the commonest answer, so asked first
                continue
            if other.ref == draft.ref or not other.ingredient_ids:
                continue
            if found is _UNSEEN:
                found = _duplicate(ctx, draft.ingredient_ids, other.ingredient_ids)
                ctx.remember_pair(pairs, other.ingredient_ids, found)
            if isinstance(found, _Duplicate):
                out.append(_finding(ctx, draft, other, role, found))
    return out


_UNSEEN = object()


@dataclass(frozen=True, slots=True)
class _Duplicate:
    rule_id: str
    ingredient: str
    """The draft's ingredient that duplicates."""
    class_id: str | None
    """The shared class; None when the ingredient itself is shared."""
    moiety: str | None = None
    """When the two are different salts of one substance (or a salt and the substance): that substance."""


def _duplicate(ctx: EvalContext, draft_ids: tuple[str, ...], other_ids: tuple[str, ...]) -> _Duplicate | None:
    if ctx.ruleset.builtin(SAME_INGREDIENT).enabled:
        shared = sorted(set(draft_ids) & set(other_ids))
        if shared:
            return _Duplicate(SAME_INGREDIENT, shared[0], None)
        for ingredient in draft_ids:
            for other in other_ids:
                moiety = ctx.knowledge.shared_moiety(ingredient, other)
                if moiety is not None:
                    return _Duplicate(SAME_INGREDIENT, ingredient, None, moiety)
    if not ctx.ruleset.builtin(SAME_CLASS).enabled:
        return None
    other_classes: set[str] = set()
    for ingredient in other_ids:
        other_classes |= therapeutic_classes(ctx, ingredient)
    for ingredient in draft_ids:
        common = therapeutic_classes(ctx, ingredient) & other_classes
        if common:
            return _Duplicate(SAME_CLASS, ingredient, min(common))
    return None


def _finding(
    ctx: EvalContext,
    draft: MedicationEntry,
    other: MedicationEntry,
    role: str,
    found: _Duplicate,
) -> Finding:
    rule_id, class_id = found.rule_id, found.class_id
    setting = ctx.ruleset.builtin(rule_id)
    severity = setting.severity or Severity.MODERATE
    name = ctx.name(found.ingredient)
    if found.moiety is not None:
        moiety = ctx.name(found.moiety)
        summary = f"Duplicate {moiety}: already ordered as {other.display}"
        why = f"{name} and {other.display} ({role}) are both {moiety}"
    elif class_id is None:
        summary = f"Duplicate {name}: already ordered as {other.display}"
        why = f"{name} is also in {other.display} ({role})"
    else:
        class_name = ctx.knowledge.class_name(class_id)
        summary = f"Duplicate therapy: {name} and {other.display} are both {class_name}"
        why = f"{name} and {other.display} ({role}) are both in the class {class_name} ({class_id})"
    management = "Confirm both are intended (e.g. a switch or a dose change); otherwise cancel one."
    interruptive = setting.interruptive if setting.interruptive is not None else True
    route: list[str] = []
    draft_site, other_site = ctx.local_site(draft), ctx.local_site(other)
    if (draft_site is None) != (other_site is None):
        # One on the skin or in the ear, the other systemic: the two do not add up in the blood. Two creams
        # of one drug still do, on the skin, so only a mixed pair is shown for information.
        local, site = (draft, draft_site) if draft_site else (other, other_site)
        note = f"**Route:** {local.display} is applied to the {site} and the other is not, so they do not add up"
        route = [f"{note} in the blood: shown for information only.", ""]
        summary = f"{summary} ({site} and systemic)"
        severity, interruptive = Severity.MINOR, False
    detail = "\n".join(
        [
            f"**{draft.display}** (draft) duplicates **{other.display}**.",
            "",
            *route,
            f"**Why for this patient:** {why}.",
            "",
            f"**Management:** {management}",
            "",
            f"**Evidence:** STOPP v2 A3 (any duplicate drug class prescription; {STOPP_V2}); class from the "
            "knowledge graph.",
        ]
    )
    return finding(
        rule_id=rule_id,
        rule_version=BUILTIN_VERSION,
        kind="duplicate-therapy",
        severity=severity,
        interruptive=interruptive,
        draft=draft,
        other_ref=other.ref,
        summary=summary,
        detail=detail,
        management=management,
        source_label="kgcds duplicate-therapy check (after STOPP v2 A3)",
        source_url=None,
        source_dataset="kgcds_duplicate_therapy@1",
        source_version="1",
        references=(STOPP_V2,),
        suggestions=ctx.cancel_only(draft),
        dedupe_key=pair_key(draft.ref, other.ref),
    )
