"""Which drugs may be offered in place of a draft: same indication, same route, same kind of job.

Sharing an indication in the graph alone is too loose (ibuprofen and caffeine share headache;
lisinopril and digoxin share heart failure), so the overlap a candidate needs grows as the
evidence that it "does the same job" weakens:

- same therapeutic class (FDA EPC or ATC level 4): indication overlap >= 0.2;
- same MeSH therapeutic-use action (a pharmacologic action named "... Agents", e.g. Antihypertensive
  Agents, with at most :data:`MAX_ACTION_MEMBERS` members; broad ones such as Cardiovascular Agents and
  mechanism ones such as Enzyme Inhibitors do not count): overlap >= 0.4;
- no shared class: overlap >= 0.7 (DrugCentral lists combination-product indications, so paracetamol
  and caffeine overlap 0.57).

Overlap is the Jaccard index of the two drugs' ``TREATS`` sets. Candidates must be orderable
alone by the draft's route (:meth:`IndicationIndex.alternatives_by_route`). The patient-specific
filters (interactions, allergies) are applied per evaluation in :meth:`EvalContext.alternatives`.

Class effects: a source's class list is national and incomplete (ANSM's NSAIDs leave out tolmetin,
not sold in France). When the draft interacts through a class that mostly coincides with one of its
therapeutic classes (:func:`class_effect_classes`), every drug of that therapeutic class is presumed
to share the interaction, listed or not, and none is offered as a replacement "with no interaction".
A mechanism class that only overlaps (strong CYP3A4 inhibitors among the macrolides) is no such
presumption: azithromycin stays a replacement for clarithromycin.
"""

from __future__ import annotations

from rules.knowledge import EngineKnowledge

MAX_CANDIDATES = 8
"""Alternatives screened per draft before giving up on a replacement."""
SAME_CLASS_OVERLAP = 0.2
SAME_ACTION_OVERLAP = 0.4
UNRELATED_OVERLAP = 0.7
MAX_ACTION_MEMBERS = 150
CLASS_EFFECT_SHARE = 0.5
"""A source class and a therapeutic class coincide when each has at least this share of its members in the other."""


def ranked_candidates(knowledge: EngineKnowledge, drug_id: str, route: str) -> tuple[str, ...]:
    """Candidates best first: by tier (class, action, none), then indication overlap."""
    own_classes = knowledge.therapeutic_classes.get(drug_id, frozenset())
    own_actions = _actions(knowledge, drug_id)
    tiered: list[tuple[int, float, str]] = []
    for candidate, overlap in knowledge.indications.alternatives_by_route(drug_id, route):
        if not own_classes.isdisjoint(knowledge.therapeutic_classes.get(candidate, ())):
            tier, needed = 0, SAME_CLASS_OVERLAP
        elif not own_actions.isdisjoint(_actions(knowledge, candidate)):
            tier, needed = 1, SAME_ACTION_OVERLAP
        else:
            tier, needed = 2, UNRELATED_OVERLAP
        if overlap >= needed:
            tiered.append((tier, -overlap, candidate))
    tiered.sort()
    return tuple(candidate for _, _, candidate in tiered[:MAX_CANDIDATES])


def class_effect_classes(knowledge: EngineKnowledge, drug_id: str, class_id: str) -> frozenset[str]:
    """The therapeutic classes of ``drug_id`` that the source class ``class_id`` mostly coincides with."""
    members = knowledge.classes.members_of(class_id)
    found: set[str] = set()
    for therapeutic in knowledge.therapeutic_classes.get(drug_id, frozenset()):
        group = knowledge.classes.members_of(therapeutic)
        shared = len(members & group)
        if members and group and min(shared / len(members), shared / len(group)) >= CLASS_EFFECT_SHARE:
            found.add(therapeutic)
    return frozenset(found)


def _actions(knowledge: EngineKnowledge, drug_id: str) -> frozenset[str]:
    return knowledge.therapeutic_actions.get(drug_id, frozenset())
