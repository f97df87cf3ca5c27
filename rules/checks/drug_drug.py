"""Check 1: drug-drug interactions, ingredient- and class-level, one finding per pair of orders."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ontology.vocab import Severity
from rules.context import EvalContext, fit_summary, noted, pair_key
from rules.findings import SEVERITY_RANK, Finding, TemplateKey
from rules.knowledge import InteractionFact
from rules.patient import MedicationEntry
from rules.ruleset import BUILTIN_VERSION, CompiledRule
from rules.sources import dataset_version, label_for

RULE_ID = "kgcds.drug-drug"


@dataclass(frozen=True, slots=True)
class _RuleHit:
    rule: CompiledRule
    draft_ingredient: str
    other_ingredient: str
    matched_drug: str
    """The ingredient on the rule's ``match`` side: ``{drug}`` in its texts (may be the other order's)."""
    matched_with: str
    """The ingredient on the ``with_drug`` side: ``{other}``."""


def check(ctx: EvalContext) -> list[Finding]:
    out: list[Finding] = []
    for index, draft in enumerate(ctx.patient.drafts):
        # What a pair of ingredient sets yields depends only on the index and the rule set, both fixed
        # for this engine: analyse it once, then only the patient's names and refs are filled in.
        pairs = ctx.pair_memo(RULE_ID, draft.ingredient_ids)
        draft_site = ctx.local_site(draft)
        for other, role in ctx.others_for(index):
            pair = pairs.get(other.ingredient_ids, _UNSEEN)
            if pair is None:  # the commonest answer, so asked first
                continue
            if other.ref == draft.ref:
                continue
            if pair is _UNSEEN:
                pair = _analyse(ctx, draft.ingredient_ids, other.ingredient_ids)
                ctx.remember_pair(pairs, other.ingredient_ids, pair)
            if pair is not None:
                assert isinstance(pair, _PairCard)
                out.append(_render(ctx, pair, draft, draft_site, other, role))
    return out


_UNSEEN = object()


def _analyse(ctx: EvalContext, draft_ids: tuple[str, ...], other_ids: tuple[str, ...]) -> _PairCard | None:
    setting = ctx.ruleset.builtin(RULE_ID)
    facts: list[tuple[str, str, InteractionFact]] = []
    hits: list[_RuleHit] = []
    for a in draft_ids:
        classes_a = ctx.classes_of(a)
        partners_a = ctx.interactions_of(a)
        rules_a = ctx.ruleset.drug_drug_candidates(a, classes_a)
        for b in other_ids:
            if ctx.knowledge.same_substance(a, b):
                continue  # one substance twice (or a salt and its moiety) is duplicate therapy, not an interaction
            if setting.enabled:
                facts.extend((a, b, f) for f in partners_a.interactions_with(b))
            classes_b = ctx.classes_of(b)
            for rule in rules_a:
                assert rule.with_drug is not None  # drug-drug index only holds such rules
                forward = rule.match.matches(a, classes_a) and rule.with_drug.matches(b, classes_b)
                backward = rule.with_drug.matches(a, classes_a) and rule.match.matches(b, classes_b)
                if forward:
                    hits.append(_RuleHit(rule, a, b, a, b))
                elif backward:
                    hits.append(_RuleHit(rule, a, b, b, a))
    if not facts and not hits:
        return None
    return _pair_card(ctx, facts, hits)


@dataclass(frozen=True, slots=True)
class _Verdict:
    """What the card rests on: the winning pharmacist rule or the worst source statement."""

    rule_id: str
    rule_version: str
    severity: Severity
    interruptive: bool
    draft_ingredient: str
    summary: str
    management: str | None
    label: str
    url: str | None
    datasets: list[str]


def _decide(ctx: EvalContext, facts: list[tuple[str, str, InteractionFact]], hits: list[_RuleHit]) -> _Verdict:
    setting = ctx.ruleset.builtin(RULE_ID)
    worst_rule = min(hits, key=lambda h: SEVERITY_RANK[h.rule.severity], default=None)
    worst_fact = min(facts, key=lambda f: SEVERITY_RANK[f[2].severity], default=None)
    fact_severity = setting.severity or (worst_fact[2].severity if worst_fact else None)
    sources = sorted({f.source for _, _, f in facts})
    # A pharmacist rule wins ties: it is the site's reading of the evidence.
    if worst_rule is not None and (
        fact_severity is None or SEVERITY_RANK[worst_rule.rule.severity] <= SEVERITY_RANK[fact_severity]
    ):
        rule = worst_rule.rule
        names = _Values(drug=ctx.name(worst_rule.matched_drug), other=ctx.name(worst_rule.matched_with))
        return _Verdict(
            rule_id=rule.id,
            rule_version=rule.rule.version,
            severity=rule.severity,
            interruptive=rule.interruptive,
            draft_ingredient=worst_rule.draft_ingredient,
            summary=rule.rule.summary.format_map(names),
            management=rule.rule.management,
            label=rule.rule.source.label,
            url=rule.rule.source.url,
            datasets=[rule.rule.source.dataset, *sources],
        )
    assert worst_fact is not None and fact_severity is not None
    a, b, fact = worst_fact
    interruptive = (
        setting.interruptive if setting.interruptive is not None else any(f.interruptive for _, _, f in facts)
    )
    # Every source says "show passively" (ONC non-interruptive): keep it at the info tier.
    severity = Severity.MINOR if not interruptive and setting.severity is None else fact_severity
    label, url = label_for(fact.source)
    if len(sources) > 1:
        label = "; ".join(_unique(label_for(s)[0] for s in sources))
    return _Verdict(
        rule_id=RULE_ID,
        rule_version=BUILTIN_VERSION,
        severity=severity,
        interruptive=interruptive,
        draft_ingredient=a,
        summary=f"{ctx.name(a).capitalize()} + {ctx.name(b)}: {severity.value} interaction",
        management=fact.management or next((f.management for _, _, f in facts if f.management), None),
        label=label,
        url=url,
        datasets=sources,
    )


@dataclass(frozen=True, slots=True)
class _PairCard:
    """Everything a drug-drug card says that does not depend on the patient (cached per ingredient pair)."""

    verdict: _Verdict
    summary: str
    why_tail: str
    """The end of every card's detail for this pair, one shared string: the matched ingredients, classes and
    rules (the rest of the "Why for this patient" line), then the rule texts, what happens, mechanism,
    management and evidence."""
    source_dataset: str
    source_version: str
    references: tuple[str, ...]
    template_key: TemplateKey | None
    """The findings' :attr:`~rules.findings.Finding.template_key` when the drug is used systemically; None
    when ``why_tail`` ends in white space (a stripped detail would not end with it)."""
    local_key: TemplateKey | None
    """The same when one drug is applied locally and the pair is shown for information only."""


def _template_key(
    verdict: _Verdict, severity: Severity, interruptive: bool, dataset: str, references: tuple[str, ...], tail: str
) -> TemplateKey:
    return TemplateKey.of(
        rule_id=verdict.rule_id,
        rule_version=verdict.rule_version,
        kind="drug-drug",
        severity=severity,
        interruptive=interruptive,
        management=verdict.management,
        source_label=verdict.label,
        source_url=verdict.url,
        source_dataset=dataset,
        references=references,
        tail=tail,
    )


def _pair_card(ctx: EvalContext, facts: list[tuple[str, str, InteractionFact]], hits: list[_RuleHit]) -> _PairCard:
    superseding = [h for h in hits if h.rule.rule.supersedes_index]
    if superseding:
        facts, hits = [], superseding
    verdict = _decide(ctx, facts, hits)
    # Worst first, so the card leads with what matters; lesser statements stay in the evidence line.
    facts = sorted(facts, key=lambda item: SEVERITY_RANK[item[2].severity])
    references = tuple(_unique(r for _, _, f in facts for r in f.references)) + tuple(
        _unique(r for h in hits for r in h.rule.rule.references)
    )
    why, tail = _detail_parts(ctx, facts, hits, verdict)
    why_tail = why + tail
    dataset = "; ".join(_unique(verdict.datasets))
    keyed = why_tail.rstrip() == why_tail
    return _PairCard(
        verdict=verdict,
        summary=fit_summary(verdict.summary),
        why_tail=why_tail,
        source_dataset=dataset,
        source_version="; ".join(_unique(dataset_version(d) for d in verdict.datasets)),
        references=references,
        template_key=(
            _template_key(verdict, verdict.severity, verdict.interruptive, dataset, references, why_tail)
            if keyed
            else None
        ),
        local_key=_template_key(verdict, Severity.MINOR, False, dataset, references, why_tail) if keyed else None,
    )


def _render(
    ctx: EvalContext, pair: _PairCard, draft: MedicationEntry, draft_site: str | None, other: MedicationEntry, role: str
) -> Finding:
    """``draft_site``: where the draft is applied when it is not systemic (``ctx.local_site(draft)``)."""
    verdict = pair.verdict
    severity, interruptive, summary = verdict.severity, verdict.interruptive, pair.summary
    where = "also being ordered" if role == "another draft order" else "on the active medication list"
    med, site = (draft, draft_site) if draft_site is not None else (other, ctx.local_site(other))
    route = ""
    template_key = pair.template_key
    if site is not None and (interruptive or severity is not Severity.MINOR):
        # The sources state interactions for systemic use; on the skin or in the ear little reaches the blood.
        # Shown, so the pair is not hidden, but only for information.
        route = (
            f"\n**Route:** {med.display} is applied to the {site}, so little of it reaches the blood: this "
            f"{severity} interaction, stated for systemic use, is shown for information only.\n"
        )
        summary = fit_summary(f"{summary} when systemic; here applied to the {site}")
        severity, interruptive = Severity.MINOR, False
        template_key = pair.local_key
    # Severity is a StrEnum: formatted, it is its value (``.value`` costs more, once per card).
    detail = (
        f"**{draft.display}** (draft) with **{other.display}** ({role}): **{verdict.severity}** interaction.\n"
        f"{route}\n**Why for this patient:** {other.display} is {where}; {pair.why_tail}"
    )
    tail = pair.why_tail
    if draft.match_note:
        detail, tail, template_key = noted(draft, detail), "", None
    # Built directly rather than through ``finding(...)``: binding its keywords costs more than the struct,
    # and this runs once per card of the commonest kind.
    return Finding(
        rule_id=verdict.rule_id,
        rule_version=verdict.rule_version,
        kind="drug-drug",
        severity=severity,
        interruptive=interruptive,
        draft_ref=draft.ref,
        other_ref=other.ref,
        summary=summary,
        detail_markdown=detail,
        management=verdict.management,
        source_label=verdict.label,
        source_url=verdict.url,
        source_dataset=pair.source_dataset,
        source_version=pair.source_version,
        references=pair.references,
        suggestions=ctx.suggestions(draft, verdict.draft_ingredient),
        dedupe_key=pair_key(draft.ref, other.ref),
        detail_tail=tail,
        template_key=template_key,
    )


def _detail_parts(
    ctx: EvalContext,
    facts: list[tuple[str, str, InteractionFact]],
    hits: list[_RuleHit],
    verdict: _Verdict,
) -> tuple[str, str]:
    descriptions = _unique(f.description for _, _, f in facts)[:3]
    told = " ".join(descriptions)
    # Some sources repeat the mechanism inside the description; say it once.
    mechanisms = [m for m in _unique(f.mechanism for _, _, f in facts[:3]) if m not in told]
    why = [_matched_text(ctx, a, b, f) for a, b, f in facts[:4]]
    why += [f"pharmacist rule `{h.rule.id}` ({h.rule.rule.title})" for h in hits]
    lines: list[str] = []
    if hits:
        lines += ["", *_unique(_fill_detail(ctx, h) for h in hits)]
    if descriptions:
        lines += ["", "**What happens:** " + " ".join(descriptions)]
    if mechanisms:
        lines += ["", "**Mechanism:** " + " ".join(mechanisms)]
    if verdict.management:
        lines += ["", f"**Management:** {verdict.management}"]
    evidence = [_evidence(f) for _, _, f in _by_source(facts)] + _unique(h.rule.rule.source.label for h in hits)
    lines += ["", "**Evidence:** " + "; ".join(evidence)]
    return "; ".join(why), "\n" + "\n".join(lines)


def _matched_text(ctx: EvalContext, a: str, b: str, fact: InteractionFact) -> str:
    def side(ingredient: str, matched: str) -> str:
        if matched == ingredient:
            return ctx.name(ingredient)
        return f"{ctx.name(ingredient)} (as {ctx.knowledge.covered_as(matched)})"

    # ``matched_a`` belongs to whichever of a/b the fact was looked up with first.
    return f"{side(a, fact.matched_a)} × {side(b, fact.matched_b)} per {label_for(fact.source)[0]}"


def _fill_detail(ctx: EvalContext, hit: _RuleHit) -> str:
    return hit.rule.rule.detail.format_map(_Values(drug=ctx.name(hit.matched_drug), other=ctx.name(hit.matched_with)))


class _Values(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def _evidence(fact: InteractionFact) -> str:
    label = label_for(fact.source)[0]
    stated = f", as stated: {_clip(fact.source_severity, 100)}" if fact.source_severity else ""
    passive = "" if fact.interruptive else ", non-interruptive"
    return f"{label} ({fact.source}{stated}{passive})"


def _by_source(facts: list[tuple[str, str, InteractionFact]]) -> list[tuple[str, str, InteractionFact]]:
    best: dict[str, tuple[str, str, InteractionFact]] = {}
    for item in facts:
        current = best.get(item[2].source)
        if current is None or SEVERITY_RANK[item[2].severity] < SEVERITY_RANK[current[2].severity]:
            best[item[2].source] = item
    return [best[k] for k in sorted(best)]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _unique(items: Iterable[str | None]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        if item:
            seen.setdefault(item, None)
    return list(seen)
