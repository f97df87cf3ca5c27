"""Hot reload of the rule set: an invalid rule set never replaces a valid one.

:meth:`RuleSetHolder.refresh` is cheap when nothing changed (it stats the files); the API
calls it from a background task, never from the request path. Swapping the engine is
one attribute assignment, so a request in flight keeps the engine it started with.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rules.engine import RulesEngine
from rules.findings import Finding
from rules.knowledge import EngineKnowledge
from rules.loader import RuleProblem, RuleSetError, rule_files
from rules.patient import PatientContext
from rules.ruleset import DEFAULT_LIBRARY, RuleSet

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    changed: bool
    """True when the files changed since the last look."""
    applied: bool
    """True when a new rule set replaced the old one."""
    problems: tuple[RuleProblem, ...] = ()


class ReloadingEngine:
    """An :class:`~rules.engine.Engine` whose rule set can be replaced at run time."""

    def __init__(self, knowledge: EngineKnowledge, ruleset: RuleSet, directory: Path, overrides: Path | None) -> None:
        self._knowledge = knowledge
        self._engine = RulesEngine(knowledge, ruleset)
        self._directory = directory
        self._overrides = overrides
        self._stamp = self._file_stamp()
        self._lock = threading.Lock()
        self.last_problems: tuple[RuleProblem, ...] = ()

    @classmethod
    def load(
        cls, knowledge: EngineKnowledge, directory: Path = DEFAULT_LIBRARY, overrides: Path | None = None
    ) -> ReloadingEngine:
        """The first load must succeed: raises :class:`RuleSetError` listing every problem."""
        return cls(knowledge, RuleSet.load(directory, overrides), directory, overrides)

    @property
    def ruleset(self) -> RuleSet:
        return self._engine.ruleset

    def evaluate(self, patient: PatientContext, now: datetime) -> list[Finding]:
        return self._engine.evaluate(patient, now)

    def _file_stamp(self) -> tuple[tuple[str, int, int], ...]:
        paths = rule_files(self._directory) if self._directory.is_dir() else []
        if self._overrides is not None and self._overrides.is_file():
            paths.append(self._overrides)
        stamp = []
        for path in paths:
            try:
                st = path.stat()
            except OSError:
                continue
            stamp.append((str(path), st.st_mtime_ns, st.st_size))
        return tuple(stamp)

    def refresh(self, force: bool = False) -> ReloadOutcome:
        """Reload when files changed; keep the current rule set if the new one has any problem."""
        with self._lock:
            stamp = self._file_stamp()
            if stamp == self._stamp and not force:
                return ReloadOutcome(changed=False, applied=False)
            self._stamp = stamp
            try:
                ruleset = RuleSet.load(self._directory, self._overrides)
            except RuleSetError as exc:
                self.last_problems = exc.problems
                log.error("rule reload refused, keeping rule set %s: %s", self.ruleset.fingerprint, exc)
                return ReloadOutcome(changed=True, applied=False, problems=exc.problems)
            self._engine = RulesEngine(self._knowledge, ruleset)
            self.last_problems = ()
            log.info("rule set reloaded: %d rules, fingerprint %s", len(ruleset.rules), ruleset.fingerprint)
            return ReloadOutcome(changed=True, applied=True)
