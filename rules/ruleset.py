"""A validated, compiled rule set: rules indexed by the ids that can trigger them.

Built once per (re)load; :meth:`RuleSet.candidates` is what the engine calls per ingredient.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ontology.vocab import Severity
from rules.loader import RuleProblem, RuleSetError, load_overrides, load_rule, rule_files
from rules.schema import DrugMatch, Override, Rule

BUILTIN_CHECKS: dict[str, str] = {
    "kgcds.drug-drug": "drug-drug interactions from the interaction sources in the graph (ONC, ANSM, ...)",
    "kgcds.allergy.ingredient": "the draft contains an ingredient the patient is allergic to",
    "kgcds.allergy.group": "the draft belongs to the same allergy group as the patient's allergy",
    "kgcds.allergy.cross-sensitivity": "the draft's allergy group cross-reacts with the patient's allergy group",
    "kgcds.duplicate.ingredient": "the same ingredient is already ordered",
    "kgcds.duplicate.class": "another drug of the same therapeutic class is already ordered",
    "kgcds.pgx.cpic": "CPIC level A gene-drug pair with an actionable genotype/phenotype result",
}
BUILTIN_VERSION = "1.0.0"
DEFAULT_LIBRARY = Path(__file__).resolve().parent / "library"


@dataclass(frozen=True, slots=True)
class CompiledMatch:
    ingredients: frozenset[str]
    classes: frozenset[str]
    exclude: frozenset[str]
    keys: frozenset[str]
    """Ingredients and classes: what an ingredient's class set is tested against. A salt's class set holds
    its moiety (lithium for lithium carbonate), so a rule naming the moiety covers the salt."""

    @classmethod
    def of(cls, match: DrugMatch) -> CompiledMatch:
        ingredients, classes = frozenset(match.ingredients), frozenset(match.classes)
        return cls(ingredients, classes, frozenset(match.exclude_ingredients), ingredients | classes)

    def matches(self, ingredient_id: str, classes: frozenset[str]) -> str | None:
        """The id that matched (the ingredient, its moiety or one of its classes), or None."""
        if ingredient_id in self.exclude or (self.exclude and not self.exclude.isdisjoint(classes)):
            return None
        if ingredient_id in self.ingredients:
            return ingredient_id
        hit = self.keys & classes
        return min(hit) if hit else None

    def trigger_ids(self) -> Iterable[str]:
        yield from self.ingredients
        yield from self.classes


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    severity: Severity
    interruptive: bool
    match: CompiledMatch
    with_drug: CompiledMatch | None
    condition_codes: frozenset[str]
    condition_prefixes: tuple[str, ...]

    @property
    def id(self) -> str:
        return self.rule.id

    @classmethod
    def of(cls, rule: Rule, override: Override | None) -> CompiledRule:
        codes = rule.conditions.any_condition
        return cls(
            rule=rule,
            severity=override.severity if override and override.severity else rule.severity,
            interruptive=override.interruptive if override and override.interruptive is not None else rule.interruptive,
            match=CompiledMatch.of(rule.match),
            with_drug=CompiledMatch.of(rule.conditions.with_drug) if rule.conditions.with_drug else None,
            condition_codes=frozenset(c for c in codes if not c.endswith("*")),
            condition_prefixes=tuple(c[:-1] for c in codes if c.endswith("*")),
        )

    def condition_matches(self, code: str) -> bool:
        return code in self.condition_codes or code.startswith(self.condition_prefixes)


@dataclass(frozen=True, slots=True)
class BuiltinSetting:
    enabled: bool = True
    severity: Severity | None = None
    interruptive: bool | None = None


@dataclass(frozen=True, slots=True)
class RuleSet:
    rules: tuple[CompiledRule, ...]
    by_key: Mapping[str, tuple[CompiledRule, ...]]
    """Non drug-drug rules by each ingredient/class id in their ``match``."""
    drug_drug_by_key: Mapping[str, tuple[CompiledRule, ...]]
    """Drug-drug rules by each id on either side, so a pair is found from whichever drug is the draft."""
    builtins: Mapping[str, BuiltinSetting] = field(default_factory=dict)
    fingerprint: str = ""
    """Hash of the files it was built from; changes when any rule or override changes."""

    @classmethod
    def empty(cls) -> RuleSet:
        return cls((), {}, {})

    @classmethod
    def build(cls, rules: Iterable[Rule], overrides: Iterable[Override] = (), fingerprint: str = "") -> RuleSet:
        by_rule = {o.rule_id: o for o in overrides}
        compiled = tuple(
            CompiledRule.of(rule, by_rule.get(rule.id))
            for rule in rules
            if by_rule.get(rule.id) is None or by_rule[rule.id].enabled
        )
        by_key: dict[str, list[CompiledRule]] = defaultdict(list)
        ddi: dict[str, list[CompiledRule]] = defaultdict(list)
        for rule in compiled:
            if rule.with_drug is None:
                for key in rule.match.trigger_ids():
                    by_key[key].append(rule)
            else:
                for key in {*rule.match.trigger_ids(), *rule.with_drug.trigger_ids()}:
                    ddi[key].append(rule)
        builtins = {
            rule_id: BuiltinSetting(o.enabled, o.severity, o.interruptive)
            for rule_id, o in by_rule.items()
            if rule_id in BUILTIN_CHECKS
        }
        return cls(
            compiled,
            {k: tuple(v) for k, v in by_key.items()},
            {k: tuple(v) for k, v in ddi.items()},
            builtins,
            fingerprint,
        )

    def candidates(self, ingredient_id: str, classes: frozenset[str]) -> list[CompiledRule]:
        return _collect(self.by_key, ingredient_id, classes)

    def drug_drug_candidates(self, ingredient_id: str, classes: frozenset[str]) -> list[CompiledRule]:
        return _collect(self.drug_drug_by_key, ingredient_id, classes)

    def builtin(self, rule_id: str) -> BuiltinSetting:
        return self.builtins.get(rule_id, _DEFAULT_SETTING)

    @classmethod
    def load(cls, directory: Path = DEFAULT_LIBRARY, overrides_path: Path | None = None) -> RuleSet:
        """Validate every file; raise :class:`RuleSetError` listing all problems if any."""
        rules, overrides, problems, digest = read_rule_files(directory, overrides_path)
        if problems:
            raise RuleSetError(problems)
        return cls.build(rules, overrides, digest)


_DEFAULT_SETTING = BuiltinSetting()


def _collect(
    index: Mapping[str, tuple[CompiledRule, ...]], ingredient_id: str, classes: frozenset[str]
) -> list[CompiledRule]:
    found: dict[str, CompiledRule] = {}
    for rule in index.get(ingredient_id, ()):
        found[rule.id] = rule
    for class_id in classes:
        for rule in index.get(class_id, ()):
            found[rule.id] = rule
    return list(found.values())


def read_rule_files(
    directory: Path, overrides_path: Path | None
) -> tuple[list[Rule], list[Override], list[RuleProblem], str]:
    """Every rule and override, every problem (file and line), and a fingerprint of the inputs."""
    problems: list[RuleProblem] = []
    rules: list[Rule] = []
    digest = hashlib.sha256()
    if not directory.is_dir():
        return [], [], [RuleProblem(directory, 1, "rule directory not found")], ""
    seen: dict[str, Path] = {}
    for path in rule_files(directory):
        digest.update(path.read_bytes())
        rule, errors = load_rule(path)
        problems.extend(errors)
        if rule is None:
            continue
        if rule.id in seen:
            problems.append(RuleProblem(path, 1, f"id: {rule.id!r} is already used by {seen[rule.id]}"))
            continue
        if rule.id in BUILTIN_CHECKS:
            problems.append(RuleProblem(path, 1, f"id: {rule.id!r} is reserved for a built-in check"))
            continue
        seen[rule.id] = path
        rules.append(rule)
    overrides: list[Override] = []
    if overrides_path is not None:
        if not overrides_path.is_file():
            problems.append(RuleProblem(overrides_path, 1, "overrides file not found"))
        else:
            digest.update(overrides_path.read_bytes())
            parsed, errors = load_overrides(overrides_path)
            problems.extend(errors)
            if parsed is not None:
                for o in parsed.overrides:
                    if o.rule_id not in seen and o.rule_id not in BUILTIN_CHECKS:
                        problems.append(RuleProblem(overrides_path, 1, f"override names unknown rule {o.rule_id!r}"))
                overrides = list(parsed.overrides)
    return rules, overrides, problems, digest.hexdigest()[:16]
